"""Follow-up questions by fixed rules: "And in June?", "What about Kharkiv?", "Who said that?".

Pure: the previous question with its filters and the new text in, the question to ask
with its filters out, plus a line saying what was understood ("Searching: How many
people were killed in Kharkiv? · June 2025"). Nothing is generated; a rule either
applies or the text is asked as it is.

Rules, tried in this order, only on a short text (at most FOLLOWUP_MAX_WORDS words)
when there is a previous question:
1. Period: "And in June?", "What about May 2025?", "And in 2024?" -> the previous
   question and sources, dates set to that month or year. A month without a year takes
   the year of the previous period (its `since`, else `until`); without one it is not a
   follow-up (the month would be a guess).
2. Attribution: "Who said that?", "Who said it?", "Who reported that?", "Source?" -> the
   previous question and filters again; the bylines of the same quotes say who said it.
3. Place or subject: "What about Kharkiv?", "And Sumy?", "How about in Odesa?" -> the
   previous question with its last capitalised name (not the first word) replaced by the
   new one, or with " in NAME" added when it names none; the filters stay.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from assistant.ingest.dates import question_dates

FOLLOWUP_MAX_WORDS = 6
"""Longer texts are questions of their own."""

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_LEAD = re.compile(r"^\s*(?:and|what about|how about|and what about|what of|same for)\b[\s,]*(?:in|for|during)?\s*",
                   re.IGNORECASE)
_MONTH_ONLY = re.compile(r"^\s*(?:and\s+|what about\s+|how about\s+)?(?:in|during|for)?\s*([A-Za-z]{3,9})\.?\s*\??\s*$",
                         re.IGNORECASE)
_ATTRIBUTION = re.compile(r"^\s*(?:and\s+)?(?:who\s+(?:said|says|reported|claimed|wrote)\s+(?:that|it|this|so)"
                          r"|(?:what(?:'s| is| was)\s+the\s+)?sources?)\s*\??\s*$", re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z][\w’'-]+(?:\s+(?:[A-Z][\w’'-]+|of|de|al|el))*(?:\s+[A-Z][\w’'-]+)?")


@dataclass(frozen=True, kw_only=True)
class Asked:
    """A question with the filters it is asked with."""

    question: str
    sources: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True, kw_only=True)
class FollowUp:
    """What to ask and what was understood; `rule` is "period", "attribution", "place" or None."""

    asked: Asked
    understood: str
    rule: str | None


def _understood(asked: Asked) -> str:
    parts = [asked.question]
    if asked.since or asked.until:
        parts.append(_period_words(asked.since, asked.until))
    if asked.sources:
        parts.append("from " + ", ".join(asked.sources))
    return "Searching: " + " · ".join(parts)


def _period_words(since: str | None, until: str | None) -> str:
    if since and until and since[:7] == until[:7] and len(since) >= 7:
        year, month = int(since[:4]), int(since[5:7])
        if since.endswith("-01") and until.endswith(f"-{calendar.monthrange(year, month)[1]:02d}"):
            return f"{calendar.month_name[month]} {year}"
    if since and until and since[:4] == until[:4] and since[4:] == "-01-01" and until[4:] == "-12-31":
        return since[:4]
    return f"{since or '…'} to {until or '…'}"


def _previous_year(previous: Asked) -> int | None:
    for value in (previous.since, previous.until):
        if value and value[:4].isdigit():
            return int(value[:4])
    return None


def _period(text: str, previous: Asked) -> tuple[str, str] | None:
    """(since, until) ISO days for a period-only follow-up, or None."""
    found = question_dates(text)
    if found:
        rest = text[:found[0].span_start] + text[found[0].span_end:]
        if len(found) == 1 and not _LEAD.sub("", rest).strip(" ?.,"):
            return found[0].start.isoformat(), found[0].end.isoformat()
        return None
    month_only = _MONTH_ONLY.match(text)
    if not month_only or month_only[1].lower() not in _MONTHS:
        return None
    year = _previous_year(previous)
    if year is None:
        return None
    month = _MONTHS[month_only[1].lower()]
    last = calendar.monthrange(year, month)[1]
    return f"{year}-{month:02d}-01", f"{year}-{month:02d}-{last:02d}"


def _replace_name(question: str, name: str) -> str:
    """`question` with its last capitalised name after the first word replaced by `name`."""
    matches = [m for m in _NAME.finditer(question) if m.start() > 0]
    if not matches:
        return question.rstrip(" ?") + f" in {name}?"
    last = matches[-1]
    return question[:last.start()] + name + question[last.end():]


def resolve(text: str, previous: Asked | None, *, sources: tuple[str, ...] = (), since: str | None = None,
            until: str | None = None) -> FollowUp:
    """The question to ask for `text` after `previous` (None: the first question).

    `sources`/`since`/`until` are the filters set now; a follow-up keeps the previous
    question's filters unless it names a period, or the user changed them since.
    """
    current = Asked(question=text.strip(), sources=sources, since=since, until=until)
    if previous is None or len(text.split()) > FOLLOWUP_MAX_WORDS:
        return FollowUp(asked=current, understood=_understood(current), rule=None)
    keep = Asked(question=previous.question, sources=sources or previous.sources,
                 since=since or previous.since, until=until or previous.until)
    period = _period(text, previous)
    if period is not None:
        asked = Asked(question=previous.question, sources=keep.sources, since=period[0], until=period[1])
        return FollowUp(asked=asked, understood=_understood(asked), rule="period")
    if _ATTRIBUTION.match(text):
        return FollowUp(asked=keep, understood=_understood(keep) + " (who said it: see each quote's byline)",
                        rule="attribution")
    lead = _LEAD.match(text)
    if lead and lead.end() > 0:
        name = text[lead.end():].strip(" ?.!,")
        if name and name[0].isupper() and name.lower() not in _MONTHS:  # a bare month is a period, not a place
            asked = Asked(question=_replace_name(previous.question, name), sources=keep.sources,
                          since=keep.since, until=keep.until)
            return FollowUp(asked=asked, understood=_understood(asked), rule="place")
    return FollowUp(asked=current, understood=_understood(current), rule=None)
