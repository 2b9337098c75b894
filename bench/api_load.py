"""Load on /api/ask: N simultaneous clients, each asking M questions, over loopback only.

    python bench/api_load.py                      # starts `python app.py` on a free port over index/
    python bench/api_load.py --url http://127.0.0.1:7860 --clients 20 --per-client 10

Every answer is checked against the answer the server gave the same question
when asked alone (same quotes, same order) and against an expected phrase, so
the report says both how fast and whether answers stay correct under load.
Prints p50/p95/max latency and throughput; `--json` prints one object.
Bounded: at most MAX_REQUESTS requests, each with a timeout, loopback URLs only.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_REQUESTS = 2_000
QUESTIONS = (
    ("How many people were killed in Belgorod?", "killed 18 people"),
    ("Who refused to take part in the Security Council meeting?", "Czech envoy refused"),
    ("What did Guterres say about attacks on civilians?", "violate international humanitarian law"),
    ("How many people were injured in the Russian rocket and drone attack?", "injured 134 others"),
)
"""Questions about the seed article (in corpus/), each with a phrase its answer must quote."""


@dataclass(frozen=True, kw_only=True)
class LoadReport:
    clients: int
    per_client: int
    requests: int
    failed: int
    wrong: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    seconds: float
    requests_per_second: float


def ask(url: str, question: str, timeout: float) -> dict:
    body = json.dumps({"question": question}).encode()
    request = urllib.request.Request(f"{url}/api/ask", data=body, method="POST",
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def quoted(answer: dict) -> list[tuple[str, int, int]]:
    return [(quote["doc_id"], quote["start"], quote["end"]) for quote in answer["quotes"]]


def run_load(url: str, *, clients: int = 20, per_client: int = 10, timeout: float = 120.0) -> LoadReport:
    """Ask from `clients` threads at once, `per_client` questions each, and check every answer."""
    if clients * per_client > MAX_REQUESTS:
        raise SystemExit(f"at most {MAX_REQUESTS} requests per run")
    expected = {}
    for question, phrase in QUESTIONS:
        alone = ask(url, question, timeout)
        if not any(phrase in quote["text"] for quote in alone["quotes"]):
            raise SystemExit(f"the index does not answer {question!r} with {phrase!r}: "
                             "run against an index of corpus/")
        expected[question] = quoted(alone)
    latencies: list[float] = []
    failures: list[str] = []
    wrong: list[str] = []
    lock = threading.Lock()
    start_line = threading.Barrier(clients)

    def client(number: int) -> None:
        start_line.wait()
        for turn in range(per_client):
            question = QUESTIONS[(number + turn) % len(QUESTIONS)][0]
            started = time.perf_counter()
            try:
                answer = ask(url, question, timeout)
            except Exception as error:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    failures.append(f"{question}: {error}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if quoted(answer) != expected[question]:
                    wrong.append(question)

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    ordered = sorted(latencies) or [0.0]
    return LoadReport(
        clients=clients, per_client=per_client, requests=clients * per_client,
        failed=len(failures), wrong=len(wrong), p50_ms=round(statistics.median(ordered), 1),
        p95_ms=round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        max_ms=round(ordered[-1], 1), seconds=round(seconds, 2),
        requests_per_second=round(len(latencies) / seconds, 1) if seconds else 0.0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_app(index: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "app.py", "--index", str(index), "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"python app.py exited with status {process.returncode}")
        try:
            urllib.request.urlopen(f"{url}/api/health", timeout=5).close()
            return process, url
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit("the app did not start within 300 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running app (loopback only); default: start one")
    parser.add_argument("--index", type=Path, default=ROOT / "index", help="index for the started app")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.url and urllib.parse.urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("--url must be a loopback address (127.0.0.1 or localhost)")
    process, url = (None, args.url.rstrip("/")) if args.url else start_app(args.index)
    try:
        report = run_load(url, clients=args.clients, per_client=args.per_client)
    finally:
        if process:
            process.terminate()
            process.wait(timeout=30)
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        print(f"{report.requests} requests from {report.clients} clients at once: "
              f"p50 {report.p50_ms:.0f} ms, p95 {report.p95_ms:.0f} ms, max {report.max_ms:.0f} ms, "
              f"{report.requests_per_second:.1f} answers/s; {report.failed} failed, "
              f"{report.wrong} differed from the answer given alone")
    if report.failed or report.wrong:
        sys.exit(1)


if __name__ == "__main__":
    main()
