"""The first start: the newest documents first, the rest marked as pending (assistant/web/startup.py)."""

from __future__ import annotations

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
