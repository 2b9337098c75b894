"""What the loaded archive holds, and example questions taken from it, for the chat's first screen.

Pure: documents and counts in, a small record or an HTML string out. The service is
asked only through the `is_answered` callable handed to `pick_examples`.

Example questions follow one stated rule (`example_candidates`):
1. Threads first: documents that carry a `thread` (the conflict-news archive's path
   through Wikipedia's conflict headings, e.g. ["Gaza war", "Israeli invasion of the
   Gaza Strip"]) are counted by their most specific heading; the headings with the
   most reports, most first (ties by name), become "What was reported about the HEADING?".
2. Then titles: documents without a thread, newest first, become 'What was reported
   about "TITLE"?'.
Each candidate is asked through the service at start-up and kept only when it is
answered, so no example refers to something the index lacks.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from assistant.ingest.outlets import publisher_name
from assistant.records import Document

EXAMPLE_COUNT = 3
"""Example questions shown on the empty chat."""
CANDIDATE_LIMIT = 12
"""Candidates asked at most while looking for EXAMPLE_COUNT answered ones (each ask ~0.1-1 s)."""
SUBJECT_MAX_CHARS = 120
"""Longer threads or titles make unreadable questions; they are skipped."""


@dataclass(frozen=True, kw_only=True)
class ArchiveOverview:
    """What the index holds, as the first screen states it.

    `publishers`: who wrote the words (a document's `publisher`, else its source, named
    as everywhere else by `ingest.outlets.publisher_name`), most reports first. `outlets`: distinct outlets named as sources.
    `languages`: (code, reports) most first; empty when no document records one.
    `updated`: when the index was built (manifest `created`, UTC ISO time).
    """

    reports: int
    publishers: tuple[tuple[str, int], ...]
    outlets: int
    first: str | None
    last: str | None
    undated: int
    updated: str | None
    languages: tuple[tuple[str, int], ...]


def _language(document: Document) -> str | None:
    value = getattr(document, "language", None) or document.metadata.get("language")
    return str(value).strip() or None if value else None


def archive_overview(documents: Sequence[Document], *, outlets: int, updated: str | None) -> ArchiveOverview:
    """The overview of `documents` (the loaded index), `outlets` distinct outlets, built at `updated`."""
    publishers = Counter(publisher_name(d.attribution.publisher) for d in documents)
    languages = Counter(language for language in map(_language, documents) if language)
    dates = sorted(d.published for d in documents if d.published)
    by_count = lambda counter: tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0])))  # noqa: E731
    return ArchiveOverview(
        reports=len(documents), publishers=by_count(publishers), outlets=outlets,
        first=dates[0] if dates else None, last=dates[-1] if dates else None,
        undated=len(documents) - len(dates), updated=updated, languages=by_count(languages))


def _day(value: str | None) -> str:
    try:
        day = dt.date.fromisoformat((value or "")[:10])
    except ValueError:
        return value or "unknown"
    return f"{day.day} {day.strftime('%B %Y')}"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def overview_lines(overview: ArchiveOverview) -> list[str]:
    """The overview as short plain sentences (the HTML and tests use the same words)."""
    names = ", ".join(f"{name} ({count:,})" for name, count in overview.publishers[:3])
    more = len(overview.publishers) - 3
    lines = [f"{_plural(overview.reports, 'report')} from {_plural(len(overview.publishers), 'publisher')}"
             f" ({names}{f', and {more:,} more' if more > 0 else ''}), "
             f"citing {_plural(overview.outlets, 'outlet')}."]
    if overview.first:
        span = f"Published {_day(overview.first)} to {_day(overview.last)}"
        lines.append(span + (f" ({overview.undated:,} undated)." if overview.undated else "."))
    if overview.languages:
        lines.append("Languages: " + ", ".join(f"{code} ({count:,})" for code, count in overview.languages) + ".")
    if overview.updated:
        lines.append(f"Last updated {_day(overview.updated)}"
                     + (f", {overview.updated[11:16]} UTC." if len(overview.updated) >= 16 else "."))
    return lines


def render_overview(overview: ArchiveOverview) -> str:
    """The overview as an HTML block (every value escaped)."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in overview_lines(overview))
    return (f'<div class="cqa-overview"><p class="cqa-heading">In this archive</p>'
            f'<ul>{items}</ul></div>')


def example_candidates(documents: Sequence[Document]) -> list[str]:
    """Candidate example questions by the rule in the module docstring, best first."""
    threads: Counter[str] = Counter()
    unthreaded: list[Document] = []
    for document in documents:
        thread = document.metadata.get("thread")
        if isinstance(thread, list) and thread and isinstance(thread[-1], str) and thread[-1].strip():
            threads[thread[-1].strip()] += 1
        else:
            unthreaded.append(document)
    subjects = [f"the {name}" for name, _ in sorted(threads.items(), key=lambda item: (-item[1], item[0]))]
    newest = sorted(unthreaded, key=lambda d: (d.published or "", d.id), reverse=True)
    subjects += [f'"{d.title.strip().rstrip(".?!")}"' for d in newest if d.title and d.title.strip()]
    questions = [f"What was reported about {subject}?" for subject in subjects
                 if len(subject) <= SUBJECT_MAX_CHARS]
    return list(dict.fromkeys(questions))


def pick_examples(candidates: Iterable[str], is_answered: Callable[[str], bool], *,
                  count: int = EXAMPLE_COUNT, limit: int = CANDIDATE_LIMIT) -> tuple[str, ...]:
    """The first `count` candidates that `is_answered` accepts, asking at most `limit`."""
    kept: list[str] = []
    for asked, question in enumerate(candidates):
        if asked >= limit or len(kept) >= count:
            break
        if is_answered(question):
            kept.append(question)
    return tuple(kept)
