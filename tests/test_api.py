"""The HTTP API and the server's boundaries, against `python app.py` on a tiny index.

What a client notices: /api/ask answers with the `ask --json` payload, bad input
gets a one-line error, CORS admits only the configured origin, no stored file can
be downloaded, the Gradio client API answers, a rebuild is picked up without a
restart or a failed request, and 20 clients at once all get the right answers.
"""

from __future__ import annotations

import json
import os
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
               "comparison", "comparison_note", "elapsed_ms", "page", "more", "sort"}


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


@pytest.mark.parametrize(("origins", "path", "expected"), [
    (("*",), "/embed/", "frame-ancestors *"),
    (("*",), "/", "frame-ancestors 'self'"),
    (("*",), "/docs", "frame-ancestors 'self'"),
    (("https://news.example", "https://blog.example"), "/embed/",
     "frame-ancestors 'self' https://news.example https://blog.example"),
    (("https://news.example",), "/", "frame-ancestors 'self'"),
])
def test_only_the_embed_view_may_be_framed_by_other_sites(origins, path, expected) -> None:
    import asyncio

    from assistant.web.server import GuardMiddleware, frame_ancestors

    async def page(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"chat"})

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    guard = GuardMiddleware(page, frame_ancestors=frame_ancestors(origins), mounts=("", "/embed"))
    request = {"type": "http", "path": path, "method": "GET", "headers": []}
    # Its own thread: Playwright's sync API may hold this thread's event loop.
    worker = threading.Thread(target=asyncio.run, args=(guard(request, None, send),))
    worker.start()
    worker.join()
    policy = dict(sent[0]["headers"]).get(b"content-security-policy", b"").decode()

    assert policy.endswith(expected) and "object-src 'none'" in policy


# ---------------------------------------------------------------- issue 12: the Gradio surface, limits, headers


def head(url: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def raw_post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_head_health_answers_200(app_server) -> None:
    status, _ = head(f"{app_server.url}/api/health")
    assert status == 200


@pytest.mark.parametrize(("path", "ancestors"), [("/", "'self'"), ("/embed/", "*"), ("/docs", "'self'")])
def test_pages_send_a_csp_and_only_the_embed_view_may_be_framed(app_server, path, ancestors) -> None:
    status, headers, _ = get(app_server.url + path)
    policy = {key.lower(): value for key, value in headers.items()}.get("content-security-policy", "")
    assert status == 200 and f"frame-ancestors {ancestors}" in policy and "object-src 'none'" in policy


def test_api_origins_do_not_open_gradio_to_cors(app_server) -> None:
    origin = {"Origin": app_server.allowed_api_origin}
    _, gradio_headers, _ = get(f"{app_server.url}/gradio_api/info", origin)
    _, api_headers, _ = get(f"{app_server.url}/api/sources", origin)

    assert "access-control-allow-origin" not in {key.lower() for key in gradio_headers}
    assert api_headers.get("access-control-allow-origin") == app_server.allowed_api_origin


def test_a_100_mb_post_to_gradio_is_refused_without_reading_it(app_server) -> None:
    import socket

    port = int(app_server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(b"POST /gradio_api/call/ask HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
                           + b"x" * 65536)
        reply = connection.recv(200)
    assert reply.startswith(b"HTTP/1.1 413")


def test_a_body_without_length_is_refused_on_every_route(app_server) -> None:
    import http.client

    port = int(app_server.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest("POST", "/gradio_api/call/ask")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.putheader("Content-Type", "application/json")
    connection.endheaders()
    connection.send(b"10\r\n" + b"x" * 16 + b"\r\n")
    status = connection.getresponse().status
    connection.close()
    assert status == 411


def test_a_private_chat_event_is_not_callable_and_no_file_is_copied(app_server, tmp_path) -> None:
    import tempfile
    import uuid

    canary = tmp_path / f"canary-{uuid.uuid4().hex}.txt"
    canary.write_text("secret")
    for target in ("/etc/shadow", str(canary)):
        history = [{"role": "user", "content": {"path": target, "meta": {"_type": "gradio.FileData"}}}]
        for fn_index in range(6):
            payload = {"fn_index": fn_index, "data": ["q", history, [], "", ""], "session_hash": "attacker"}
            status, body = raw_post(f"{app_server.url}/gradio_api/run/predict", json.dumps(payload).encode())
            assert status == 404 and target.encode() not in body
            status, body = raw_post(f"{app_server.url}/gradio_api/api/predict", json.dumps(payload).encode())
            assert status == 404
            # The queue (how the page itself runs its events) takes the same data: chat events read
            # no chat history from the client, so nothing is copied either.
            raw_post(f"{app_server.url}/gradio_api/queue/join", json.dumps(payload).encode())
    time.sleep(1.0)
    gradio_temp = Path(os.environ.get("GRADIO_TEMP_DIR", Path(tempfile.gettempdir()) / "gradio"))
    assert not list(gradio_temp.rglob(canary.name)) and not list(gradio_temp.rglob("shadow"))


def test_gradio_api_user_errors_are_4xx_without_internals(app_server) -> None:
    too_long = json.dumps({"data": ["x" * 1001, [], None, None]}).encode()
    file_like = json.dumps({"data": [{"path": "/etc/hostname", "meta": {"_type": "gradio.FileData"}},
                                     [], None, None]}).encode()
    for body in (too_long, file_like):
        status, reply = raw_post(f"{app_server.url}/gradio_api/run/ask", body)
        assert 400 <= status < 500 and b" at 0x" not in reply and b"Traceback" not in reply
    assert b"too long" in raw_post(f"{app_server.url}/gradio_api/run/ask", too_long)[1]


def test_date_errors_on_the_web_are_plain_words_and_short(app_server) -> None:
    status, reversed_range = ask_get(app_server.url, question=BELGOROD, since="2025-02-01", until="2025-01-01")
    long_status, long_date = ask_get(app_server.url, question=BELGOROD, since="y" * 5000)

    assert status == 400 and "--since" not in reversed_range["error"]
    assert reversed_range["error"].startswith("The start date 2025-02-01 is after the end date 2025-01-01")
    assert long_status == 400 and len(long_date["error"]) < 200 and "cannot read date" in long_date["error"]


# ---------------------------------------------------------------- bounded work (issue 12 point 2)


class SlowService:
    """Answers after `seconds`, recording which questions it started; enough of QAService for the app."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started: list[str] = []

    def ask(self, question, *, sources=(), since=None, until=None, page=1, order="relevance"):
        from assistant.records import Answer

        self.started.append(question)
        time.sleep(self.seconds)
        return Answer(question=question, answered=False, quotes=(), nearest=(), elapsed_ms=0.0)

    def sources(self) -> list[str]:
        return []

    def health(self) -> dict:
        return {"status": "ok"}

    def document(self, doc_id):
        return None

    # What the chat's first screen and footer read: an empty archive.
    def index_manifest(self):
        from types import SimpleNamespace

        return SimpleNamespace(created="", documents=0, sentences=0)

    @property
    def settings(self):
        from types import SimpleNamespace

        return SimpleNamespace(index_dir=Path("/nonexistent-index"))

    @property
    def search_index(self):
        from types import SimpleNamespace

        return SimpleNamespace(documents=())

    def credits(self):
        return ()


@pytest.fixture
def slow_app(tmp_path):
    """The app over SlowService with 1 worker, 2 waiting places and a 1.5 s deadline, on uvicorn."""
    import socket as socket_module

    import uvicorn

    from assistant.settings import Settings
    from assistant.web.server import Limits, ServerSettings, create_app

    service = SlowService(0.6)
    app = create_app(service, server=ServerSettings(), settings=Settings(index_dir=tmp_path),
                     limits=Limits(workers=1, queue_size=2, deadline_s=1.5, retry_after_s=2))
    with socket_module.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", service, app
    server.should_exit = True
    thread.join(timeout=10)


# Exports ask through the same bounded pool: one export of one question is one job.
@pytest.mark.parametrize("path", ["/api/ask?question=q", "/export.md?q=q"])
def test_a_full_queue_answers_503_with_retry_after_and_nobody_waits_past_the_deadline(slow_app, path) -> None:
    url, service, _ = slow_app
    results: list[tuple[int, dict[str, str], float]] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        started = time.monotonic()
        status, headers, _ = get(f"{url}{path}{number}")
        with lock:
            results.append((status, {k.lower(): v for k, v in headers.items()}, time.monotonic() - started))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(status for status, _, _ in results)
    assert statuses.count(200) >= 1 and statuses.count(503) >= 5, statuses
    assert all(headers.get("retry-after") == "2" for status, headers, _ in results if status == 503)
    assert max(seconds for _, _, seconds in results) < 1.5 + 1.0
    assert len(service.started) <= 3  # one answering, two waiting: the rest were never started


def test_work_for_a_client_that_disconnected_is_dropped(slow_app) -> None:
    import socket as socket_module

    url, service, app = slow_app
    port = int(url.rsplit(":", 1)[1])
    first = threading.Thread(target=get, args=(f"{url}/api/ask?question=first",))
    first.start()
    time.sleep(0.2)
    gone = socket_module.create_connection(("127.0.0.1", port))
    gone.sendall(b"GET /api/ask?question=gone HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    time.sleep(0.1)
    gone.close()
    first.join()
    time.sleep(1.0)

    assert service.started == ["first"]
    assert app.state.ask_pool.dropped == 1


def test_a_damaged_pointer_while_serving_keeps_answering_and_health_says_degraded(app_server) -> None:
    pointer = app_server.index_dir / "CURRENT"
    good = pointer.read_bytes()
    _, before = ask_get(app_server.url, question=BELGOROD)
    try:
        pointer.write_bytes(b"\xff\xfe\x80\n")
        status, during = ask_get(app_server.url, question=BELGOROD)
        health_status, _, health = get(f"{app_server.url}/api/health")
        head_status, _ = head(f"{app_server.url}/api/health")
        sources_status, _, _ = get(f"{app_server.url}/api/sources")
    finally:
        pointer.write_bytes(good)
    health = json.loads(health)

    assert status == 200 and during["quotes"] == before["quotes"]
    assert health_status == head_status == sources_status == 200
    assert health["status"] == "degraded" and "CURRENT" in health["reason"] and "build --full" in health["reason"]
    assert json.loads(get(f"{app_server.url}/api/health")[2])["status"] == "ok"


def test_an_event_reading_the_chat_history_from_the_client_is_refused() -> None:
    import gradio as gr

    from assistant.web.ui import check_text_only

    with gr.Blocks() as blocks:
        chatbot = gr.Chatbot()
        box = gr.Textbox()
        box.submit(lambda text, history: history, [box, chatbot], chatbot, api_visibility="private")
    with pytest.raises(TypeError, match="Chatbot"):
        check_text_only(blocks)

