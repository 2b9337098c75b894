"""Loading documents: Markdown, JSONL(.gz), plain text and HTML files into `Document`s.

Bad input never stops a load: an unreadable file, a line that is not JSON, a record
without text are each reported as a `Problem` (`file:line: reason`) and skipped, and
everything else still loads. Only a path that does not exist raises `CorpusError`.

How each document gets its fields:

- id: the given `id`; else "url-" + the first 12 hex digits of the SHA-1 of the
  normalised URL (lowercase scheme and host, no "www.", no fragment, no trailing "/");
  else the file's path relative to the folder it was found under (the file name when a
  file is named directly), with characters other than letters, digits, ".", "_" and "-"
  replaced by "-", plus "-LINE" for a JSONL record. Loading the same files twice gives
  the same ids. A repeated id is reported and the later document skipped.
- source: the given `source` (a list is joined with "; "); else, for HTML, the site
  name; else the URL's host without "www."; else "unknown".
- title: the given `title`; else the first "# heading" (Markdown) or the page title
  (HTML); else the start of the text (JSONL); else the file name made readable
  ("belgorod-strikes.txt" -> "belgorod strikes").
- published: an ISO date via `dates.normalize_date`; a value it cannot read keeps the
  document, without a date, and is reported.
- publisher: who wrote the text, the given `publisher`; else the source.
  publisher_url: the page holding the text, the given `publisher_url` (or `portal_url`).
  cites: the reports the text cites, from `citations` (or `cites`): a list of
  `{name, url}` objects or of names; an entry without a name is reported and skipped.
  license: the given `license`. These fields are read the same way from JSON lines and
  from Markdown front matter; HTML gets the page's site name and declared license.
- text: the body as written, only surrounding whitespace removed: quotes are slices of it.

Published formats (RSS/Atom feeds, ReliefWeb and GDELT API JSON, ACLED and UCDP GED
exports) are recognised by their content, whatever the file is named, and read by
`assistant.ingest.formats`; their records then get their fields as above.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from assistant.ingest import formats as published_formats
from assistant.ingest.dates import normalize_date
from assistant.records import CitedReport, Document, Problem

MARKDOWN_SUFFIXES = (".md", ".markdown")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
SUPPORTED_SUFFIXES = (MARKDOWN_SUFFIXES + JSONL_SUFFIXES + TEXT_SUFFIXES + HTML_SUFFIXES
                      + published_formats.FORMAT_SUFFIXES)

UNKNOWN_SOURCE = "unknown"
URL_ID_DIGITS = 12
"""Hex digits of SHA-1 kept in a URL-derived id: 48 bits, no collision in any corpus this size."""
TITLE_FROM_TEXT_CHARS = 80
BINARY_SNIFF_BYTES = 8192
"""A NUL byte in the first 8 KiB marks a binary file (the heuristic git and grep use)."""

_KNOWN_FIELDS = ("id", "title", "source", "url", "published", "author",
                 "publisher", "publisher_url", "portal_url", "citations", "cites", "license")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)",
                           re.DOTALL | re.MULTILINE)
_FIRST_HEADING = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


class CorpusError(Exception):
    """A corpus path that cannot be loaded at all; the message is one line for the user."""


@dataclass(frozen=True, kw_only=True)
class CorpusLoad:
    """The documents read, in load order, and the input that could not be used."""

    documents: tuple[Document, ...]
    problems: tuple[Problem, ...]


class _FileProblem(Exception):
    """A whole file is unusable; the message is the Problem's reason, `line` where it is."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.line = line


DEFAULT_MAX_DOCUMENT_MB = 10.0
"""Larger documents are skipped with a problem line (Settings.max_document_mb, `build --max-document-mb`)."""


def load_corpus(paths: Sequence[Path], *, max_document_mb: float | None = DEFAULT_MAX_DOCUMENT_MB,
                detect_languages: bool = True) -> CorpusLoad:
    """Read every supported file under `paths` (folders are searched recursively).

    A document whose text is over `max_document_mb` MB of UTF-8 (None: no limit) is
    reported as `file:line: document over N MB, split into parts` and skipped. Each
    document's `language` is the one its record gives (a `language` field), else the
    one detected from its text (ingest/languages.py), unless `detect_languages` is False.

    Folders: hidden files and folders (name starting with ".") are skipped, and so,
    silently, are files of other types. A file named directly with an unsupported type
    is reported. Files load in sorted path order, so the result is deterministic.
    Raises CorpusError("no such file or directory: PATH") before reading anything.
    """
    for path in paths:
        if not Path(path).exists():
            raise CorpusError(f"no such file or directory: {path}")
    documents: list[Document] = []
    problems: list[Problem] = []
    first_origin: dict[str, str] = {}
    seen_files: set[Path] = set()
    for file_path, relative_name in _corpus_files(paths, problems):
        resolved = file_path.resolve()
        if resolved in seen_files:
            continue
        seen_files.add(resolved)
        for item in _load_file(file_path, relative_name):
            if isinstance(item, Problem):
                problems.append(item)
            elif max_document_mb is not None and _over_size(item.text, max_document_mb):
                line = item.origin.removeprefix(f"{file_path}:")
                problems.append(_problem(str(file_path), f"document over {max_document_mb:g} MB, split into parts",
                                         int(line) if line != item.origin else None))
            elif item.id in first_origin:
                # A JSONL record's origin is "path:line"; a file's is the path alone.
                line = item.origin.removeprefix(f"{file_path}:")
                problems.append(_problem(
                    str(file_path), f"duplicate id '{item.id}' (first in "
                    f"{first_origin[item.id]}); skipped",
                    int(line) if line != item.origin else None))
            else:
                first_origin[item.id] = item.origin
                documents.append(_with_language(item) if detect_languages else item)
    return CorpusLoad(documents=tuple(documents), problems=tuple(problems))


def _over_size(text: str, max_document_mb: float) -> bool:
    limit = max_document_mb * 1_000_000
    # A character is 1-4 UTF-8 bytes: only a text in between needs encoding to tell.
    if len(text) > limit:
        return True
    return len(text) * 4 > limit and len(text.encode("utf-8")) > limit


def _with_language(document: Document) -> Document:
    from assistant.ingest.languages import detect_language

    given = document.metadata.get("language")
    if isinstance(given, str) and given.strip():
        return dataclasses.replace(document, language=given.strip().lower())
    return dataclasses.replace(document, language=detect_language(document.text))


def _corpus_files(paths: Sequence[Path], problems: list[Problem]) -> Iterator[tuple[Path, str]]:
    """(file, its path relative to the folder it was found under) for each file to load."""
    for path in map(Path, paths):
        if path.is_dir():
            found: list[tuple[str, Path]] = []
            for folder, dir_names, file_names in os.walk(path):
                dir_names[:] = [name for name in dir_names if not name.startswith(".")]
                for name in file_names:
                    if not name.startswith(".") and _suffix(name):
                        file_path = Path(folder) / name
                        found.append((file_path.relative_to(path).as_posix(), file_path))
            for relative_name, file_path in sorted(found):
                yield file_path, relative_name
        elif _suffix(path.name):
            yield path, path.name
        else:
            problems.append(Problem(path=str(path), reason="unsupported file type (use "
                                    + ", ".join(SUPPORTED_SUFFIXES) + ")"))


def _suffix(name: str) -> str | None:
    lowered = name.lower()
    return next((suffix for suffix in SUPPORTED_SUFFIXES if lowered.endswith(suffix)), None)


def _load_file(path: Path, relative_name: str) -> list[Document | Problem]:
    suffix = _suffix(path.name)
    try:
        raw = path.read_bytes()
        published = _load_published_format(path, relative_name, raw)
        if published is not None:
            return published
        if suffix in published_formats.FORMAT_SUFFIXES:
            raise _FileProblem("not a recognised format (RSS/Atom feed, ReliefWeb or GDELT JSON, "
                               "ACLED or UCDP GED export)")
        if suffix in JSONL_SUFFIXES:
            return _load_jsonl(path, relative_name, raw, gzipped=suffix == ".jsonl.gz")
        if suffix in MARKDOWN_SUFFIXES:
            return _load_markdown(path, relative_name, _decode_text(raw))
        if suffix in HTML_SUFFIXES:
            return _load_html(path, relative_name, raw)
        return _load_text(path, relative_name, _decode_text(raw))
    except OSError as error:
        return [_problem(str(path), f"cannot read file: {(error.strerror or str(error)).lower()}")]
    except _FileProblem as error:
        return [_problem(str(path), str(error), error.line)]


def _load_published_format(path: Path, relative_name: str,
                           raw: bytes) -> list[Document | Problem] | None:
    """The records of a feed or data export, or None when `raw` is none of those formats."""
    found = published_formats.detect(published_formats.head(raw))
    if found is None:
        return None
    results: list[Document | Problem] = []
    try:
        for item in found.parse(published_formats.gunzip_if_needed(raw)):
            if isinstance(item, published_formats.FormatProblem):
                results.append(_problem(str(path), item.reason, item.line))
                continue
            results.extend(_build(dict(item.fields), item.text, path=path,
                                  fallback_id=f"{relative_name}-{item.line}",
                                  fallback_title=_title_from_text(item.text), line=item.line))
    except published_formats.FormatError as error:
        raise _FileProblem(str(error)) from None
    return results


def _decode_text(raw: bytes) -> str:
    if b"\x00" in raw[:BINARY_SNIFF_BYTES]:
        raise _FileProblem("binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _FileProblem(f"not utf-8 text (bad byte at offset {error.start})") from None


def _load_markdown(path: Path, relative_name: str, content: str) -> list[Document | Problem]:
    fields: dict[str, Any] = {}
    body = content
    front_matter = _FRONT_MATTER.match(content)
    if front_matter:
        try:
            parsed = yaml.safe_load(front_matter[1])
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            detail = getattr(error, "problem", None)
            # +2: YAML counts from 0, and the front matter starts on the file's line 2.
            raise _FileProblem("invalid yaml front matter" + (f": {detail}" if detail else ""),
                               mark.line + 2 if mark is not None else None) from None
        if parsed is not None and not isinstance(parsed, dict):
            raise _FileProblem("front matter is not a list of 'key: value' lines")
        fields = {str(key): value for key, value in (parsed or {}).items()}
        body = content[front_matter.end():]
    heading = _FIRST_HEADING.search(body)
    return _build(fields, body, path=path, fallback_id=relative_name,
                  fallback_title=heading[1] if heading else _title_from_file_name(path))


def _load_text(path: Path, relative_name: str, content: str) -> list[Document | Problem]:
    return _build({}, content, path=path, fallback_id=relative_name,
                  fallback_title=_title_from_file_name(path))


def _load_html(path: Path, relative_name: str, raw: bytes) -> list[Document | Problem]:
    # Imported here: trafilatura pulls in lxml and friends, which `--help` should not pay for.
    import trafilatura

    if b"\x00" in raw[:BINARY_SNIFF_BYTES]:
        raise _FileProblem("binary file, not html")
    # Bytes, not str: trafilatura honours the page's declared charset. It works on the
    # given content only and never fetches (no url to follow, no network calls).
    page = trafilatura.bare_extraction(
        raw, with_metadata=True, include_comments=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if page is None or not (page.text or "").strip():
        raise _FileProblem("no main text found in html")
    fields = {"title": page.title, "author": page.author, "published": page.date,
              "url": page.url}
    fields = {key: value for key, value in fields.items() if value}
    if page.sitename:
        fields["source"] = page.sitename
    if getattr(page, "license", None):
        fields["license"] = page.license
    return _build(fields, page.text, path=path, fallback_id=relative_name,
                  fallback_title=_title_from_file_name(path))


def _load_jsonl(path: Path, relative_name: str, raw: bytes, *,
                gzipped: bool) -> list[Document | Problem]:
    if gzipped:
        try:
            raw = gzip.decompress(raw)
        except (gzip.BadGzipFile, EOFError, zlib.error):
            raise _FileProblem("not a valid gzip file") from None
    if b"\x00" in raw[:BINARY_SNIFF_BYTES]:
        raise _FileProblem("binary file, not json lines")
    results: list[Document | Problem] = []
    origin_path = str(path)
    for line_number, line_bytes in enumerate(raw.split(b"\n"), start=1):
        if not line_bytes.strip():
            continue
        try:
            record = json.loads(line_bytes.decode("utf-8-sig" if line_number == 1 else "utf-8"))
        except UnicodeDecodeError:
            results.append(_problem(origin_path, "not utf-8 text", line_number))
            continue
        except json.JSONDecodeError as error:
            results.append(_problem(origin_path, f"invalid json: {_lower_first(error.msg)} "
                                                 f"at column {error.colno}", line_number))
            continue
        if not isinstance(record, dict):
            results.append(_problem(origin_path, "not a json object", line_number))
            continue
        text = record.pop("text", None)
        if not isinstance(text, str):
            results.append(_problem(origin_path, "missing or empty 'text'", line_number))
            continue
        results.extend(_build(record, text, path=path,
                              fallback_id=f"{relative_name}-{line_number}",
                              fallback_title=_title_from_text(text), line=line_number))
    return results


def _build(fields: dict[str, Any], text: str, *, path: Path, fallback_id: str,
           fallback_title: str, line: int | None = None) -> list[Document | Problem]:
    """One Document from its fields and text, plus a Problem for an unreadable date."""
    problem_path = str(path)
    origin = problem_path if line is None else f"{problem_path}:{line}"
    text = text.strip()
    if not text:
        return [_problem(problem_path, "missing or empty 'text'" if line is not None
                         else "empty document", line)]
    url = _clean_string(fields.get("url"))
    published_raw = fields.get("published")
    published = normalize_date(published_raw)
    results: list[Document | Problem] = []
    if published is None and _clean_string(published_raw) is not None:
        results.append(_problem(problem_path, f"cannot read published date "
                                              f"'{published_raw}'; kept without a date", line))
    cites, cite_problems = _cites(fields.get("citations", fields.get("cites")))
    results.extend(_problem(problem_path, reason, line) for reason in cite_problems)
    source = _source(fields.get("source"), url)
    given_id = _clean_string(fields.get("id"))
    document = Document(
        id=given_id or (_url_id(url) if url else _path_id(fallback_id)),
        text=text,
        title=_clean_string(fields.get("title")) or fallback_title,
        source=source,
        url=url,
        published=published,
        author=_clean_string(fields.get("author")),
        origin=origin,
        metadata={key: _plain(value) for key, value in fields.items()
                  if key not in _KNOWN_FIELDS},
        publisher=_clean_string(fields.get("publisher")) or source,
        publisher_url=_clean_string(fields.get("publisher_url", fields.get("portal_url"))),
        cites=cites,
        license=_clean_string(fields.get("license")),
    )
    results.insert(0, document)
    return results


def _clean_string(value: Any) -> str | None:
    """A field as a stripped one-line string; lists are joined; empty becomes None."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(_plain(item)) for item in value if item is not None)
    text = " ".join(str(_plain(value)).split())
    return text or None


def _cites(value: Any) -> tuple[tuple[CitedReport, ...], list[str]]:
    """The cited reports in a `citations` field, and a reason for each entry that is unusable.

    Accepted: a list (or one entry) of `{name, url}` objects (`name` may also be
    `source` or `outlet`) or of plain names.
    """
    if value is None or value == "":
        return (), []
    entries = value if isinstance(value, (list, tuple)) else [value]
    cites: list[CitedReport] = []
    problems: list[str] = []
    for position, entry in enumerate(entries, start=1):
        raw_name, raw_url = entry, None
        if isinstance(entry, dict):
            raw_name = entry.get("name", entry.get("source", entry.get("outlet")))
            raw_url = entry.get("url")
        name = _clean_string(raw_name) if isinstance(raw_name, str) else None
        url = _clean_string(raw_url) if isinstance(raw_url, str) else None
        if name is None:
            problems.append(f"citation {position} has no name; skipped")
            continue
        cites.append(CitedReport(name=name, url=url))
    return tuple(cites), problems


def _source(value: Any, url: str | None) -> str:
    given = _clean_string(value)
    if given:
        return given
    if url:
        host = urlsplit(url).hostname or ""
        host = host.removeprefix("www.")
        if host:
            return host
    return UNKNOWN_SOURCE


def normalize_url(url: str) -> str:
    """The form of `url` that ids are derived from: "HTTPS://www.X.org/a/#p" -> "https://x.org/a"."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    return urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/"), parts.query, ""))


def url_document_id(url: str) -> str:
    """The id a document with this URL and no id of its own gets (see the module docstring)."""
    return _url_id(url)


def _url_id(url: str) -> str:
    digest = hashlib.sha1(normalize_url(url).encode("utf-8")).hexdigest()
    return f"url-{digest[:URL_ID_DIGITS]}"


def _path_id(relative_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", relative_name).strip("-") or "document"


def _title_from_file_name(path: Path) -> str:
    name = path.name
    suffix = _suffix(name) or path.suffix
    stem = name[: len(name) - len(suffix)] if suffix else name
    return " ".join(re.sub(r"[-_]+", " ", stem).split()) or name


def _title_from_text(text: str) -> str:
    first_line = " ".join(text.strip().split("\n", 1)[0].split())
    if len(first_line) <= TITLE_FROM_TEXT_CHARS:
        return first_line
    cut = first_line[:TITLE_FROM_TEXT_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def _plain(value: Any) -> Any:
    """Dates (as YAML gives them) as ISO strings, so metadata stays JSON-serialisable."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:]


def _problem(path: str, reason: str, line: int | None = None) -> Problem:
    return Problem(path=path, reason=reason, line=line)
