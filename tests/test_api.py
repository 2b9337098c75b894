"""The HTTP API and the server's boundaries, against `python app.py` on a tiny index.

What a client notices: /api/ask answers with the `ask --json` payload, bad input
gets a one-line error, CORS admits only the configured origin, no stored file can
be downloaded, the Gradio client API answers, a rebuild is picked up without a
restart or a failed request, and 20 clients at once all get the right answers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

BELGOROD = "How many people were killed in Belgorod?"
ANSWER_KEYS = {"question", "answered", "status", "message", "quotes", "nearest", "nearest_label", "sources",
               "comparison", "comparison_note", "elapsed_ms"}


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def post(url: str, payload: object) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def ask_get(base: str, **params: str) -> tuple[int, dict]:
    status, _, body = get(f"{base}/api/ask?{urllib.parse.urlencode(params, doseq=True)}")
    return status, json.loads(body)


def test_ask_by_get_and_post_returns_the_cli_json(app_server) -> None:
    status, by_get = ask_get(app_server.url, question=BELGOROD)
    status_post, by_post = post(f"{app_server.url}/api/ask", {"question": BELGOROD})

    assert status == status_post == 200
    assert set(by_get) == ANSWER_KEYS
    assert by_get["answered"] is True
    assert any("killed 18 people" in quote["text"] for quote in by_get["quotes"])
    assert by_get["quotes"] == by_post["quotes"]
    first = by_get["quotes"][0]
    assert first["link"].startswith("https://jurist.org/") and "#:~:text=" in first["link"]


def test_ask_filters_by_source_and_date(app_server) -> None:
    _, only_jurist = ask_get(app_server.url, question="How many people were killed in Kharkiv?",
                             sources="JURIST")
    _, too_early = ask_get(app_server.url, question=BELGOROD, until="2020")

    assert {quote["source"] for quote in only_jurist["quotes"] + only_jurist["nearest"]} <= {"JURIST"}
    assert too_early["answered"] is False and too_early["quotes"] == []


def test_bad_questions_get_one_line_errors(app_server) -> None:
    too_long, long_error = post(f"{app_server.url}/api/ask", {"question": "x" * 1001})
    bad_date, date_error = ask_get(app_server.url, question=BELGOROD, since="last week")
    no_question, missing = post(f"{app_server.url}/api/ask", {"sources": []})

    assert too_long == bad_date == no_question == 400
    assert "too long" in long_error["error"]
    assert "last week" in date_error["error"]
    assert "question" in missing["error"]


def test_sources_health_and_openapi(app_server) -> None:
    _, _, sources = get(f"{app_server.url}/api/sources")
    _, _, health = get(f"{app_server.url}/api/health")
    _, _, openapi = get(f"{app_server.url}/openapi.json")
    status, headers, docs = get(f"{app_server.url}/docs")

    assert "JURIST" in json.loads(sources)["sources"]
    assert json.loads(health)["status"] == "ok"
    paths = json.loads(openapi)["paths"]
    assert {"get", "post"} <= set(paths["/api/ask"]) and "/api/sources" in paths and "/api/health" in paths
    assert status == 200 and b"POST /api/ask" in docs and b"<script" not in docs


def test_cors_admits_only_the_configured_origin(app_server) -> None:
    _, allowed, _ = get(f"{app_server.url}/api/sources", {"Origin": app_server.allowed_api_origin})
    _, other, _ = get(f"{app_server.url}/api/sources", {"Origin": "http://elsewhere.example"})

    assert allowed.get("access-control-allow-origin") == app_server.allowed_api_origin
    assert "access-control-allow-origin" not in {key.lower() for key in other}


@pytest.mark.parametrize("route", [
    "/gradio_api/file={path}", "/file={path}", "/embed/gradio_api/file={path}",
    "/gradio_api/file/{path}", "/static/{relative}", "/assets/{relative}", "/cqa-static/{relative}",
])
def test_index_and_corpus_files_cannot_be_downloaded(app_server, route) -> None:
    stored = [next(app_server.index_dir.rglob("*.json*"), None), *app_server.corpus_dir.glob("*.md"),
              ROOT / "corpus" / "jurist-2023-12-belgorod-cluster-munitions.md"]
    for path in filter(None, stored):
        relative = "../" * 12 + str(path).lstrip("/")
        status, _, body = get(app_server.url + route.format(path=path, relative=relative))
        assert status >= 400, f"{route} served {path}"
        assert path.read_bytes()[:40] not in body


def test_gradio_client_api_answers(app_server) -> None:
    from gradio_client import Client

    client = Client(app_server.url + "/", verbose=False)
    answer = client.predict(BELGOROD, [], None, None, api_name="/ask")

    assert any("killed 18 people" in quote["text"] for quote in answer["quotes"])


def test_twenty_clients_at_once_all_get_the_right_answer(app_server) -> None:
    completed = subprocess.run([sys.executable, "bench/api_load.py", "--url", app_server.url,
                                "--clients", "20", "--per-client", "2", "--json"],
                               cwd=ROOT, capture_output=True, text=True, timeout=600)
    report = json.loads(completed.stdout)

    assert completed.returncode == 0, completed.stderr
    assert report["requests"] == 40 and report["failed"] == 0 and report["wrong"] == 0


NEW_DOCUMENT = """---
id: rebuild-odesa-grain
title: Drone strike destroys grain at Odesa port
source: Harbour Wire
url: https://harbour.example/odesa-grain
published: 2024-02-10
---
A drone strike on the port of Odesa destroyed 9,000 tonnes of grain on Saturday, the regional governor said. Firefighters worked through the night to contain the blaze at the terminal.
"""


def test_a_rebuild_is_picked_up_without_restart_or_failed_request(app_server) -> None:
    question = "How much grain was destroyed at the port of Odesa?"
    _, before = ask_get(app_server.url, question=question)
    assert not any("9,000 tonnes" in quote["text"] for quote in before["quotes"])

    statuses: list[int] = []
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            statuses.append(ask_get(app_server.url, question=BELGOROD)[0])

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        (app_server.corpus_dir / "odesa.md").write_text(NEW_DOCUMENT, encoding="utf-8")
        app_server.rebuild()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            _, after = ask_get(app_server.url, question=question)
            if any("9,000 tonnes" in quote["text"] for quote in after["quotes"]):
                break
        time.sleep(1.0)
    finally:
        stop.set()
        asker.join()

    assert any("9,000 tonnes of grain" in quote["text"] for quote in after["quotes"])
    assert "Harbour Wire" in json.loads(get(f"{app_server.url}/api/sources")[2])["sources"]
    assert statuses and set(statuses) == {200}


@pytest.mark.parametrize(("origins", "expected"), [
    (("*",), None),
    (("https://news.example", "https://blog.example"),
     "frame-ancestors 'self' https://news.example https://blog.example"),
])
def test_embed_origins_become_the_frame_ancestors_policy(origins, expected) -> None:
    import asyncio

    from assistant.web.server import GuardMiddleware, frame_ancestors

    async def page(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"chat"})

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    guard = GuardMiddleware(page, frame_ancestors=frame_ancestors(origins), mounts=("", "/embed"))
    request = {"type": "http", "path": "/embed/", "method": "GET", "headers": []}
    # Its own thread: Playwright's sync API may hold this thread's event loop.
    worker = threading.Thread(target=asyncio.run, args=(guard(request, None, send),))
    worker.start()
    worker.join()
    headers = dict(sent[0]["headers"])

    assert headers.get(b"content-security-policy", b"").decode() == (expected or "")
