"""Question embeddings without torch: an ONNX export of the index's model, run by onnxruntime.

Importing sentence-transformers (and torch with it) takes 7-10 s on this machine,
longer than the whole `ask` budget of 2.5 s. The query path therefore embeds with
an ONNX export of the same model (`onnx_export.py` writes it once per model, at
build time or on first need) run by onnxruntime, tokenised by the `tokenizers`
library from the model's own tokenizer.json. The export was checked to give the
sentence-transformers vectors to within `COSINE_TOLERANCE`; every load embeds
one stored text again and compares, so a damaged or drifted export is noticed
and replaced rather than trusted.

Exports live beside the index, one per model (not per version):

    index/models/<model name>-<key>/
      model.onnx       the whole pipeline (transformer, pooling, normalisation), optimised
      model.onnx.data  its weights
      tokenizer.json   the model's tokenizer, without truncation or padding
      export.json      what was exported and how well it matched (see `ExportRecord`)
    index/models/<model name>-<key>.refused.json
                       why a model was not exported (static-embedding kind, a failed check)
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.embedding import limit_torch_threads, load_embedder, resolve_model_path

EXPORT_FORMAT = 1
COSINE_TOLERANCE = 1e-3
"""Largest 1 - cosine accepted between ONNX and sentence-transformers vectors (issue 10)."""
MODELS_FOLDER = "models"
WEIGHTS_FILE = "model.onnx.data"

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ExportRecord:
    """export.json: the exported model's shape and the check it passed."""

    format: int
    model: str
    key: str
    dimension: int
    max_tokens: int
    inputs: tuple[str, ...]
    pad_id: int
    pad_token: str
    pad_type_id: int
    texts_checked: int
    worst_cosine_distance: float
    probe_text: str
    probe_vector: tuple[float, ...]
    """The sentence-transformers vector of `probe_text`, compared again at every load."""
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per file: {"bytes": size, "sha256": hex}, checked at every load."""
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""


@dataclass(frozen=True, kw_only=True)
class OnnxEmbedder:
    """The same verbs as `embedding.Embedder` (name, dimension, max_tokens, encode, count_tokens)."""

    name: str
    dimension: int
    max_tokens: int
    session: Any
    tokenizer: Any
    """A `tokenizers.Tokenizer` that truncates to `max_tokens` and pads to the longest text."""
    inputs: tuple[str, ...]

    @cached_property
    def _counting_tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        counting = Tokenizer.from_str(self.tokenizer.to_str())
        counting.no_truncation()
        counting.no_padding()
        return counting

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text`, special tokens included (before truncation)."""
        return len(self._counting_tokenizer.encode(text, add_special_tokens=True).ids)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """L2-normalised float32 rows, `batch_size` texts per run (`progress` is accepted and ignored)."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for first in range(0, len(texts), batch_size):
            batch = [str(text) for text in texts[first:first + batch_size]]
            vectors[first:first + len(batch)] = self._run(batch)
        return vectors

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=True)
        columns = {"input_ids": [e.ids for e in encodings], "attention_mask": [e.attention_mask for e in encodings],
                   "token_type_ids": [e.type_ids for e in encodings]}
        feed = {name: np.asarray(columns[name], dtype=np.int64) for name in self.inputs}
        return np.ascontiguousarray(self.session.run(None, feed)[0], dtype=np.float32)


def export_key(model: str) -> str:
    """Folder name of `model`'s export: its name, and a hash of the name, the path it resolves to
    and the names and sizes of the model folder's files (a changed model is exported again)."""
    path = resolve_model_path(model)
    digest = hashlib.sha256(f"{model}\n{path}\n".encode())
    folder = Path(path)
    if folder.is_dir():
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(f"{file.relative_to(folder).as_posix()}:{file.stat().st_size}\n".encode())
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", model.rstrip("/").rsplit("/", 1)[-1])[:60] or "model"
    return f"{readable}-{digest.hexdigest()[:16]}"


def export_folder(index_dir: Path, model: str) -> Path:
    return Path(index_dir) / MODELS_FOLDER / export_key(model)


def refusal_file(index_dir: Path, model: str) -> Path:
    folder = export_folder(index_dir, model)
    return folder.with_name(folder.name + ".refused.json")


class ExportUnusable(Exception):
    """A stored export that cannot be used (missing, damaged, drifted); the message is one line."""


def open_export(folder: Path, *, threads: int | None = None) -> OnnxEmbedder:
    """Load the export in `folder`, check its files' checksums and its vector of the probe text,
    or raise ExportUnusable.

    The checksums cover what the probe cannot (the rows of tokens it does not use); they
    are computed in a second thread while the session loads (hashlib releases the GIL),
    about 0.15 s for MiniLM's 90 MB.
    """
    from concurrent.futures import ThreadPoolExecutor

    record = read_record(folder)
    with ThreadPoolExecutor(max_workers=1) as pool:
        mismatched = pool.submit(_file_problems, folder, record.files)
        try:
            embedder = session_for(folder, record, threads=threads)
            probe = embedder.encode([record.probe_text])[0]
        except Exception as error:  # noqa: BLE001 - onnxruntime and tokenizers raise many kinds
            raise ExportUnusable(f"cannot load {folder}: {_one_line(error)}") from error
        if mismatched.result():
            raise ExportUnusable(f"{folder}/{mismatched.result()[0]}")
    distance = 1.0 - float(np.dot(probe, np.asarray(record.probe_vector, dtype=np.float32)))
    if not distance <= COSINE_TOLERANCE:
        raise ExportUnusable(f"{folder} gives vectors {distance:.2g} (1 - cosine) away from the model's")
    return embedder


def file_sums(folder: Path) -> dict[str, dict[str, Any]]:
    """{"bytes", "sha256"} of every file in `folder` but export.json."""
    return {path.name: {"bytes": path.stat().st_size, "sha256": _sha256(path)}
            for path in sorted(folder.iterdir()) if path.is_file() and path.name != "export.json"}


def check_exports(index_dir: Path) -> tuple[list[str], list[str]]:
    """(the export folders under `index_dir`/models checked, one line per problem found):
    an unreadable export.json, a file missing, of another size or checksum than it records.

    What `conflict-qa verify` reports for the exports: the files only (no onnxruntime
    session, no torch), so a damaged export is named before a question meets it (it is
    then exported again, see `load_query_embedder`). Half-written or replaced folders
    (names starting with ".") and refusal records are not exports and are skipped.
    """
    models = Path(index_dir) / MODELS_FOLDER
    if not models.is_dir():
        return [], []
    checked, problems = [], []
    for folder in sorted(p for p in models.iterdir() if p.is_dir() and not p.name.startswith(".")):
        checked.append(folder.name)
        where = f"{MODELS_FOLDER}/{folder.name}"
        try:
            found = [f"{where}/{line}" for line in _file_problems(folder, read_record(folder).files)]
        except ExportUnusable as problem:
            found = [str(problem).replace(str(folder), where)]
        problems += [f"{line} (the ONNX export is written again on the next question)" for line in found]
    return checked, problems


def _file_problems(folder: Path, expected: dict[str, dict[str, Any]]) -> list[str]:
    """One line per file of `folder` that is missing or differs from its record in export.json."""
    if not expected:
        return ["export.json records no checksums"]
    problems = []
    for name, sums in expected.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif path.stat().st_size != sums.get("bytes"):
            problems.append(f"{name} has {path.stat().st_size:,} bytes, export.json says {sums.get('bytes')}")
        elif _sha256(path) != sums.get("sha256"):
            problems.append(f"{name} does not match its checksum")
    return problems


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def read_record(folder: Path) -> ExportRecord:
    try:
        raw = json.loads((folder / "export.json").read_text(encoding="utf-8"))
        raw["inputs"] = tuple(raw["inputs"])
        raw["probe_vector"] = tuple(raw["probe_vector"])
        record = ExportRecord(**raw)
    except FileNotFoundError:
        raise ExportUnusable(f"{folder} holds no export") from None
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise ExportUnusable(f"{folder}/export.json is damaged ({_one_line(error)})") from error
    if record.format != EXPORT_FORMAT:
        raise ExportUnusable(f"{folder} has export format {record.format}, this version reads {EXPORT_FORMAT}")
    return record


def session_for(folder: Path, record: ExportRecord, *, threads: int | None) -> OnnxEmbedder:
    import onnxruntime
    from tokenizers import Tokenizer

    options = onnxruntime.SessionOptions()
    # The stored graph is already optimised (at export), so loading skips that work.
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    options.inter_op_num_threads = 1
    if threads:
        options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"), options,
                                           providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=record.max_tokens)
    tokenizer.enable_padding(pad_id=record.pad_id, pad_type_id=record.pad_type_id, pad_token=record.pad_token)
    return OnnxEmbedder(name=record.model, dimension=record.dimension, max_tokens=record.max_tokens,
                        session=session, tokenizer=tokenizer, inputs=record.inputs)


def load_query_embedder(model: str, *, index_dir: Path, threads: int | None = None) -> Any:
    """The embedder questions are asked with: the model's ONNX export beside the index when there
    is a sound one, else sentence-transformers (exporting on the way when that was never tried).

    A model that cannot be exported (a static-embedding model, an export that fails its
    check) is recorded as refused, with one warning when that is decided, and is asked
    with sentence-transformers from then on. `threads` caps the runtime's threads.
    """
    folder = export_folder(index_dir, model)
    unusable = False
    if (folder / "export.json").is_file():
        try:
            return open_export(folder, threads=threads)
        except ExportUnusable as problem:
            unusable = True
            logger.warning("warning: the model's ONNX export is not used (%s); exporting it again", problem)
    embedder = load_embedder(model)
    if threads:
        limit_torch_threads(threads)
    prepare_export(index_dir, embedder, replace=unusable)
    return embedder


def prepare_export(index_dir: Path, embedder: Any, *, replace: bool = False) -> Path | None:
    """Export `embedder`'s model beside the index in `index_dir` unless that is done (`replace`:
    export again all the same) or was refused.

    Returns the export folder, or None when the model is (now) refused or the export could
    not be written (one warning line; the index and the answers are unaffected).
    """
    from assistant.index.onnx_export import ExportRefused, export_model

    folder = export_folder(index_dir, embedder.name)
    refused = refusal_file(index_dir, embedder.name)
    if not replace and (folder / "export.json").is_file() and not _stale(folder):
        return folder
    if refused.is_file():
        return None
    try:
        export_model(embedder, folder)
    except ExportRefused as reason:
        logger.warning("warning: questions will be embedded with sentence-transformers, not ONNX: %s", reason)
        _record_refusal(refused, embedder.name, str(reason))
        return None
    except OSError as error:
        logger.warning("warning: cannot write the model's ONNX export in %s (%s); questions will be embedded "
                       "with sentence-transformers", folder.parent, error.strerror or error)
        return None
    return folder


def _stale(folder: Path) -> bool:
    try:
        read_record(folder)
    except ExportUnusable:
        return True
    return False


def _record_refusal(path: Path, model: str, reason: str) -> None:
    from assistant.storage import replace_file

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, json.dumps({"model": model, "reason": reason}) + "\n")
    except OSError:
        pass  # not recorded: the export is tried again next time, nothing else changes


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:300] or type(error).__name__
