"""`conflict-qa build` and `stats` as a user runs them: real subprocesses, real exit codes."""

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.index.store import current_version, load_index

ROOT = Path(__file__).resolve().parents[1]
CONFLICT_NEWS = ROOT.parent / "shared" / "data" / "conflict-news" / "conflict_news.jsonl.gz"
SEED = ROOT / "corpus" / "jurist-2023-12-belgorod-cluster-munitions.md"
"""One small document: corpus/ also ships the 3,276-item archive, minutes to embed."""


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("index")
    result = run_cli("build", "--corpus", str(SEED), "--index", str(index_dir), "--json")
    assert result.returncode == 0, result.stderr
    return index_dir


def test_build_reports_counts_as_json(small_index):
    result = run_cli("build", "--corpus", str(SEED), "--index", str(small_index), "--json")
    report = json.loads(result.stdout)
    for key in ("documents", "chunks", "sentences", "added", "updated", "removed", "unchanged", "embedded_texts", "seconds"):
        assert key in report
    assert report["documents"] == 1 and report["unchanged"] == 1 and report["embedded_texts"] == 0


def test_progress_bar_on_a_terminal_only(tmp_path):
    """Under a pseudo-terminal the build shows a progress bar; piped, it prints none."""
    pty = pytest.importorskip("pty")
    command = f"stty rows 40 cols 100; {sys.executable} -m assistant build --corpus {SEED} --index {tmp_path / 'tty'}"
    output = bytearray()

    def read(fd: int) -> bytes:
        data = os.read(fd, 4096)
        output.extend(data)
        return data

    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.execvp("sh", ["sh", "-c", command])
    try:
        while True:
            read(fd)
    except OSError:
        pass
    os.waitpid(pid, 0)
    assert "Embedding: 100%" in output.decode("utf-8", "replace")
    piped = run_cli("build", "--corpus", str(SEED), "--index", str(tmp_path / "piped"))
    assert piped.returncode == 0 and "Embedding" not in piped.stderr


def test_stats_shows_sources_dates_and_model(small_index):
    summary = json.loads(run_cli("stats", "--index", str(small_index), "--json").stdout)
    assert summary["sources"] == {"JURIST": 1}
    assert summary["published"]["first"] == "2023-12-31"
    assert summary["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert summary["bytes"] > 0
    text = run_cli("stats", "--index", str(small_index)).stdout
    assert "JURIST" in text and "2023-12-31" in text


def test_bad_lines_are_reported_and_skipped(tmp_path):
    corpus = tmp_path / "news.jsonl"
    corpus.write_text(
        json.dumps({"id": "ok", "text": "Two soldiers were wounded.", "source": "AP"}) + "\n"
        "{not json\n" + json.dumps({"id": "empty"}) + "\n",
        encoding="utf-8",
    )
    result = run_cli("build", "--corpus", str(corpus), "--index", str(tmp_path / "index"), "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["documents"] == 1
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith(f"{corpus}:2: ") for line in lines)
    assert any(line.startswith(f"{corpus}:3: ") for line in lines)
    assert "Traceback" not in result.stderr


def test_strict_build_fails_and_leaves_the_index_untouched(tmp_path, small_index):
    corpus = write_jsonl(tmp_path / "news.jsonl", [{"id": "x", "text": "Shelling continued."}, {"title": "no text"}])
    before = current_version(small_index)
    result = run_cli("build", "--corpus", str(corpus), "--index", str(small_index), "--strict")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert current_version(small_index) == before
    assert [d.id for d in load_index(small_index).documents] == ["jurist-2023-12-belgorod-cluster-munitions"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--corpus", "/no/such/place"], "no such file"),
        (["--corpus", "{empty}"], "no readable documents"),
        (["--model", "/no/such/model"], "built with model"),
    ],
)
def test_user_mistakes_give_one_error_line(tmp_path, small_index, args, message):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [a.replace("{empty}", str(empty)) for a in args]
    corpus = [] if "--corpus" in args else ["--corpus", str(SEED)]
    result = run_cli("build", *corpus, "--index", str(small_index), *args)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and message in result.stderr


def test_missing_index_stats_is_one_error_line(tmp_path):
    result = run_cli("stats", "--index", str(tmp_path / "none"))
    assert result.returncode == 1 and result.stderr.startswith("error: no index")


@pytest.mark.slow
def test_killed_build_leaves_the_previous_index_usable(tmp_path):
    """Kill a full rebuild while it embeds and again the moment it starts writing its first segment."""
    with gzip.open(CONFLICT_NEWS, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for _, line in zip(range(600), handle)]
    small = write_jsonl(tmp_path / "small.jsonl", records[:20])
    large = write_jsonl(tmp_path / "large.jsonl", records)
    index_dir = tmp_path / "index"
    assert run_cli("build", "--corpus", str(small), "--index", str(index_dir)).returncode == 0
    live = current_version(index_dir)
    segments = {p.name for p in (index_dir / "segments").iterdir()}

    def start_rebuild() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "assistant", "build", "--full", "--corpus", str(large), "--index", str(index_dir)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def when_writing_starts() -> bool:  # the first new segment folder (written under a temporary name)
        return any(p.name not in segments for p in (index_dir / "segments").iterdir())

    for kill_when in (lambda: time.monotonic() - started > 8, when_writing_starts):
        process = start_rebuild()
        started = time.monotonic()
        while process.poll() is None and not kill_when():
            time.sleep(0.005)
        assert process.poll() is None, "the build finished before it could be killed"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        assert current_version(index_dir) == live
        stats = run_cli("stats", "--index", str(index_dir), "--json")
        assert stats.returncode == 0 and json.loads(stats.stdout)["documents"] == 20
        assert len(load_index(index_dir).documents) == 20

    # The next build cleans up what the killed ones left and succeeds.
    result = run_cli("build", "--corpus", str(large), "--index", str(index_dir), "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["documents"] == 600
    assert len(list(index_dir.glob("v-*"))) == 2
    assert not [p for p in (index_dir / "segments").iterdir() if p.name.startswith(".")]  # no half-written segment


# ---------------------------------------------------------------- damaged indexes (issue 12 point 3, issue 10 verify)


def _copy(index_dir: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "index"
    shutil.copytree(index_dir, target)
    return target


@pytest.mark.parametrize("damage", ["non-UTF-8", "folder", "absolute"])
def test_a_damaged_pointer_is_one_line_everywhere_and_build_full_repairs_it(damage, small_index, tmp_path):
    index_dir = _copy(small_index, tmp_path)
    pointer = index_dir / "CURRENT"
    if damage == "non-UTF-8":
        pointer.write_bytes(b"\xff\xfe\x80\n")
    elif damage == "folder":
        pointer.unlink()
        pointer.mkdir()
    else:
        pointer.write_text(str(small_index / current_version(small_index)) + "\n")

    for args in (["stats"], ["ask", "How many people were killed in Belgorod?"], ["build", "--corpus", str(SEED)],
                 ["verify"]):
        result = run_cli(*args, "--index", str(index_dir))
        assert result.returncode == 1, args
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), (args, result.stderr)
        assert "CURRENT" in result.stderr and "Traceback" not in result.stderr

    repaired = run_cli("build", "--full", "--corpus", str(SEED), "--index", str(index_dir), "--json")
    assert repaired.returncode == 0, repaired.stderr
    assert run_cli("verify", "--index", str(index_dir)).returncode == 0
    assert len(load_index(index_dir).documents) == 1


def test_verify_reports_a_sound_index_and_a_damaged_file(small_index, tmp_path):
    sound = run_cli("verify", "--index", str(small_index), "--json")
    report = json.loads(sound.stdout)
    assert sound.returncode == 0 and report["ok"] is True and report["files"] >= 5

    index_dir = _copy(small_index, tmp_path)
    (segment,) = (index_dir / "segments").iterdir()
    documents = segment / "documents.jsonl"
    documents.write_text(documents.read_text(encoding="utf-8").replace("Belgorod", "Belgorad"), encoding="utf-8")
    damaged = run_cli("verify", "--index", str(index_dir))
    assert damaged.returncode == 1 and "documents.jsonl does not match its checksum" in damaged.stderr
    stats = run_cli("ask", "How many people were killed in Belgorod?", "--index", str(index_dir))
    assert stats.returncode == 1 and stats.stderr.count("\n") == 1 and "damaged" in stats.stderr


def test_a_full_disk_during_a_build_is_one_line(small_index, tmp_path):
    index_dir = _copy(small_index, tmp_path)
    live = current_version(index_dir)
    script = (
        "import errno, sys, numpy\n"
        "def full(*args, **kwargs):\n"
        "    raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "numpy.savez = full\n"
        "from assistant.cli import main\n"
        f"main(['build', '--full', '--corpus', {str(SEED)!r}, '--index', {str(index_dir)!r}])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: cannot write the index")
    assert "disk is full" in result.stderr
    assert current_version(index_dir) == live and [p.name for p in index_dir.glob("v-*")] == [live]
