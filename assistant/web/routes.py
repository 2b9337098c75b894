"""Routes added by the newsroom features: answer exports and the example host page.

  GET /export.md, /export.csv   an answer (q, sources, since, until: the permalink's query) or a
                                conversation (ask=<one permalink query> repeated, in order), asked
                                again through the service and written by assistant.answers.export;
                                the asking is one job of the server's bounded ask pool, so a crowd of
                                exports gets 503 like a crowd of questions, never an unbounded backlog
  GET /examples/embed.html      the example host page (examples/embed.html) from the chat server
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at runtime.
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from assistant.answers.export import answers_csv, conversation_markdown
from assistant.records import Quote
from assistant.settings import PROJECT_ROOT
from assistant.web.layout import AskedWith, permalink, permalink_fields
from assistant.web.ui import source_href

if TYPE_CHECKING:
    from assistant.service import QAService

MAX_EXPORTED_ANSWERS = 50
"""Questions one export may ask again (a long conversation; each ask takes ~0.1-1 s)."""
EMBED_EXAMPLE = PROJECT_ROOT / "examples" / "embed.html"


def asked_in(request: Request) -> list[AskedWith]:
    """The questions an export URL names: each `ask=` value, else the permalink fields themselves."""
    items = [value for name, value in request.query_params.multi_items() if name == "ask"]
    queries = [parse_qsl(item) for item in items] if items else [list(request.query_params.multi_items())]
    return [asked for asked in map(permalink_fields, queries) if asked is not None]


def add_routes(app: FastAPI, service: "QAService") -> None:
    """Register the export and example routes on `app` (before Gradio is mounted at /)."""
    from assistant.web.server import pooled_response

    async def exported(request: Request, kind: str) -> Response:
        asked = asked_in(request)
        if not asked:
            return JSONResponse({"error": "name a question: ?q=... (or ask=... per question)"}, status_code=400)
        if len(asked) > MAX_EXPORTED_ANSWERS:
            return JSONResponse({"error": f"at most {MAX_EXPORTED_ANSWERS} questions per export"},
                                status_code=400)
        base = str(request.base_url).rstrip("/")

        def work() -> list:
            return [(service.ask(item.question, sources=item.sources, since=item.since, until=item.until,
                                 page=item.page, order=item.sort), permalink(item)) for item in asked]

        pool = request.app.state.ask_pool  # each question gets the deadline one question gets on /api/ask
        return await pooled_response(pool, work, timeout_s=pool.limits.deadline_s * len(asked),
                                     receive=request.receive, respond=lambda answers: export_file(answers, kind, base))

    @app.get("/export.md", include_in_schema=False)
    async def export_markdown(request: Request) -> Response:
        return await exported(request, "md")

    @app.get("/export.csv", include_in_schema=False)
    async def export_csv(request: Request) -> Response:
        return await exported(request, "csv")

    @app.get("/examples/embed.html", response_class=HTMLResponse, include_in_schema=False)
    def embed_example() -> Response:
        if not EMBED_EXAMPLE.is_file():
            return JSONResponse({"error": "not found"}, status_code=404)
        return HTMLResponse(EMBED_EXAMPLE.read_text(encoding="utf-8"))


def export_file(answers: list, kind: str, base: str) -> Response:
    """The Markdown or CSV download of (answer, permalink) pairs; links to the article viewer at `base`."""
    app_link: Callable[[Quote], str] = lambda quote: base + source_href(quote)  # noqa: E731
    name = "answer" if len(answers) == 1 else "conversation"
    if kind == "csv":
        body, media = answers_csv([a for a, _ in answers], app_link=app_link), "text/csv"
    else:
        body, media = conversation_markdown(answers, app_link=app_link), "text/markdown"
    return Response(body, media_type=f"{media}; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}.{kind}"'})
