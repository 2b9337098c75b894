"""Measuring the assistant: retrieval recall, quote hits, abstention and latency.

`evaluate` asks every question through a `QAService` (the same path as the CLI)
and, from the same query embedding, also ranks with BM25 only, dense only and
RRF, so one run reports the full system next to those baselines. `summarize`
turns per-question results into the report; it is pure and tested on its own.

Definitions (answerable questions only unless said otherwise):
- passage recall@k: a gold passage is among the first k passages (SQuAD: the
  paragraph the question was written on; JSONL: a passage containing an answer).
- quote hit@1 / hit@3: the first quote / one of the first three quotes contains
  a gold answer, case-insensitively (substring: "8" is found in "1980"). An
  abstention is a miss. word hit@1 / @3: the same, but the answer must stand as
  whole words (not preceded or followed by a letter or digit).
- extra quotes on topic: of the quotes after the first, the share from the same
  event or article as the right answer (conflict-news: the item's `thread`; SQuAD:
  the article title).
- abstention precision: declined questions that should be declined / declined;
  recall: should-be-declined questions that were declined. Declines are split by
  outcome (records.AnswerStatus): not in the corpus, detail missing, too vague.
- exact quotes: every quote and nearest passage equals `text[start:end]` of its
  document as read again from the corpus files on disk (`disk_documents`), not
  the stored copy it was cut from.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.eval_data import EvalQuestion
from assistant.records import Document
from assistant.search.ranking import PASSAGES_PER_QUESTION
from assistant.search.retrieval import FusionMethod, SearchIndex, fuse, top_rows

RECALL_AT = (1, 5, 20)
BASELINES = (FusionMethod.BM25, FusionMethod.DENSE, FusionMethod.RRF)
MODES = ("hybrid", "bm25", "dense", "rrf")


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """True when `text` contains any non-empty answer, ignoring case."""
    folded = text.casefold()
    return any(answer.strip() and answer.strip().casefold() in folded for answer in answers)


def contains_answer_words(text: str, answers: Iterable[str]) -> bool:
    """True when `text` contains an answer as whole words, ignoring case ("8" is not in "1980")."""
    folded = text.casefold()
    for answer in answers:
        wanted = answer.strip().casefold()
        if wanted and re.search(r"(?<![^\W_])" + re.escape(wanted) + r"(?![^\W_])", folded):
            return True
    return False


def topic_of(document: Document) -> str:
    """What event or article a document is about: a conflict-news item's `thread`, else its title."""
    thread = document.metadata.get("thread") if document.metadata else None
    if isinstance(thread, (list, tuple)) and thread:
        return " > ".join(map(str, thread))
    if isinstance(thread, str) and thread:
        return thread
    return document.title


def select_questions(questions: Sequence[EvalQuestion], *, articles: str = "all",
                     limit: int | None = None, seed: int = 0) -> tuple[EvalQuestion, ...]:
    """The questions to ask: of even/odd-numbered articles (or all), then a seeded sample.

    `articles` is "all", "even" (the tuning half) or "odd" (the holdout half);
    the sample keeps file order.
    """
    if articles not in ("all", "even", "odd"):
        raise ValueError(f"--articles must be all, even or odd, not '{articles}'")
    chosen = [q for q in questions
              if articles == "all" or (q.article % 2 == 0) == (articles == "even")]
    if limit is not None and limit < len(chosen):
        keep = set(random.Random(seed).sample(range(len(chosen)), limit))
        chosen = [q for position, q in enumerate(chosen) if position in keep]
    return tuple(chosen)


@dataclass(frozen=True, kw_only=True)
class QuestionResult:
    """What one question got: per mode, the rank of the first relevant passage and quote.

    Ranks are 1-based; None means not found (within `RECALL_AT[-1]` passages, within
    the quotes given). `answered` and the latencies are those of the full system.
    """

    question_id: str
    answerable: bool
    answered: bool
    passage_rank: dict[str, int | None] = field(default_factory=dict)
    quote_rank: dict[str, int | None] = field(default_factory=dict)
    elapsed_ms: float = 0.0
    embed_ms: float = 0.0
    quotes: int = 0
    slice_violations: int = 0
    article: int = 0
    evidence: float | None = None
    evidence_features: tuple[float, ...] = ()
    status: str = ""
    word_quote_rank: int | None = None
    extra_quotes: int = 0
    extra_on_topic: int | None = None
    unchecked_quotes: int = 0
    candidates: tuple[dict[str, Any], ...] = ()


def _first_rank(flags: Iterable[bool]) -> int | None:
    for position, flag in enumerate(flags, start=1):
        if flag:
            return position
    return None


def _percentile(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if len(values) else None


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def summarize(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """The evaluation report as a JSON-ready dict (see the module docstring for definitions)."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    modes: dict[str, Any] = {}
    for mode in MODES:
        ranks = [r.passage_rank.get(mode) for r in answerable]
        quote_ranks = [r.quote_rank.get(mode) for r in answerable]
        modes[mode] = {
            **{f"passage_recall@{k}": _ratio(sum(1 for rank in ranks if rank and rank <= k), len(ranks))
               for k in RECALL_AT},
            "quote_hit@1": _ratio(sum(1 for rank in quote_ranks if rank == 1), len(quote_ranks)),
            "quote_hit@3": _ratio(sum(1 for rank in quote_ranks if rank and rank <= 3), len(quote_ranks)),
        }
    word_ranks = [r.word_quote_rank for r in answerable]
    modes["hybrid"]["word_hit@1"] = _ratio(sum(1 for rank in word_ranks if rank == 1), len(word_ranks))
    modes["hybrid"]["word_hit@3"] = _ratio(sum(1 for rank in word_ranks if rank and rank <= 3), len(word_ranks))
    topical = [r for r in answerable if r.extra_on_topic is not None]
    extra = sum(r.extra_quotes for r in topical)
    answered_results = [r for r in results if r.answered]
    declined = [r for r in results if not r.answered]
    correctly_declined = sum(1 for r in declined if not r.answerable)
    latencies = [r.elapsed_ms for r in results]
    embeds = [r.embed_ms for r in results]
    p50, embed_p50 = _percentile(latencies, 50), _percentile(embeds, 50)
    return {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "modes": modes,
        "abstention": {
            "answered_when_answerable": _ratio(sum(1 for r in answerable if r.answered), len(answerable)),
            "declined_when_unanswerable": _ratio(correctly_declined, len(unanswerable)),
            "precision": _ratio(correctly_declined, len(declined)),
            "recall": _ratio(correctly_declined, len(unanswerable)),
        },
        "latency_ms": {
            "p50": p50, "p95": _percentile(latencies, 95),
            "embed_p50": embed_p50, "embed_p95": _percentile(embeds, 95),
            "p50_over_embed_p50": round(p50 / embed_p50, 2) if p50 and embed_p50 else None,
        },
        "exact_slices": {"quotes": sum(r.quotes for r in results),
                         "violations": sum(r.slice_violations for r in results),
                         "unchecked": sum(r.unchecked_quotes for r in results)},
        "quotes": {
            "per_answer": _ratio(sum(len_quotes(r) for r in answered_results), len(answered_results)),
            "one_quote_answers": _ratio(sum(1 for r in answered_results if r.extra_quotes == 0),
                                        len(answered_results)),
            "extra_quotes": extra,
            "extra_on_topic": _ratio(sum(r.extra_on_topic or 0 for r in topical), extra),
        },
        "outcomes": {status: sum(1 for r in results if r.status == status)
                     for status in ("answered", "not_in_corpus", "detail_missing", "too_vague")},
        "answerable_outcomes": {status: sum(1 for r in answerable if r.status == status)
                                for status in ("answered", "not_in_corpus", "detail_missing", "too_vague")},
    }


def len_quotes(result: QuestionResult) -> int:
    """Quotes an answered question got (the first plus its extra quotes)."""
    return 1 + result.extra_quotes if result.answered else 0


CANDIDATES_KEPT = 10
"""Candidates per question written to `--details` (best first), for refitting without retrieval."""


def _passage_hits(index: SearchIndex, rows: np.ndarray, question: EvalQuestion) -> list[bool]:
    if question.doc_id is not None:
        return [index.documents[index.chunk_doc[row]].id == question.doc_id for row in rows]
    return [contains_answer(index.documents[index.chunk_doc[row]].text[
        index.chunk_start[row]:index.chunk_end[row]], question.answers) for row in rows]


def _baseline_sentences(index: SearchIndex, details: Any, method: FusionMethod,
                        fused: np.ndarray) -> list[int]:
    """The three best sentences of a single-method pipeline (no learned ranker)."""
    passages = top_rows(fused, PASSAGES_PER_QUESTION)
    if len(passages) == 0:
        return []
    rows = np.concatenate([index.chunk_sentences[int(chunk)] for chunk in passages]).astype(np.int64)
    if len(rows) == 0:
        return []
    dense = index.sentence_vectors[rows] @ details.query_vector
    bm25 = details.sentence_bm25[rows]
    if method is FusionMethod.BM25:
        scores = bm25.astype(np.float64)
    elif method is FusionMethod.DENSE:
        scores = dense.astype(np.float64)
    else:
        scores = np.zeros(len(rows))
        for values in (dense, bm25):
            order = np.argsort(-values, kind="stable")
            scores[order] += 1.0 / (60 + np.arange(1, len(rows) + 1))
    return [int(rows[i]) for i in np.argsort(-scores, kind="stable")[:3]]


def _candidate_records(index: SearchIndex, ranking: Any, question: EvalQuestion,
                       gold_topic: str | None) -> tuple[dict[str, Any], ...]:
    """The best `CANDIDATES_KEPT` candidates with what refitting needs (no retrieval again)."""
    order = np.argsort(-ranking.scores, kind="stable")[:CANDIDATES_KEPT]
    records = []
    for position in order:
        row = int(ranking.candidates.rows[position])
        text = index.sentence_text(row)
        doc = index.sentence_doc[row]
        neighbours = [r for r in (row - 1, row, row + 1)
                      if 0 <= r < len(index.sentence_doc) and index.sentence_doc[r] == doc]
        records.append({
            "row": row,
            # What a reading model sees: the title (attribution context) and the sentence with its neighbours.
            "window": index.documents[doc].title + " | " + " ".join(index.sentence_text(r) for r in neighbours),
            "score": round(float(ranking.scores[position]), 4),
            "presence_features": [round(float(v), 4) for v in ranking.presence_features[position]],
            "own_evidence": round(float(ranking.own_evidence[position]), 4),
            "answer": contains_answer_words(text, question.answers),
            "on_topic": (None if gold_topic is None
                         else topic_of(index.documents[index.sentence_doc[row]]) == gold_topic),
        })
    return tuple(records)


def judge(index: SearchIndex, question: EvalQuestion, details: Any,
          document: Callable[[str], Any], *, keep_candidates: bool = False,
          indexed: dict[str, Document] | None = None) -> QuestionResult:
    """Score one asked question under the full system and every baseline.

    `document(doc_id)` returns the document as read again from the corpus files on
    disk (None when that corpus was not given), against which every quote is checked
    to be an exact slice (`text == document.text[start:end]`); quotes it cannot check
    are counted as unchecked. `keep_candidates` keeps the best candidates' features.
    `indexed` maps ids to the index's documents (built from `index` when not given).
    """
    answer = details.answer
    ranking = details.ranking
    gold_id = question.doc_id or question.record
    by_id = indexed if indexed is not None else {d.id: d for d in index.documents}
    gold = by_id.get(gold_id) if gold_id else None
    gold_topic = topic_of(gold) if gold is not None else None
    passage_rank: dict[str, int | None] = {}
    quote_rank: dict[str, int | None] = {}
    deepest = RECALL_AT[-1]
    quote_rank["hybrid"] = _first_rank(contains_answer(q.text, question.answers) for q in answer.quotes)
    word_rank = _first_rank(contains_answer_words(q.text, question.answers) for q in answer.quotes)
    if ranking is not None:
        passage_rank["hybrid"] = _first_rank(_passage_hits(index, top_rows(ranking.fused, deepest), question))
        for method in BASELINES:
            fused = fuse(ranking.passage_scores, method)
            passage_rank[method.value] = _first_rank(_passage_hits(index, top_rows(fused, deepest), question))
            sentences = _baseline_sentences(index, details, method, fused)
            quote_rank[method.value] = _first_rank(
                contains_answer(index.sentence_text(row), question.answers) for row in sentences)
    violations = unchecked = 0
    for quote in (*answer.quotes, *answer.nearest):
        stored = document(quote.doc_id)
        if stored is None:
            unchecked += 1
        elif stored.text[quote.start:quote.end] != quote.text:
            violations += 1
    extras = answer.quotes[1:]
    on_topic = None
    if gold_topic is not None:
        on_topic = sum(1 for q in extras if q.doc_id in by_id and topic_of(by_id[q.doc_id]) == gold_topic)
    return QuestionResult(
        question_id=question.id, answerable=bool(question.answers), answered=answer.answered,
        passage_rank=passage_rank, quote_rank=quote_rank, elapsed_ms=answer.elapsed_ms,
        embed_ms=details.embed_ms, quotes=len(answer.quotes) + len(answer.nearest),
        slice_violations=violations, unchecked_quotes=unchecked,
        article=question.article,
        evidence=None if ranking is None else round(ranking.evidence, 4),
        evidence_features=() if ranking is None else tuple(
            round(float(value), 4) for value in ranking.evidence_features),
        status=answer.outcome.value, word_quote_rank=word_rank, extra_quotes=len(extras),
        extra_on_topic=on_topic,
        candidates=(_candidate_records(index, ranking, question, gold_topic)
                    if keep_candidates and ranking is not None else ()),
    )


def evaluate(service: Any, questions: Sequence[EvalQuestion], *,
             progress: Callable[[Iterable[EvalQuestion]], Iterable[EvalQuestion]] | None = None,
             disk_documents: dict[str, Document] | None = None, keep_candidates: bool = False,
             ) -> tuple[dict[str, Any], list[QuestionResult]]:
    """Ask every question through `service` and summarize; returns (report, per-question results).

    `disk_documents` are the corpus documents read again from disk (by id); quotes
    are checked against them. Without them every quote counts as unchecked.
    """
    results = []
    lookup = (disk_documents or {}).get
    index = service.search_index
    indexed = {document.id: document for document in index.documents}
    for question in (progress(questions) if progress else questions):
        details = service.ask_details(question.question)
        results.append(judge(index, question, details, lookup, keep_candidates=keep_candidates,
                             indexed=indexed))
    return summarize(results), results


def eval_cache_dir(path: Path, model: str) -> Path:
    """Default index folder for a SQuAD file: the user cache, keyed by file hash and model.

    `$XDG_CACHE_HOME/conflict-qa/eval/<file name>-<16 hex of SHA-256>-<model>`, so
    re-running on the same file and model reuses the built index.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    model_slug = re.sub(r"[^A-Za-z0-9.-]+", "_", model).strip("_")[-60:]
    stem = re.sub(r"[^A-Za-z0-9.-]+", "_", path.name)[:60]
    return cache_home / "conflict-qa" / "eval" / f"{stem}-{digest.hexdigest()[:16]}-{model_slug}"


@dataclass(frozen=True, kw_only=True)
class EvalPlan:
    """What an eval run asks and against which index."""

    questions: tuple[EvalQuestion, ...]
    index_dir: Path
    documents: tuple[Document, ...] = ()
    corpus: tuple[Path, ...] = ()


def plan_eval(path: Path, *, index_dir: Path | None, default_index: Path, model: str,
              articles: str = "all", limit: int | None = None, seed: int = 0,
              foreign_index: Path | None = None, corpus: Sequence[Path] = ()) -> EvalPlan:
    """Read FILE and decide the index to ask.

    A SQuAD file brings its own corpus: its index is built in `index_dir` (default
    `eval_cache_dir`) or reused from there. A JSONL file is asked against
    `index_dir` (default `default_index`). With `foreign_index`, the questions are
    asked against that other corpus's index instead, and every one should be declined.
    `corpus` names the files the asked index was built from (a SQuAD file is its own),
    read again at the end to check every quote against them.
    """
    from dataclasses import replace

    from assistant.eval_data import is_squad_file, load_question_file, load_squad

    squad = load_squad(path) if is_squad_file(path) else None
    questions = squad.questions if squad else load_question_file(path)
    chosen = select_questions(questions, articles=articles, limit=limit, seed=seed)
    if foreign_index is not None:
        return EvalPlan(questions=tuple(replace(q, answers=(), doc_id=None, record=None) for q in chosen),
                        index_dir=foreign_index, corpus=tuple(corpus))
    if squad is not None:
        return EvalPlan(questions=chosen, index_dir=index_dir or eval_cache_dir(path, model),
                        documents=squad.documents, corpus=(path,))
    return EvalPlan(questions=chosen, index_dir=index_dir or default_index, corpus=tuple(corpus))


def read_corpus_again(paths: Sequence[Path]) -> dict[str, Document]:
    """The documents of `paths` read afresh from disk, by id (SQuAD files or corpus files)."""
    from assistant.eval_data import is_squad_file, load_squad
    from assistant.ingest.corpus import load_corpus

    documents: dict[str, Document] = {}
    squad = [Path(p) for p in paths if is_squad_file(Path(p))]
    other = [Path(p) for p in paths if not is_squad_file(Path(p))]
    for path in squad:
        documents.update((d.id, d) for d in load_squad(path).documents)
    if other:
        documents.update((d.id, d) for d in load_corpus(other).documents)
    return documents


def render_report(report: dict[str, Any]) -> str:
    """The report as a small table for a terminal."""
    def show(value: float | None) -> str:
        return "   -  " if value is None else f"{value:6.3f}"

    lines = [f"{report.get('file', '')}: {report['questions']:,} questions "
             f"({report['answerable']:,} answerable, {report['unanswerable']:,} should be declined), "
             f"articles: {report.get('articles', 'all')}",
             "", "mode     recall@1 recall@5 recall@20  hit@1  hit@3  (whole-word hit@1 hit@3)"]
    for mode, figures in report["modes"].items():
        words = (f"  {show(figures['word_hit@1'])} {show(figures['word_hit@3'])}"
                 if "word_hit@1" in figures else "")
        lines.append(f"{mode:8s} {show(figures['passage_recall@1'])}   {show(figures['passage_recall@5'])}  "
                     f"{show(figures['passage_recall@20'])}  {show(figures['quote_hit@1'])} "
                     f"{show(figures['quote_hit@3'])}{words}")
    abstention = report["abstention"]
    latency = report["latency_ms"]
    lines += [
        "(hybrid is the full system; bm25/dense/rrf rank passages and sentences with that method alone)",
        "",
        f"answered when answerable {show(abstention['answered_when_answerable'])}   "
        f"declined when unanswerable {show(abstention['declined_when_unanswerable'])}",
        f"abstention precision {show(abstention['precision'])}   recall {show(abstention['recall'])}",
        f"latency p50 {latency['p50']} ms, p95 {latency['p95']} ms; question embedding alone p50 "
        f"{latency['embed_p50']} ms (p50 ratio {latency['p50_over_embed_p50']})",
        f"quotes checked as exact slices of the corpus read again from disk: "
        f"{report['exact_slices']['quotes'] - report['exact_slices'].get('unchecked', 0):,}, "
        f"violations: {report['exact_slices']['violations']}, "
        f"unchecked (no --corpus): {report['exact_slices'].get('unchecked', 0):,}",
    ]
    if "quotes" in report:
        quotes = report["quotes"]
        lines.append(f"quotes per answer {show(quotes['per_answer'])}, one-quote answers "
                     f"{show(quotes['one_quote_answers'])}, extra quotes {quotes['extra_quotes']:,} of which "
                     f"on the right answer's topic {show(quotes['extra_on_topic'])}")
        lines.append("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in report["outcomes"].items()))
    return "\n".join(lines)


class CachedEmbedder:
    """An embedder that remembers question vectors in a `.npz` file, for repeated evaluation runs.

    `prepare(texts)` embeds the missing ones in batches (much faster than one at a time)
    and saves the file; `encode` then answers from memory. Vectors are the wrapped
    embedder's, so answers are the same as without the cache.
    """

    def __init__(self, embedder: Any, path: Path) -> None:
        self.embedder = embedder
        self.name, self.dimension = embedder.name, embedder.dimension
        self.max_tokens = embedder.max_tokens
        self.path = Path(path)
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path, allow_pickle=False) as stored:
                self.vectors = dict(zip(stored["texts"].tolist(), stored["vectors"]))

    def prepare(self, texts: Sequence[str]) -> None:
        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if not missing:
            return
        for text, vector in zip(missing, self.embedder.encode(missing)):
            self.vectors[text] = vector
        texts_all = list(self.vectors)
        np.savez(self.path, texts=np.array(texts_all), vectors=np.stack([self.vectors[t] for t in texts_all]))

    def encode(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            for text, vector in zip(missing, self.embedder.encode(missing)):
                self.vectors[text] = vector
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)
