"""The web app: Gradio chat, embed view, widget script, source viewer and HTTP API on one server.

Routes (all on one FastAPI app; the chat is Gradio mounted at `/`, its compact
embed view at `/embed`):
  GET|POST /api/ask      the answer as `conflict-qa ask --json` prints it
  GET /api/sources       the outlets in the index
  GET /api/health        the service's health record
  GET /source/{doc_id}   a stored article, the quoted span highlighted (?start=&end=)
  GET /widget.js         the embeddable chat button
  GET /docs              this API, rendered locally from /openapi.json (no CDN)
Gradio's file, upload and proxy routes are closed: the UI needs none of them, and
nothing under the index or corpus folders can be fetched. Of Gradio's direct-call
routes only the public `ask` endpoint answers (`/gradio_api/run/ask`,
`/gradio_api/call/ask`); the chat's own events go through Gradio's queue and take
text only.

Limits (`Limits`): every request body, Gradio's included, is at most
MAX_BODY_BYTES (413 otherwise, refused from the Content-Length before any of it is
read); /api/ask answers at most `workers` questions at a time with `queue_size`
more waiting, answers 503 with Retry-After when the queue is full, and gives up
(503) on a question not answered within `deadline_s`; a question whose client has
disconnected is dropped.
"""

# No `from __future__ import annotations` here: FastAPI reads the route signatures'
# annotations at runtime, and nested route functions cannot resolve strings.
import asyncio
import concurrent.futures
import json
import logging
import sys
import threading
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from assistant.answers.citations import answer_to_json
from assistant.web.pages import api_docs_page, source_page
from assistant.settings import DEFAULT_CORPUS_DIR, DEFAULT_INDEX_DIR, Settings
from assistant.web.routes import add_routes
from assistant.web.ui import APP_TITLE, build_chat

if TYPE_CHECKING:
    from assistant.service import QAService

MAX_BODY_BYTES = 64 * 1024
"""Largest request body read on any route; a 1,000-character question fits many times over."""

PUBLIC_GRADIO_API = ("ask",)
"""The Gradio endpoints callable directly (run/, api/, call/); the chat's events are not."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Limits:
    """How much work /api/ask takes on at once.

    `workers` (default 16) questions are answered at a time, so up to that many are
    embedded in one batch; `queue_size` (default 48) more wait; beyond that a
    request gets 503 with `Retry-After: retry_after_s` at once. A request not
    answered within `deadline_s` (default 4 s, so every client hears back within
    5 s) gets 503 and its work is dropped if it has not started.
    """

    workers: int = 16
    queue_size: int = 48
    deadline_s: float = 4.0
    retry_after_s: int = 1


class Busy(Exception):
    """The ask queue is full."""


class AskPool:
    """A fixed pool of answer threads behind a bounded queue (see `Limits`)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=limits.workers,
                                                               thread_name_prefix="ask")
        self._lock = threading.Lock()
        self._admitted = 0
        self.rejected = 0
        self.dropped = 0

    def submit(self, work: Any, cancel: threading.Event) -> concurrent.futures.Future:
        """Queue `work()` or raise Busy; `cancel` set before it starts means it never runs."""
        from assistant.service import cancel_scope

        with self._lock:
            if self._admitted >= self.limits.workers + self.limits.queue_size:
                self.rejected += 1
                raise Busy
            self._admitted += 1

        def run() -> Any:
            try:
                if cancel.is_set():
                    with self._lock:
                        self.dropped += 1
                    return None
                with cancel_scope(cancel):
                    return work()
            finally:
                with self._lock:
                    self._admitted -= 1

        return self._executor.submit(run)


async def pooled_response(pool: AskPool, work: Any, *, timeout_s: float, receive: Any,
                          respond: Any) -> Response:
    """`respond(work())` with `work` run in `pool`, or the plain refusal: 503 with Retry-After when
    the queue is full, the work is dropped or `timeout_s` passes; 499 when the client left (the
    work is then dropped if it has not started); 400 with the message of a QuestionError."""
    from assistant.service import Dropped, QuestionError

    started = time.monotonic()
    headers = {"retry-after": str(pool.limits.retry_after_s)}
    busy = JSONResponse({"error": "the server is busy: ask again in a moment"}, status_code=503, headers=headers)
    cancel = threading.Event()
    try:
        future = asyncio.wrap_future(pool.submit(work, cancel))
    except Busy:
        return busy
    gone = asyncio.ensure_future(_disconnected(receive))
    try:
        remaining = max(0.0, timeout_s - (time.monotonic() - started))
        done, _ = await asyncio.wait({future, gone}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if future not in done:
        cancel.set()  # not started: never runs; started: stops at its next checkpoint
        if gone in done:
            return Response(status_code=499)  # nobody is listening
        return JSONResponse({"error": f"no answer within {timeout_s:g} s: the server is busy, ask again in a moment"},
                            status_code=503, headers=headers)
    try:
        result = future.result()
    except QuestionError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    except Dropped:
        return busy
    return busy if result is None else respond(result)


async def _disconnected(receive: Any) -> None:
    """Returns when the client disconnects (the request body has already been read)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return

CLOSED_GRADIO_ROUTES = (
    "/gradio_api/file=", "/gradio_api/file/", "/gradio_api/upload", "/gradio_api/proxy=",
    "/gradio_api/stream/", "/gradio_api/process_recording", "/gradio_api/vibe-",
    "/gradio_api/undo-vibe-edit", "/gradio_api/run-history", "/gradio_api/dev/",
    "/gradio_api/custom_component/", "/monitoring", "/file=",
)
"""Gradio routes that serve or accept files; the chat uses none of them."""

STATIC_FILES = {"widget.js": "text/javascript", "source.css": "text/css"}


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    """Where the app listens and who may use it from another origin.

    Defaults: loopback only (127.0.0.1:7860); any page may frame the chat (the
    widget's iframe), and no other origin may call /api/* from a browser (CORS).
    `embed_origins` of ("*",) means any origin; otherwise it becomes the
    Content-Security-Policy `frame-ancestors` list.
    """

    host: str = "127.0.0.1"
    port: int = 7860
    api_origins: tuple[str, ...] = ()
    embed_origins: tuple[str, ...] = ("*",)


class AskRequest(BaseModel):
    """The body of POST /api/ask."""

    question: str = Field(description="The question, at most 1,000 characters.")
    sources: list[str] = Field(default_factory=list, description="Only these outlets (all when empty).")
    since: str | None = Field(default=None, description="Earliest publication date: YYYY-MM-DD, YYYY-MM or YYYY.")
    until: str | None = Field(default=None, description="Latest publication date, same forms.")
    page: int = Field(default=1, description="Page of quotes, 1 to 10: page 2 holds the next quotes "
                                             "for the same question (\"More results\"); see `more`.")
    sort: str = Field(default="relevance", description="'relevance', 'date' (newest first) or "
                                                       "'date-asc' (oldest first).")


def static_text(name: str) -> str:
    """A file shipped in assistant/web/static (package data)."""
    return resources.files("assistant.web").joinpath("static", name).read_text(encoding="utf-8")


class GuardMiddleware:
    """Closes Gradio's file routes and its direct calls to anything but PUBLIC_GRADIO_API, limits
    every request body, and sets the framing policy and a CSP on every response (pure ASGI, so
    Gradio's streamed queue responses pass through untouched)."""

    def __init__(self, app: Any, *, frame_ancestors: str | None, mounts: tuple[str, ...],
                 embed_mount: str = "/embed") -> None:
        self.app = app
        self.frame_ancestors = frame_ancestors
        self.embed_mount = embed_mount
        self.closed = tuple(mount + route for mount in mounts for route in CLOSED_GRADIO_ROUTES)
        self.direct_calls = tuple(f"{mount}/gradio_api/{kind}/" for mount in mounts
                                  for kind in ("run", "api", "call"))

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.startswith(self.closed) or "/file=" in path:
            await _json_error(send, 404, "not found")
            return
        if path.startswith(self.direct_calls) and not _public_call(path):
            await _json_error(send, 404, "not found")
            return
        headers = dict(scope.get("headers", []))
        if scope.get("method") in ("POST", "PUT", "PATCH", "DELETE"):
            length = headers.get(b"content-length", b"")
            chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
            if chunked or (length and not length.isdigit()) or (not length and path.startswith("/api/")):
                await _json_error(send, 411, "send a Content-Length header")
                return
            if length and int(length) > MAX_BODY_BYTES:
                await _json_error(send, 413, f"request body over {MAX_BODY_BYTES} bytes")
                return
        if scope.get("method") == "POST" and "/gradio_api/" in path:
            # No event takes files: a payload naming one (Gradio copies any FileData it is sent
            # into its cache, whatever the component) is refused before Gradio sees it.
            body, receive = await _buffered(receive)
            if _carries_file_data(body):
                await _json_error(send, 400, "file data is not accepted")
                return
        policy = self.policy(path)
        user_error = path.startswith(self.direct_calls) and scope.get("method") == "POST"
        held: dict = {}

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"content-security-policy", policy.encode()))
                message = {**message, "headers": headers}
                if user_error and message["status"] == 500:
                    held["start"] = message  # decided on the body: a gr.Error is the user's mistake
                    return
            elif message["type"] == "http.response.body" and "start" in held:
                start = held.pop("start")
                if _is_user_error(message.get("body", b"")):
                    start = {**start, "status": 400}
                await send(start)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def policy(self, path: str) -> str:
        """The CSP: nothing may be framed by another site but the embed view (per `frame_ancestors`)."""
        embed = path == self.embed_mount or path.startswith(self.embed_mount + "/")
        ancestors = (self.frame_ancestors or "*") if embed else "'self'"
        return f"base-uri 'self'; object-src 'none'; form-action 'self'; frame-ancestors {ancestors}"


async def _buffered(receive: Any) -> tuple[bytes, Any]:
    """The request body (at most MAX_BODY_BYTES: checked before) and a `receive` that replays it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> dict:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _carries_file_data(body: bytes) -> bool:
    """Whether a JSON body holds an object with a "path" key anywhere (Gradio's FileData shape)."""
    try:
        pending = [json.loads(body)]
    except ValueError:
        return False
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            if "path" in value:
                return True
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _public_call(path: str) -> bool:
    """Whether a Gradio run/api/call path names a public endpoint: .../call/ask, .../call/ask/ID."""
    rest = path.split("/gradio_api/", 1)[1].split("/")[1:]
    if rest and rest[0] == "v2":
        rest = rest[1:]
    return bool(rest) and rest[0] in PUBLIC_GRADIO_API


def _is_user_error(body: bytes) -> bool:
    """A Gradio error payload carrying a message (only gr.Error has one with show_error=False)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    return isinstance(payload, dict) and isinstance(payload.get("error"), str) and bool(payload["error"])


class ApiCorsMiddleware:
    """CORS for /api/* only: `--api-origins` never opens Gradio's routes to other origins."""

    def __init__(self, app: Any, **options: Any) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, **options)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith("/api/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


async def _json_error(send: Any, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def frame_ancestors(origins: tuple[str, ...]) -> str | None:
    """The CSP `frame-ancestors` value of the embed view for `origins`; None when any may frame it."""
    if not origins or "*" in origins:
        return None  # any page may frame the embed view (sent as `frame-ancestors *`)
    return " ".join(["'self'", *origins])


def create_app(service: "QAService", *, server: ServerSettings, settings: Settings,
               limits: Limits = Limits()) -> FastAPI:
    """The whole app over `service`. Nothing is started; `serve` runs it with uvicorn."""
    app = FastAPI(title=f"{APP_TITLE} API", version="1", docs_url=None, redoc_url=None,
                  description="Quoted, source-cited answers over the stored conflict reporting.")
    pool = AskPool(limits)
    app.state.ask_pool = pool
    async def answer(request: Request, question: str, sources: list[str], since: str | None,
                     until: str | None, page: int = 1, sort: str = "relevance") -> Response:
        def work() -> Any:
            return service.ask(question, sources=tuple(sources), since=since or None, until=until or None,
                               page=page, order=sort)

        return await pooled_response(pool, work, timeout_s=limits.deadline_s, receive=request.receive,
                                     respond=lambda result: JSONResponse(answer_to_json(result)))

    @app.get("/api/ask", tags=["api"], summary="Answer a question (query parameters)")
    async def ask_get(request: Request,
                      question: str = Query(description="The question, at most 1,000 characters."),
                      sources: list[str] = Query(default=[], description="Only these outlets; repeat the parameter."),
                      since: str | None = Query(default=None, description="Earliest publication date."),
                      until: str | None = Query(default=None, description="Latest publication date."),
                      page: int = Query(default=1, description="Page of quotes, 1 to 10: page 2 holds the "
                                                               "next quotes (\"More results\"); see `more`."),
                      sort: str = Query(default="relevance", description="'relevance', 'date' (newest "
                                                                        "first) or 'date-asc' (oldest first).")
                      ) -> Response:
        """The answer JSON of `conflict-qa ask --json`; 400 with {"error": ...} for a bad question,
        503 with Retry-After when the server is busy."""
        return await answer(request, question, sources, since, until, page, sort)

    @app.post("/api/ask", tags=["api"], summary="Answer a question (JSON body)")
    async def ask_post(request: Request, ask: AskRequest) -> Response:
        """The answer JSON of `conflict-qa ask --json`; 400 with {"error": ...} for a bad question,
        503 with Retry-After when the server is busy."""
        return await answer(request, ask.question, ask.sources, ask.since, ask.until, ask.page, ask.sort)

    @app.exception_handler(RequestValidationError)
    def bad_request(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        if first.get("type") == "json_invalid":
            message = 'the body is not JSON: send {"question": "...", "sources": [], "since": null}'
        else:
            where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query"))
            message = f"{where or 'request'}: {first.get('msg', 'invalid')}"
        return JSONResponse({"error": message}, status_code=400)

    @app.get("/api/sources", tags=["api"], summary="The outlets in the index")
    def sources() -> dict[str, list[str]]:
        return {"sources": list(service.sources())}

    @app.get("/api/health", tags=["api"],
             summary="Index version, counts, model; status ok or degraded (with the reason)")
    def health() -> dict[str, Any]:
        return service.health()

    @app.head("/api/health", include_in_schema=False)  # for probes; one operation in the schema
    def health_head() -> dict[str, Any]:
        return service.health()

    @app.get("/source/{doc_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def source(doc_id: str, start: int | None = None, end: int | None = None) -> Response:
        document = service.document(doc_id)
        if document is None:
            return HTMLResponse(source_page(None, None, None), status_code=404)
        return HTMLResponse(source_page(document, start, end),
                            headers={"content-security-policy":
                                     "default-src 'none'; style-src 'self'; base-uri 'none'; "
                                     "form-action 'none'"})

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> Response:
        return Response(static_text("widget.js"), media_type="text/javascript",
                        headers={"cache-control": "no-cache"})

    @app.get("/cqa-static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC_FILES:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(static_text(name), media_type=STATIC_FILES[name])

    add_routes(app, service)  # /export.md, /export.csv, /examples/embed.html (assistant/web/routes.py)

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> str:
        return api_docs_page(app.openapi())

    app.add_middleware(ApiCorsMiddleware, allow_origins=list(server.api_origins),
                       allow_methods=["GET", "POST"], allow_headers=["content-type"])
    app.add_middleware(GuardMiddleware, frame_ancestors=frame_ancestors(server.embed_origins),
                       mounts=("", "/embed"))

    theme = gr.themes.Soft(
        primary_hue="slate", neutral_hue="slate",
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"])
    css = {False: static_text("app.css"), True: static_text("app.css") + static_text("embed.css")}
    never_serve = [str(Path(settings.index_dir).resolve()), str(DEFAULT_CORPUS_DIR.resolve())]
    for path, compact in (("/embed", True), ("/", False)):
        blocks = build_chat(service, compact=compact)
        blocks.queue(default_concurrency_limit=4, max_size=256)
        gr.mount_gradio_app(app, blocks, path=path, server_name=server.host, server_port=server.port,
                            footer_links=[], run_history=False,
                            allowed_paths=[], blocked_paths=never_serve, ssr_mode=False, pwa=False,
                            show_error=False,
                            mcp_server=False, enable_monitoring=False, theme=theme, css=css[compact])
    return app


class ServeError(Exception):
    """The app cannot start (port taken, nothing to index); the message is one line."""


def ensure_index(settings: Settings, *, corpus_dir: Path = DEFAULT_CORPUS_DIR,
                 default_index_dir: Path = DEFAULT_INDEX_DIR, **first_build: Any) -> str | None:
    """Build the default index from corpus/ when it is missing; returns a line saying so, or None.

    Only the default index folder is built on demand: a missing `--index` elsewhere
    is reported by `QAService` (IndexUnavailable) rather than silently created.
    `first_build` (`size`, `embedder`) goes to `startup.build_first_slice`; `corpus_dir` and
    `default_index_dir` default to corpus/ and index/ (tests point them at small data).
    """
    from assistant.index.store import current_version

    if current_version(Path(settings.index_dir)) is not None:
        return None
    if Path(settings.index_dir).resolve() != Path(default_index_dir).resolve():
        return None
    from assistant.ingest.corpus import load_corpus

    loaded = load_corpus([corpus_dir])
    if not loaded.documents:
        raise ServeError(f"no index yet and {corpus_dir} has no readable documents to build one")
    from assistant.web.startup import FIRST_SLICE_DOCUMENTS, build_first_slice, first_slice

    size = first_build.get("size", FIRST_SLICE_DOCUMENTS)
    print(f"No index yet: indexing the newest {len(first_slice(loaded.documents, size)):,} of "
          f"{len(loaded.documents):,} documents in {corpus_dir.name}/ first (once only; "
          "the rest follows in the background)...", file=sys.stderr, flush=True)
    report = build_first_slice(loaded.documents, settings, progress=sys.stderr.isatty(), corpus_dir=corpus_dir,
                               **first_build)
    return (f"No index yet: built {settings.index_dir} from {corpus_dir.name}/ "
            f"({report.documents:,} document(s), {report.sentences:,} sentences).")


def check_port(host: str, port: int) -> None:
    """Raise ServeError when `host:port` cannot be bound (before minutes of model loading)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ServeError(f"cannot listen on {host}:{port} ({error.strerror}): "
                             "pass another --port") from None


def serve(settings: Settings, server: ServerSettings) -> None:
    """Build the default index if missing, then serve the app until interrupted."""
    import uvicorn

    from assistant.service import QAService

    check_port(server.host, server.port)
    note = ensure_index(settings)
    if note:
        print(note, flush=True)
    service = QAService(settings)
    from assistant.web.startup import complete_in_background

    complete_in_background(settings)  # only when a first build left documents to add
    app = create_app(service, server=server, settings=settings)
    print(f"Serving {settings.index_dir} on http://{server.host}:{server.port}/  "
          "(API reference /docs, widget /widget.js; Ctrl+C stops)", flush=True)
    uvicorn.run(app, host=server.host, port=server.port, log_level="warning")


def parse_origins(value: str | None) -> tuple[str, ...]:
    """'https://a.org, https://b.org' -> ('https://a.org', 'https://b.org'); '' -> ()."""
    return tuple(origin.strip().rstrip("/") for origin in (value or "").split(",") if origin.strip())

