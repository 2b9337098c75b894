"""The split-and-embed stage of a build as a Ray Data pipeline: `conflict-qa build --ray [ADDRESS]`.

The driver (the `build` process) reads the corpus, decides which documents changed (by
content hash), and hands them to this stage; Ray Data sends them in batches to a pool
of actors (`ActorPoolStrategy`), each of which loads the model once and splits and
embeds its batches exactly as the local build does (`split_and_embed`); the spans and
vectors come back to the driver, which writes the new index version and switches
`CURRENT` with the same atomic swap as a local build. One actor per CPU of the cluster,
or one per GPU (with the model on the GPU) when the cluster has GPUs.

Ray is an optional extra (`pip install -e '.[ray]'`); nothing imports this module
without `--ray`. ADDRESS is what `ray.init` takes ("auto", "ray://head:10001",
"10.0.0.5:6379"); none starts a local Ray on this machine. Workers of a cluster get
this process's `assistant` package (`runtime_env` py_modules), so they run the same
splitting and embedding code as the driver; their Python environment must have the
project's dependencies installed.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import socket
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.build import _DocumentRows
from assistant.index.format import chunk_embedding_input
from assistant.records import Document

ACTOR_START_TIMEOUT_S = 600
"""How long the pool may take to start every actor (each loads the model) before the build fails."""
MAX_BATCH_DOCUMENTS = 512
"""Documents per actor call; fewer on small corpora, so every actor gets at least two batches.
Large batches embed faster (sentence-transformers sorts a call's texts by length, so less
padding): on the 3,276 conflict-news items with two actors on this 2-core machine, the build
took 95.3 s with batches of 64 documents, 75.8 s with 512 and 82.2 s with 1,024 (4 batches,
unevenly long), against 61.7 s for the local build."""


def split_and_embed(documents: Sequence[Document], *, embedder: Any, chunker: Any, split_document: Callable,
                    batch_size: int) -> tuple[dict[str, _DocumentRows], int]:
    """Spans and vectors of `documents` (one batch), and how many distinct texts were embedded.

    The same inputs as the local build (`build._embed_documents`): the title line plus each
    chunk, and each sentence; a text repeated within the batch is embedded once.
    """
    inputs: dict[str, int] = {}
    plans = []
    for document in documents:
        spans = split_document(document.text, chunker, document.language)
        chunk_keys = [inputs.setdefault(chunk_embedding_input(document, document.text[s.start:s.end]), len(inputs))
                      for s in spans.chunks]
        sentence_keys = [inputs.setdefault(document.text[s.start:s.end], len(inputs)) for s in spans.sentences]
        plans.append((document, spans, chunk_keys, sentence_keys))
    vectors = embedder.encode(list(inputs), batch_size=batch_size)
    rows = {}
    for document, spans, chunk_keys, sentence_keys in plans:
        rows[document.id] = _DocumentRows(
            chunks=np.array([[s.start, s.end] for s in spans.chunks], dtype=np.int32).reshape(-1, 2),
            sentences=np.array([[s.start, s.end, c] for s, c in zip(spans.sentences, spans.sentence_chunks)],
                               dtype=np.int32).reshape(-1, 3),
            chunk_vectors=vectors[chunk_keys].reshape(-1, embedder.dimension),
            sentence_vectors=vectors[sentence_keys].reshape(-1, embedder.dimension),
        )
    return rows, len(inputs)


class SplitAndEmbed:
    """A Ray Data actor: loads the model once, then splits and embeds one batch of documents per call.

    Its settings are class attributes of a subclass made per build (`configured`), which Ray
    ships with the class, rather than constructor arguments, which Ray would keep in the object
    store for the actor's lifetime (and warn about).
    """

    config: dict[str, Any] = {}

    @classmethod
    def configured(cls, **config: Any) -> type[SplitAndEmbed]:
        return type(cls.__name__, (cls,), {"config": config, "__module__": __name__})

    def __init__(self) -> None:
        import ray

        from assistant.index.embedding import limit_torch_threads, load_embedder
        from assistant.ingest.chunking import Chunker

        config = self.config
        model, max_tokens, max_chars = config["model"], config["max_tokens"], config["max_chars"]
        overlap_tokens, batch_size, threads, use_gpu = (config["overlap_tokens"], config["batch_size"],
                                                        config["threads"], config["use_gpu"])
        started = time.perf_counter()
        self.embedder = load_embedder(model)
        limit_torch_threads(threads)
        if use_gpu:
            self.embedder.model.to("cuda")
        self.chunker = Chunker(count_tokens=self.embedder.count_tokens, max_tokens=max_tokens,
                               overlap_tokens=overlap_tokens, max_chars=max_chars)
        self.batch_size = batch_size
        self.name = f"{socket.gethostname()}/node-{ray.get_runtime_context().get_node_id()[:8]}/pid-{os.getpid()}"
        self.load_seconds = time.perf_counter() - started

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from assistant.ingest.chunking import split_document

        started = time.perf_counter()
        documents = [pickle.loads(blob) for blob in batch["document"]]
        rows, texts = split_and_embed(documents, embedder=self.embedder, chunker=self.chunker,
                                      split_document=split_document, batch_size=self.batch_size)
        seconds = time.perf_counter() - started
        count = len(documents)
        return {
            "doc_id": np.array([d.id for d in documents], dtype=object),
            "rows": np.array([pickle.dumps(rows[d.id], protocol=5) for d in documents], dtype=object),
            # Per batch, on its first row: who did it, how many texts, how long (for throughput per actor).
            "actor": np.array([self.name] * count, dtype=object),
            "texts": np.array([texts] + [0] * (count - 1), dtype=np.int64),
            "seconds": np.array([seconds] + [0.0] * (count - 1), dtype=np.float64),
            "load_seconds": np.array([self.load_seconds] + [0.0] * (count - 1), dtype=np.float64),
        }


@dataclass(kw_only=True)
class ActorReport:
    """What one actor did in a build: batches, documents, texts embedded, seconds busy, model load."""

    batches: int = 0
    documents: int = 0
    texts: int = 0
    seconds: float = 0.0
    load_seconds: float = 0.0

    @property
    def texts_per_second(self) -> float:
        return self.texts / self.seconds if self.seconds else 0.0


class RayUnavailable(Exception):
    """Ray is not installed, or the cluster cannot be reached or run the pipeline; one line for the user."""


@dataclass(kw_only=True)
class RayEmbedStage:
    """`build_index(embed_stage=...)`: the arguments and result of `build._embed_documents`, on Ray.

    Ray starts (or is connected to, at `address`) on the first call; `close` shuts down
    what was started. `actors` (default: one per CPU, or per GPU) sizes the pool. The
    seconds returned are the pipeline's wall time, starting Ray and the actors included;
    the texts are counted per batch (a text repeated in two batches is embedded twice).
    """

    address: str | None = None
    actors: int | None = None
    last_actors: dict[str, ActorReport] = field(default_factory=dict)
    last_wall_seconds: float = 0.0
    _started: bool = False

    def __call__(self, changed: Sequence[Document], *, embedder: Any, settings: Any, progress: bool,
                 chunker: Any, split_document: Callable) -> tuple[dict[str, _DocumentRows], int, float]:
        try:
            import ray
        except ImportError:
            raise RayUnavailable("--ray needs Ray: pip install -e '.[ray]'") from None

        started = time.perf_counter()
        try:
            self._connect(ray)
        except Exception as error:  # noqa: BLE001 - ray.init raises many kinds; the user needs one line
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
            raise RayUnavailable(f"cannot start or reach {where}: {_one_line(error)}") from error
        _quiet_and_patient(ray)
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        cpus = max(1, int(resources.get("CPU", 1)))
        size = self.actors or (gpus or cpus)
        batch_documents = max(1, min(MAX_BATCH_DOCUMENTS, math.ceil(len(changed) / (2 * size))))
        dataset = ray.data.from_items(
            [{"document": pickle.dumps(d, protocol=5)} for d in changed],
            override_num_blocks=max(1, math.ceil(len(changed) / batch_documents)),
        )
        actor_class = SplitAndEmbed.configured(
            model=embedder.name, max_tokens=chunker.max_tokens, max_chars=chunker.max_chars,
            overlap_tokens=settings.chunk_overlap_tokens, batch_size=settings.batch_size,
            threads=1 if gpus else max(1, cpus // size), use_gpu=bool(gpus),
        )
        embedded = dataset.map_batches(
            actor_class, batch_size=batch_documents, batch_format="numpy",
            # One batch in flight per actor: the first actor up does not queue up every batch.
            compute=ray.data.ActorPoolStrategy(size=size, max_tasks_in_flight_per_actor=1),
            num_cpus=1 if not gpus else None, num_gpus=1 if gpus else None,
        )
        try:
            rows, actors, texts = self._collect(embedded)
        except ray.exceptions.RayError as error:
            raise RayUnavailable(f"the Ray pipeline failed: {_one_line(error)}") from error
        missing = [d.id for d in changed if d.id not in rows]
        if missing:
            raise RayUnavailable(f"the Ray pipeline returned no rows for {len(missing)} documents "
                                 f"(first: {missing[0]})")
        self.last_actors = actors
        self.last_wall_seconds = time.perf_counter() - started
        return rows, texts, self.last_wall_seconds

    @staticmethod
    def _collect(embedded: Any) -> tuple[dict[str, _DocumentRows], dict[str, ActorReport], int]:
        """Rows per document id, what each actor did, and the texts embedded, as the batches arrive."""
        rows: dict[str, _DocumentRows] = {}
        actors: dict[str, ActorReport] = defaultdict(ActorReport)
        texts = 0
        for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
            for doc_id, blob, actor, count, seconds, load in zip(
                    batch["doc_id"], batch["rows"], batch["actor"], batch["texts"], batch["seconds"],
                    batch["load_seconds"]):
                rows[str(doc_id)] = pickle.loads(blob)
                report = actors[str(actor)]
                report.documents += 1
                if seconds or count:
                    report.batches += 1
                    report.texts += int(count)
                    report.seconds += float(seconds)
                    report.load_seconds = max(report.load_seconds, float(load))
                    texts += int(count)
        return rows, dict(actors), texts

    def actor_summary(self) -> list[dict[str, Any]]:
        """Per actor of the last call: documents, texts, seconds busy, texts per second, model load."""
        return [{"actor": name, "batches": report.batches, "documents": report.documents, "texts": report.texts,
                 "seconds": round(report.seconds, 3), "texts_per_second": round(report.texts_per_second, 2),
                 "load_seconds": round(report.load_seconds, 3)}
                for name, report in sorted(self.last_actors.items())]

    def _connect(self, ray: Any) -> None:
        if ray.is_initialized():
            return
        import assistant

        runtime_env = {"py_modules": [str(Path(assistant.__file__).parent)]} if self.address else None
        # Ray Data's own actor arguments trip a core-worker note on every build (ray#53727).
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        ray.init(address=self.address, runtime_env=runtime_env, include_dashboard=False,
                 log_to_driver=False, logging_level="ERROR")
        self._started = True

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False


def _quiet_and_patient(ray: Any) -> None:
    """No progress bars or per-dataset notes on stderr; dispatch once every actor has loaded its
    model (an even share for each), or fail with one line when the cluster cannot start them."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    context.wait_for_min_actors_s = ACTOR_START_TIMEOUT_S
    logging.getLogger("ray.data").setLevel(logging.ERROR)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300] or type(error).__name__


@contextmanager
def ray_embed_stage(address: str | None = None, *, actors: int | None = None) -> Iterator[RayEmbedStage]:
    """A `RayEmbedStage` that shuts down the Ray it started when the block ends."""
    stage = RayEmbedStage(address=address, actors=actors)
    try:
        yield stage
    finally:
        stage.close()
