"""The first start on a fresh clone: answer within minutes, then finish the index in the background.

Embedding the whole default archive (3,277 documents, about 7,600 texts) takes
about 3 minutes on an idle 2-core machine and far longer on a busy one. So the first
`python app.py` builds the index from the newest FIRST_SLICE_DOCUMENTS documents
(by published date, then id; undated ones last), serves answers from it, and adds
the rest in a background thread through the same incremental, atomic build: when
that build switches the index, the service loads it on the next question. A marker
file in the index folder records that the rest is still to come, so a server
stopped half-way finishes the job on its next start. Only the default index folder
is built this way; `conflict-qa build` always builds everything at once.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.records import Document
from assistant.settings import DEFAULT_CORPUS_DIR, Settings

FIRST_SLICE_DOCUMENTS = 400
"""Documents indexed before the first answer: about 950 texts, some 25 s of embedding on an
idle 2-core machine (measured rate ~40 texts/s, README "Building")."""
PENDING_MARKER = "FIRST-BUILD-PENDING"
"""File in the index folder while the background build still has documents to add."""


def first_slice(documents: Sequence[Document], size: int = FIRST_SLICE_DOCUMENTS) -> list[Document]:
    """The newest `size` documents (published date, then id; undated last), in load order."""
    if len(documents) <= size:
        return list(documents)
    newest = sorted(documents, key=lambda d: (d.published or "", d.id), reverse=True)[:size]
    chosen = {d.id for d in newest}
    return [d for d in documents if d.id in chosen]


def pending(index_dir: Path) -> bool:
    """Whether a first build left documents to add in the background."""
    return (Path(index_dir) / PENDING_MARKER).exists()


def build_first_slice(documents: Sequence[Document], settings: Settings, *, progress: bool,
                      size: int = FIRST_SLICE_DOCUMENTS, corpus_dir: Path = DEFAULT_CORPUS_DIR,
                      embedder: Any = None):
    """Index the first slice (the newest `size` documents); leave the marker when documents remain.
    Returns the build report. `embedder` (default: loaded by the build) embeds the texts."""
    from assistant.index.build import build_index

    chosen = first_slice(documents, size)
    if len(chosen) < len(documents):
        Path(settings.index_dir).mkdir(parents=True, exist_ok=True)
        (Path(settings.index_dir) / PENDING_MARKER).write_text(
            f"{len(documents) - len(chosen)} documents of {corpus_dir.name}/ still to index\n",
            encoding="utf-8")
    options = {"embedder": embedder} if embedder is not None else {}
    return build_index(chosen, settings=settings, progress=progress, **options)


def complete_in_background(settings: Settings, *, corpus_dir: Path = DEFAULT_CORPUS_DIR,
                           embedder: Any = None) -> threading.Thread | None:
    """Start the build of the whole `corpus_dir` (default corpus/) when the marker says it is
    pending; None otherwise. `embedder` as for `build_first_slice`."""
    if not pending(settings.index_dir):
        return None

    def run() -> None:
        from assistant.index.build import build_index
        from assistant.index.store import IndexUnavailable
        from assistant.ingest.corpus import load_corpus

        try:
            documents = load_corpus([corpus_dir]).documents
            print(f"Adding the rest of {corpus_dir.name}/ to the index in the background "
                  f"({len(documents):,} documents in all); answers keep coming meanwhile.",
                  file=sys.stderr, flush=True)
            options = {"embedder": embedder} if embedder is not None else {}
            report = build_index(documents, settings=settings, progress=sys.stderr.isatty(), **options)
        except (IndexUnavailable, OSError) as error:
            print(f"error: the background index build stopped: {error}", file=sys.stderr, flush=True)
            return
        (Path(settings.index_dir) / PENDING_MARKER).unlink(missing_ok=True)
        print(f"Index complete: {report.documents:,} documents, {report.sentences:,} sentences.",
              file=sys.stderr, flush=True)

    thread = threading.Thread(target=run, name="complete-index", daemon=True)
    thread.start()
    return thread
