"""The first start: the newest documents first, the rest marked as pending (assistant/web/startup.py)."""

from __future__ import annotations

from pathlib import Path

from assistant.records import Document
from assistant.web.startup import PENDING_MARKER, first_slice, pending


def doc(doc_id: str, published: str | None) -> Document:
    return Document(id=doc_id, title=doc_id, source="Reuters", url=None, published=published, text="Text.")


def test_first_slice_is_the_newest_documents_in_load_order() -> None:
    documents = [doc("a", "2025-01-01"), doc("b", None), doc("c", "2026-08-22"), doc("d", "2025-06-30"),
                 doc("e", "2026-08-22")]

    assert [d.id for d in first_slice(documents, size=3)] == ["c", "d", "e"]
    assert first_slice(documents, size=10) == documents


def test_pending_follows_the_marker_file(tmp_path) -> None:
    assert not pending(tmp_path)
    (tmp_path / PENDING_MARKER).write_text("1 document still to index\n", encoding="utf-8")
    assert pending(tmp_path)


def test_first_start_serves_the_newest_slice_then_the_background_build_serves_every_document(tmp_path) -> None:
    """The first start end to end on small data (27 real items, a slice of 10; never the default
    archive): build the slice, serve it, complete in the background, and the app then answers
    from documents that were not in the slice."""
    import shutil

    from fastapi.testclient import TestClient

    from answers_support import embedder
    from assistant.service import QAService
    from assistant.settings import Settings
    from assistant.web.server import ServerSettings, create_app, ensure_index
    from assistant.web.startup import complete_in_background

    corpus_dir, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus_dir.mkdir()
    shutil.copy(Path(__file__).resolve().parent / "data" / "newsroom_sample.jsonl", corpus_dir)
    settings = Settings(index_dir=index_dir)
    note = ensure_index(settings, corpus_dir=corpus_dir, default_index_dir=index_dir, size=10, embedder=embedder())
    assert note.startswith(f"No index yet: built {index_dir} from corpus/ (10 document(s)")
    assert pending(index_dir)
    question = "How did the European Parliament vote on designating the Rapid Support Forces a terrorist organization?"
    vote = "wcep-2026-07-09-004"  # published 2026-07-09: older than the newest 10

    service = QAService(settings, embedder=embedder())
    client = TestClient(create_app(service, server=ServerSettings(), settings=settings))
    assert client.get("/api/health").json()["documents"] == 10
    before = client.get("/api/ask", params={"question": question}).json()
    assert vote not in {quote["doc_id"] for quote in before["quotes"]}

    thread = complete_in_background(settings, corpus_dir=corpus_dir, embedder=embedder())
    assert thread is not None
    thread.join(timeout=600)
    assert not thread.is_alive() and not pending(index_dir)
    assert client.get("/api/health").json()["documents"] == 27  # the served index now holds every document
    after = client.get("/api/ask", params={"question": question}).json()
    assert after["answered"] and after["quotes"][0]["doc_id"] == vote
    assert "476–28" in after["quotes"][0]["text"]
    assert complete_in_background(settings, corpus_dir=corpus_dir) is None  # nothing left for a later start


def test_later_start_reads_the_checked_examples_back_instead_of_asking_again(tmp_path) -> None:
    import json
    import time

    from answers_support import embedder, seed_service
    from assistant.web.layout import EXAMPLES_FILE, first_screen

    service = seed_service()
    stored = service.settings.index_dir / EXAMPLES_FILE
    stored.unlink(missing_ok=True)
    waiting = first_screen(service)  # the server does not wait: the overview now, examples in the background
    assert "In this archive" in waiting.overview_html
    deadline = time.monotonic() + 120
    while not stored.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    checked = json.loads(stored.read_text(encoding="utf-8"))
    assert checked["examples"] and first_screen(service).examples == tuple(checked["examples"])

    # A later start (a new service over the same index) shows them without asking anything.
    from assistant.service import QAService

    later = QAService(service.settings, embedder=embedder())
    asked = []
    later.ask = lambda *args, **kwargs: asked.append(args)  # type: ignore[method-assign]
    assert first_screen(later).examples == tuple(checked["examples"]) and asked == []
    # A different index build (or ranker) does not reuse them.
    stored.write_text(json.dumps({"key": "another build", "examples": ["What about elsewhere?"]}), encoding="utf-8")
    assert "What about elsewhere?" not in first_screen(QAService(service.settings, embedder=embedder())).examples
