"""`conflict-qa build --ray`: the index built on Ray is the index built locally.

Same documents, same chunk and sentence spans, vectors equal to within float tolerance,
same answers; in local mode (a Ray started by the build) and on a two-node cluster that
the test starts on this machine (`ray start --head`, then a second `ray start --address`,
one CPU each) and stops at the end. Needs the ray extra (`make test` installs it).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from answers_support import NEWS, ROOT, embedder

pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")

SAMPLE = ROOT / "tests" / "data" / "conflict_news_sample.jsonl"
QUESTIONS = ("How many people were killed in Sumy?", "Who entered the centre of Goma?",
             "What set the fuel depot in Port Sudan on fire?", "Where are the M23 rebels advancing?")
RAY = Path(sys.executable).with_name("ray")
START_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The ten conflict-news sample items and the six test reports, as one JSONL file."""
    path = tmp_path_factory.mktemp("ray-corpus") / "news.jsonl"
    records = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    records += [{"id": d.id, "title": d.title, "source": d.source, "url": d.url, "published": d.published,
                 "text": d.text} for d in NEWS]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def local_index(corpus, tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("local") / "index"
    build(corpus, index_dir)
    return index_dir


def build(corpus: Path, index_dir: Path, *ray: str, environment: dict[str, str] | None = None) -> dict:
    """`conflict-qa build --json` (with `--ray ...` when given) in a fresh process, as a user runs it.

    Also checks that Ray was imported only when asked for.
    """
    arguments = ["build", "--corpus", str(corpus), "--index", str(index_dir), "--json", *ray]
    script = ("import sys\nfrom assistant.cli import main\n"
              f"main({arguments!r}, standalone_mode=False)\n"
              "print('ray imported:', 'ray' in sys.modules, file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**(environment or os.environ), "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"ray imported: {bool(ray)}"
    return json.loads(result.stdout)


def assert_same_index(ray_index: Path, local_index: Path) -> None:
    from assistant.index.store import load_index
    from assistant.service import QAService
    from assistant.settings import Settings

    on_ray, local = load_index(ray_index), load_index(local_index)
    assert list(on_ray.documents) == list(local.documents) and len(local.documents) == 16
    for name in ("chunk_doc", "chunk_start", "chunk_end", "sentence_doc", "sentence_start", "sentence_end",
                 "sentence_chunk"):
        assert np.array_equal(getattr(on_ray, name), getattr(local, name)), name
    assert np.allclose(on_ray.chunk_vectors(), local.chunk_vectors(), atol=1e-5)
    assert np.allclose(on_ray.sentence_vectors(), local.sentence_vectors(), atol=1e-5)
    ask_ray = QAService(Settings(index_dir=ray_index), embedder=embedder())
    ask_local = QAService(Settings(index_dir=local_index), embedder=embedder())
    for question in QUESTIONS:
        got, expected = ask_ray.ask(question), ask_local.ask(question)
        assert [(q.doc_id, q.start, q.end, q.text) for q in got.quotes] == \
               [(q.doc_id, q.start, q.end, q.text) for q in expected.quotes]
        assert got.quotes, question  # each question is answered, so the comparison means something


def test_a_build_on_a_local_ray_gives_the_local_index(corpus, local_index, tmp_path):
    report = build(corpus, tmp_path / "index", "--ray")
    assert report["documents"] == 16 and report["added"] == 16
    actors = report["ray_actors"]
    assert sum(actor["documents"] for actor in actors) == 16 and all(a["texts_per_second"] > 0 for a in actors)
    assert_same_index(tmp_path / "index", local_index)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("", 0))
        return probe.getsockname()[1]


def node_ports() -> list[str]:
    """Distinct ports for every service of one node, so two nodes share this machine."""
    options = ("--node-manager-port", "--object-manager-port", "--dashboard-agent-listen-port",
               "--dashboard-agent-grpc-port", "--metrics-export-port", "--runtime-env-agent-port")
    return [f"{option}={free_port()}" for option in options]


@contextlib.contextmanager
def two_node_cluster() -> Iterator[tuple[str, dict[str, str]]]:
    """A head and a second node on this machine, one CPU each; yields the head's address and the
    environment to reach it with.

    Each `ray start --block` runs in a session of its own; at the end each session is sent
    SIGTERM (then SIGKILL after 30 s), which stops exactly the processes this test started.
    """
    from ray.util import get_node_ip_address

    temp_dir = Path(tempfile.mkdtemp(prefix="cqa-ray-", dir="/tmp"))
    port = free_port()
    address = f"{get_node_ip_address()}:{port}"  # the address Ray itself picks for this machine
    # A throw-away cluster reachable only from this machine: no token (Ray 2.60 enables token auth).
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0",
                   "RAY_AUTH_MODE": "disabled"}
    common = ["--num-cpus=1", "--block", "--disable-usage-stats"]
    nodes = []
    head_log, node_log = open(temp_dir / "head.log", "wb"), open(temp_dir / "node.log", "wb")
    try:
        nodes.append(subprocess.Popen(
            [str(RAY), "start", "--head", f"--port={port}", "--include-dashboard=false",
             f"--dashboard-port={free_port()}", f"--temp-dir={temp_dir}", *common, *node_ports()],
            env=environment, stdout=head_log, stderr=subprocess.STDOUT, start_new_session=True))
        wait_for_nodes(address, 1, environment, head_log.name)
        nodes.append(subprocess.Popen(
            [str(RAY), "start", f"--address={address}", *common, *node_ports()],
            env=environment, stdout=node_log, stderr=subprocess.STDOUT, start_new_session=True))
        wait_for_nodes(address, 2, environment, node_log.name)
        yield address, environment
    finally:
        for node in reversed(nodes):
            stop_session(node)
        head_log.close()
        node_log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)


def wait_for_nodes(address: str, count: int, environment: dict[str, str], log: str) -> None:
    """Until the cluster at `address` has `count` live nodes (at most START_TIMEOUT_S); the error
    quotes the end of the last node's `log` and of the last probe."""
    script = ("import ray, sys\n"
              f"ray.init(address={address!r}, logging_level='ERROR', log_to_driver=False)\n"
              "print(sum(1 for node in ray.nodes() if node['Alive']))\n")
    deadline = time.monotonic() + START_TIMEOUT_S
    seen = ""
    while time.monotonic() < deadline:
        try:
            probe = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                                   env=environment)
        except subprocess.TimeoutExpired as timeout:
            seen = f"probe timed out: {(timeout.stderr or b'')[-500:]!r}"
            continue
        lines = probe.stdout.strip().splitlines()
        if probe.returncode == 0 and lines and int(lines[-1]) >= count:
            return
        seen = probe.stderr[-500:]
        time.sleep(2)
    tail = Path(log).read_text(encoding="utf-8", errors="replace")[-1500:]
    raise TimeoutError(f"the Ray cluster at {address} did not reach {count} nodes in {START_TIMEOUT_S} s; "
                       f"last probe: {seen}; node log: {tail}")


def stop_session(process: subprocess.Popen) -> None:
    """SIGTERM to the node's session (`ray start` stops its node), then SIGKILL to what is left of it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    time.sleep(2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def test_a_build_on_a_two_node_cluster_gives_the_local_index(corpus, local_index, tmp_path):
    with two_node_cluster() as (address, environment):
        report = build(corpus, tmp_path / "index", "--ray", address, environment=environment)
    nodes = {actor["actor"].split("/")[1] for actor in report["ray_actors"] if actor["documents"]}
    assert len(nodes) == 2, report["ray_actors"]  # both nodes split and embedded documents
    assert_same_index(tmp_path / "index", local_index)
