"""Export a loaded sentence-transformers model to ONNX, checked against the model itself.

The whole pipeline is traced (transformer, pooling, normalisation, any dense layer),
so the export computes what `SentenceTransformer.encode` computes, whatever pooling
the model uses. torch 2.13's default exporter (`dynamo=True`) needs the onnxscript
package; the TorchScript tracer (`dynamo=False`) needs only `onnx` and handles these
models. The export is then optimised once by onnxruntime and saved, so a question
process loads it without optimising again.

The check embeds `CHECK_TEXTS` (short and long, truncated, padded in mixed batches,
several scripts, surrounding spaces) with both and refuses the export when any row is
more than `COSINE_TOLERANCE` (1 - cosine) away; on MiniLM the worst row is about 1e-7.
This module imports torch: it runs at build time or on first need, never per question.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.onnx_embedding import (COSINE_TOLERANCE, EXPORT_FORMAT, WEIGHTS_FILE, ExportRecord, file_sums,
                                            session_for)
from assistant.storage import sync_dir, sync_tree

TOKEN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
"""The model inputs a `tokenizers.Encoding` provides; a model that needs others is not exported."""
OPSET = 17

CHECK_TEXTS = (
    "How many people were killed in Sumy?",
    "A Russian missile strike on Kharkiv killed seven people and injured 25, the regional governor said on Friday.",
    "  Surrounding spaces and a tab\t",
    "UN: 1,200 displaced; 3 aid workers among the dead (OCHA, 12 Jan 2024).",
    "Ракетний удар по Сумах забрав життя щонайменше 35 людей.",
    "قتل 12 شخصا في غارة جوية على مدينة غزة",
    "苏丹武装部队称夺回了恩图曼的国家广播电台。",
    "ceasefire",
    "The corpus does not answer this.",
    # Over 256 tokens: checks that truncation cuts where sentence-transformers cuts.
    " ".join(["Fighting continued around the town as civilians fled north towards the border."] * 30),
)


class ExportRefused(Exception):
    """The model is not exported (cannot be, or the export does not match); one line for the user."""


def export_model(embedder: Any, folder: Path) -> ExportRecord:
    """Export `embedder` (an `embedding.Embedder`) into `folder`, replacing what is there.

    Raises ExportRefused when the model cannot be exported or its export fails the check
    (nothing is written then), OSError when the folder cannot be written.
    """
    model = embedder.model
    reason = _unexportable(model)
    if reason:
        raise ExportRefused(reason)
    sweep_stale_exports(folder)
    work = folder.parent / f".{folder.name}.tmp-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    work.mkdir(parents=True)
    try:
        inputs = _trace(model, work / "traced.onnx")
        _optimise(work / "traced.onnx", work / "model.onnx")
        (work / "traced.onnx").unlink()
        tokenizer = model.tokenizer.backend_tokenizer
        saved = type(tokenizer).from_str(tokenizer.to_str())
        saved.no_truncation()
        saved.no_padding()
        saved.save(str(work / "tokenizer.json"))
        record = _checked_record(embedder, work, inputs)
        (work / "export.json").write_text(json.dumps(asdict(record)), encoding="utf-8")
        sync_tree(work)
        _swap_in(work, folder)
    except Exception as error:
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(error, (ExportRefused, OSError)):
            raise
        first_line = " ".join(str(error).split())[:200] or type(error).__name__
        raise ExportRefused(f"the model cannot be exported to ONNX ({type(error).__name__}: {first_line})") from error
    return record


def sweep_stale_exports(folder: Path) -> list[Path]:
    """Remove the half-written exports of `folder` left by processes that no longer run (an
    export killed part-way leaves ~90 MB); returns what was removed."""
    removed = []
    for stale in folder.parent.glob(f".{folder.name}.tmp-*"):
        pid = stale.name.rsplit(".tmp-", 1)[1].split("-")[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
            removed.append(stale)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _unexportable(model: Any) -> str | None:
    """Why `model` is not exported, or None."""
    first = type(model[0]).__name__
    if first != "Transformer":
        return (f"its first module is {first}, not a Transformer (static-embedding models are fast "
                "without ONNX)")
    if not hasattr(model.tokenizer, "backend_tokenizer"):
        return "its tokenizer is not a `tokenizers` (fast) tokenizer"
    needed = {name for name, value in model.preprocess(["a"]).items() if hasattr(value, "shape")}
    if not needed <= set(TOKEN_INPUTS):
        return f"it takes inputs other than {', '.join(TOKEN_INPUTS)}: {', '.join(sorted(needed - set(TOKEN_INPUTS)))}"
    return None


def _trace(model: Any, path: Path) -> tuple[str, ...]:
    """Trace `model`'s whole pipeline to ONNX at `path`; the input names, in order."""
    import torch

    sample = model.preprocess(["A short text.", "A somewhat longer text, so the batch is padded."])
    inputs = tuple(name for name in TOKEN_INPUTS if name in sample)
    constants = {name: value for name, value in sample.items() if not hasattr(value, "shape")}

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            features = {**constants, **dict(zip(inputs, tensors))}
            return self.model(features)["sentence_embedding"]

    axes = {name: {0: "batch", 1: "tokens"} for name in inputs} | {"sentence_embedding": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shape checks the fixed pipeline always passes
        torch.onnx.export(Pipeline().eval(), tuple(sample[name] for name in inputs), str(path),
                          input_names=list(inputs), output_names=["sentence_embedding"], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)
    return inputs


def _optimise(source: Path, target: Path) -> None:
    """onnxruntime's portable graph optimisations (`ORT_ENABLE_EXTENDED`), saved to `target`, with
    the weights in `WEIGHTS_FILE` beside it: a session then loads in 0.15-0.3 s instead of 0.45-1.2 s
    (the weights are mapped rather than parsed out of one protobuf; measured at load average 5-7)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(target)
    options.add_session_config_entry("session.optimized_model_external_initializers_file_name", WEIGHTS_FILE)
    options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    options.log_severity_level = 3
    onnxruntime.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


def _checked_record(embedder: Any, folder: Path, inputs: tuple[str, ...]) -> ExportRecord:
    """The export's record after comparing it with the model on `CHECK_TEXTS`, or ExportRefused."""
    import onnxruntime
    import sentence_transformers
    import tokenizers
    import torch

    model = embedder.model
    tokenizer = model.tokenizer
    max_tokens = int(model.max_seq_length or tokenizer.model_max_length)
    record = ExportRecord(
        format=EXPORT_FORMAT, model=embedder.name, key=folder.name.split(".tmp-")[0].lstrip("."),
        dimension=embedder.dimension, max_tokens=max_tokens, inputs=inputs,
        pad_id=int(tokenizer.pad_token_id or 0), pad_token=str(tokenizer.pad_token or "[PAD]"),
        pad_type_id=int(getattr(tokenizer, "pad_token_type_id", 0) or 0),
        texts_checked=len(CHECK_TEXTS), worst_cosine_distance=0.0, probe_text=CHECK_TEXTS[0], probe_vector=(),
        versions={"torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
                  "sentence-transformers": sentence_transformers.__version__, "tokenizers": tokenizers.__version__},
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    exported = session_for(folder, record, threads=None)
    expected = embedder.encode(list(CHECK_TEXTS), batch_size=len(CHECK_TEXTS))
    worst = 0.0
    for batch_size in (len(CHECK_TEXTS), 3, 1):  # different paddings of the same texts
        got = exported.encode(list(CHECK_TEXTS), batch_size=batch_size)
        worst = max(worst, float(np.max(1.0 - np.sum(got * expected, axis=1))))
    if not worst <= COSINE_TOLERANCE:
        raise ExportRefused(f"its ONNX export gives vectors {worst:.2g} (1 - cosine) away from the model's "
                            f"on the check texts, over the {COSINE_TOLERANCE:g} allowed")
    return ExportRecord(**{**asdict(record), "worst_cosine_distance": worst,
                           "probe_vector": tuple(float(x) for x in expected[0]), "files": file_sums(folder)})


def _swap_in(work: Path, folder: Path) -> None:
    """Move the finished export at `work` to `folder`; a folder already there is replaced."""
    old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    if folder.exists():
        folder.rename(old)
    try:
        work.rename(folder)
    except OSError:
        if not folder.exists():
            raise
        shutil.rmtree(work, ignore_errors=True)  # another process finished the same export first
    sync_dir(folder.parent)
    with contextlib.suppress(OSError):
        shutil.rmtree(old)
