"""Load on /api/ask: N simultaneous clients, each asking M questions, over loopback only.

    python bench/api_load.py                      # starts `python app.py` on a free port over index/
    python bench/api_load.py --url http://127.0.0.1:7860 --clients 20 --per-client 10
    python bench/api_load.py --url ... --questions bench/data/conflict_questions.jsonl --give-up 5

Every answer is checked against the answer the server gave the same question
when asked alone (same quotes, same order) and, for the seed questions, against
an expected phrase, so the report says both how fast and whether answers stay
correct under load. A client gives up on a request after `--give-up` seconds
(counted as `gave_up`); a 503 "busy" answer is counted apart (`busy`), as is any
other failure. Latency percentiles cover every request that got an HTTP answer
(200 or 503); `slowest_any_ms` is the longest wait of any request, answered or not.
Prints throughput (answers per second), p50/p95/max; `--json` prints one object.
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
import urllib.error
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
    give_up_s: float
    requests: int
    answered: int
    busy: int
    gave_up: int
    failed: int
    wrong: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    slowest_any_ms: float
    seconds: float
    requests_per_second: float


class BusyAnswer(Exception):
    """The server answered 503 (queue full or deadline passed)."""


def ask(url: str, question: str, timeout: float) -> dict:
    body = json.dumps({"question": question}).encode()
    request = urllib.request.Request(f"{url}/api/ask", data=body, method="POST",
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 503:
            raise BusyAnswer(error.headers.get("retry-after")) from None
        raise


def load_questions(path: Path | None) -> list[tuple[str, str | None]]:
    """(question, phrase its answer must quote or None): the seed questions, or a JSONL file's."""
    if path is None:
        return list(QUESTIONS)
    with open(path, encoding="utf-8") as handle:
        return [(json.loads(line)["question"], None) for line in handle if line.strip()]


def quoted(answer: dict) -> list[tuple[str, int, int]]:
    return [(quote["doc_id"], quote["start"], quote["end"]) for quote in answer["quotes"]]


def run_load(url: str, *, clients: int = 20, per_client: int = 10, timeout: float = 120.0,
             questions: list[tuple[str, str | None]] | None = None) -> LoadReport:
    """Ask from `clients` threads at once, `per_client` questions each, and check every answer.

    `timeout` is each client's give-up time per request.
    """
    if clients * per_client > MAX_REQUESTS:
        raise SystemExit(f"at most {MAX_REQUESTS} requests per run")
    questions = questions or list(QUESTIONS)
    expected = {}
    for question, phrase in questions:
        alone = ask(url, question, 120.0)
        if phrase and not any(phrase in quote["text"] for quote in alone["quotes"]):
            raise SystemExit(f"the index does not answer {question!r} with {phrase!r}: "
                             "run against an index of corpus/ or pass --questions")
        expected[question] = quoted(alone)
    latencies: list[float] = []
    answered_ms: list[float] = []
    slowest = [0.0]
    failures: list[str] = []
    wrong: list[str] = []
    counts = {"busy": 0, "gave_up": 0}
    lock = threading.Lock()
    start_line = threading.Barrier(clients)

    def client(number: int) -> None:
        start_line.wait()
        for turn in range(per_client):
            question = questions[(number * per_client + turn) % len(questions)][0]
            started = time.perf_counter()
            outcome = "answered"
            try:
                answer = ask(url, question, timeout)
            except BusyAnswer:
                outcome = "busy"
            except (TimeoutError, socket.timeout):
                outcome = "gave_up"
            except urllib.error.URLError as error:
                outcome = "gave_up" if isinstance(error.reason, (TimeoutError, socket.timeout)) else "failed"
                failure = str(error)
            except Exception as error:  # noqa: BLE001 - every failure is counted and reported
                outcome, failure = "failed", str(error)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                slowest[0] = max(slowest[0], elapsed)
                if outcome == "failed":
                    failures.append(f"{question}: {failure}")
                elif outcome in counts:
                    counts[outcome] += 1
                    if outcome == "busy":
                        latencies.append(elapsed)
                else:
                    latencies.append(elapsed)
                    answered_ms.append(elapsed)
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
        clients=clients, per_client=per_client, give_up_s=timeout, requests=clients * per_client,
        answered=len(answered_ms), busy=counts["busy"], gave_up=counts["gave_up"],
        failed=len(failures), wrong=len(wrong), p50_ms=round(statistics.median(ordered), 1),
        p95_ms=round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        max_ms=round(ordered[-1], 1), slowest_any_ms=round(slowest[0], 1), seconds=round(seconds, 2),
        requests_per_second=round(len(answered_ms) / seconds, 1) if seconds else 0.0)


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
    parser.add_argument("--give-up", type=float, default=120.0,
                        help="seconds a client waits for one answer before giving up (default 120)")
    parser.add_argument("--questions", type=Path, default=None,
                        help="JSONL file with a \"question\" per line (default: questions on the seed article)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.url and urllib.parse.urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("--url must be a loopback address (127.0.0.1 or localhost)")
    process, url = (None, args.url.rstrip("/")) if args.url else start_app(args.index)
    try:
        report = run_load(url, clients=args.clients, per_client=args.per_client, timeout=args.give_up,
                          questions=load_questions(args.questions))
    finally:
        if process:
            process.terminate()
            process.wait(timeout=30)
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        print(f"{report.requests} requests from {report.clients} clients at once "
              f"(each gives up after {report.give_up_s:g} s): {report.answered} answered, "
              f"{report.busy} busy (503), {report.gave_up} gave up, {report.failed} failed; "
              f"p50 {report.p50_ms:.0f} ms, p95 {report.p95_ms:.0f} ms, max {report.max_ms:.0f} ms, "
              f"slowest of all {report.slowest_any_ms:.0f} ms; {report.requests_per_second:.1f} answers/s; "
              f"{report.wrong} differed from the answer given alone")
    if report.failed or report.wrong or report.gave_up:
        sys.exit(1)


if __name__ == "__main__":
    main()
