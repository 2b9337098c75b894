"""Which quotes report the same event, so figures are only ever compared like with like.

Pure functions over `Quote` records. Two quotes are one event when (rules in order):

1. They are quotes of the same document.
2. Running count: both state a count "since ..." (e.g. "21 ships turned back since
   the start of the blockade"), name the same anchor (the last word of the
   "since" phrase that is not a date or filler: "blockade") and share a name
   (a capitalised word: "Command"); or both are cumulative (`is_cumulative`:
   "death toll", "so far", "since", "total") and share a specific name, one that
   is not a country or broad area (the reporting body: "Red Crescent").
   Dates do not matter: a running count is reported over months.
3. One incident: published at most `EVENT_MAX_DAYS` days apart, naming the same
   first specific place (`first_place`: the first capitalised phrase after "in",
   "near", "at", "on", "of", ... once country names (pycountry) and
   `BROAD_PLACES` such as "Gaza Strip" or "Pacific Ocean" are set aside: "Sumy",
   "Kryvyi Rih"), and either the same `title` (the thread heading of a Portal
   item) or at least two shared names. Undated quotes are never joined to others.
Groups are the connected components of this relation. Quotes of different groups
are never set side by side.

A group's figures over time are listed in date order (`timeline`); a question
asking for the latest or a total so far (`asks_for_latest`) puts the newest report
first (`latest_first`). Two reports of one incident that give different values for
a category, or a running count that falls, make the one plain line of
`disagreement` (fixed wording, outlets and values from the data).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pycountry

from assistant.answers.figures import figure_value, numbers
from assistant.ingest.outlets import cited_outlets, publisher_name
from assistant.records import Quote

EVENT_MAX_DAYS = 3
"""Reports of one incident are published at most this many days apart."""

LATEST_WORDS = re.compile(
    r"\b(?:so\s+far|since|now|latest|most\s+recent|to\s+date|as\s+of|currently|current|total|updated?)\b",
    re.IGNORECASE,
)
"""A question with one of these asks for the newest figure of a running count."""

# Capitalised words that name no particular place or party.
_COMMON_NAMES = frozenset("""
The A An In On At Of And For To By From With After Before During Since As Its It This That These Those
He She They We I His Her Their Our Mr Ms Dr President Minister Prime Foreign Defence Defense Ministry
Army Forces Force Military Government Police State States United Nations National Armed Air Navy
Security Council General Secretary Health Office Department Agency News Reuters AP AFP BBC CNN
January February March April May June July August September October November December
Monday Tuesday Wednesday Thursday Friday Saturday Sunday Oblast Province Region District Governorate
Raion City Strip North South East West Northern Southern Eastern Western Central Islamic U.S. U.S US UN
Russian Russia Ukrainian Ukraine Israeli Israel Palestinian Palestinians Iran Iranian American
One Two Three Four Five Six Seven Eight Nine Ten Eleven Twelve Dozens Hundreds Least More Around About
""".split())
BROAD_PLACES = frozenset("""
Gaza Strip West Bank Palestine Darfur Kordofan Kashmir Donbas Crimea Sahel Balochistan Pacific Atlantic
Indian Ocean Sea Caribbean Mediterranean Red Black Gulf Persian Arabian Middle East Africa Europe Asia
Kurdistan DRC UAE UK USA America Congo Korea Iraqi Yemeni Pakistani Somali Saudi Emirati Qatari Kuwaiti
Afghan Israeli Lebanese Syrian Sudanese
Oblast Province Region District Governorate Raion State County Territory Department City Town Village
Camp North South East West Northern Southern Eastern Western Central Upper Lower Greater Strait Border
""".split())
"""Words of place names too broad to tell two incidents apart (with every country name from pycountry)."""

_COUNTRY_WORDS = frozenset(
    word for country in pycountry.countries
    for name in (country.name, getattr(country, "common_name", ""), getattr(country, "official_name", ""))
    for word in re.findall(r"[A-Z][\w'’-]+", name or "") if word not in ("Republic", "State", "Democratic")
)
_PLACE = re.compile(
    r"\b(?:in|near|at|on|outside|around|of|into|across|from|to)\s+(?:the\s+)?"
    r"([A-Z][\w'’-]+(?:\s+(?:[A-Z][\w'’-]+|al|el|de|du|an|ad|as))*)"
)
_WORD = re.compile(r"[\w'’.-]+")
_SENTENCE_END = re.compile(r"[.!?]\s+")
_SINCE = re.compile(r"\bsince\s+([^.;,]{3,60})", re.IGNORECASE)
_SINCE_FILLER = frozenset("the a an its their start beginning of in on at was were started began announced agreed "
                          "signed declared came into force "
                          "reinstating reinstated imposing imposed launching launched took effect "
                          "january february march april may june july august september october "
                          "november december last year month week".split())
_CUMULATIVE = re.compile(r"\b(?:death\s+toll|toll|so\s+far|since|to\s+date|in\s+total|total|throughout\s+the\s+war)\b",
                         re.IGNORECASE)
_COUNTED = re.compile(r"[A-Za-z]+")
_SAME_THING = {"ships": "vessels", "vessels": "vessels", "boats": "vessels", "tankers": "vessels",
               "vessel": "vessels", "ship": "vessels"}


@dataclass(frozen=True, kw_only=True)
class Reading:
    """One value of one category in one quote, as the timeline shows it."""

    category: str
    value: str
    low: int | None
    high: int | None
    marker: int
    doc_id: str
    source: str
    published: str | None


def names(text: str) -> frozenset[str]:
    """Capitalised words of `text` that can name a place or party ("Sumy", "Kryvyi", "Rih")."""
    found = set()
    for sentence in _SENTENCE_END.split(text):
        for word in _WORD.findall(sentence):
            word = word.strip("'’.-")
            if word[:1].isupper() and word not in _COMMON_NAMES and len(word) > 2:
                found.add(word.removesuffix("'s").removesuffix("’s"))
    return frozenset(found)


def first_place(text: str) -> frozenset[str]:
    """The words of the first place in `text` that is not a country or broad area ("Kryvyi", "Rih")."""
    for match in _PLACE.finditer(text):
        words = {word.removesuffix("'s").removesuffix("’s") for word in match.group(1).split()}
        if "City" in words and len(words) > 1:
            return frozenset(words)  # "Gaza City" is a city even though "Gaza" alone is broad
        specific = frozenset(word for word in words if word[:1].isupper() and word not in _COUNTRY_WORDS
                             and word not in BROAD_PLACES and word not in _COMMON_NAMES
                             and not re.search(r"(?:ian|ese)$", word))
        if specific:
            return specific
    return frozenset()


def is_cumulative(text: str) -> bool:
    """True when `text` reports a count that accumulates ("death toll rises to", "so far", "since")."""
    return _CUMULATIVE.search(text) is not None


def _specific(found: frozenset[str]) -> frozenset[str]:
    return frozenset(word for word in found if word not in BROAD_PLACES and word not in _COUNTRY_WORDS)


def since_anchor(text: str) -> str | None:
    """The anchor of a running count: "since the start of the blockade" -> "blockade"."""
    match = _SINCE.search(text)
    if match is None:
        return None
    words = [word.lower() for word in re.findall(r"[A-Za-z]+", match.group(1))]
    content = [word for word in words if word not in _SINCE_FILLER and not word.isdigit()]
    return content[-1] if content else None


def running_readings(quote: Quote) -> list[tuple[str, int]]:
    """(counted thing, value) of a running count that is not a casualty figure ("55 vessels")."""
    if since_anchor(quote.text) is None:
        return []
    found = []
    for number in numbers(quote.text):
        if number.low is None or number.low != number.high:
            continue
        following = _COUNTED.findall(quote.text[number.end:number.end + 40])[:3]
        thing = next((_SAME_THING[word.lower()] for word in following if word.lower() in _SAME_THING), None)
        if thing is not None:
            found.append((thing, number.low))
            break
    return found


def _days_apart(first: str | None, second: str | None) -> int | None:
    try:
        return abs((dt.date.fromisoformat(first or "") - dt.date.fromisoformat(second or "")).days)
    except ValueError:
        return None


def same_event(first: Quote, second: Quote) -> bool:
    """Whether two quotes report the same event or the same running count (module rules 1-3)."""
    if first.doc_id == second.doc_id:
        return True
    shared = names(first.text) & names(second.text)
    anchor, other_anchor = since_anchor(first.text), since_anchor(second.text)
    if anchor is not None and anchor == other_anchor and shared:
        return True
    if (is_cumulative(first.text) and is_cumulative(second.text) and _specific(shared)
            and (anchor is None or other_anchor is None or anchor == other_anchor)):
        return True
    days = _days_apart(first.published, second.published)
    if days is None or days > EVENT_MAX_DAYS or not (first_place(first.text) & first_place(second.text)) - {"City"}:
        return False
    return first.title == second.title or len(shared) >= 2


def group_events(quotes: Sequence[Quote]) -> list[list[Quote]]:
    """The quotes split into events (connected components of `same_event`), each in date order.

    Groups are ordered by their first quote's position in `quotes`.
    """
    parent = list(range(len(quotes)))

    def root(position: int) -> int:
        while parent[position] != position:
            parent[position] = parent[parent[position]]
            position = parent[position]
        return position

    for first in range(len(quotes)):
        for second in range(first + 1, len(quotes)):
            if same_event(quotes[first], quotes[second]):
                parent[root(second)] = root(first)
    groups: dict[int, list[Quote]] = {}
    for position, quote in enumerate(quotes):
        groups.setdefault(root(position), []).append(quote)
    return [sorted(group, key=lambda quote: (quote.published or "", quote.marker)) for group in groups.values()]


def readings(quotes: Sequence[Quote], *, running: bool = False) -> list[Reading]:
    """Every figure of one event's quotes (casualty figures, else running counts), in date order.

    For a running count only the running total of each category is kept per quote:
    its largest figure ("3 killed today, bringing the total to 23" -> 23).
    """
    found = []
    for quote in sorted(quotes, key=lambda quote: (quote.published or "", quote.marker)):
        own = [_reading(quote, figure.category, figure_value(figure), figure.low, figure.high)
               for figure in quote.figures]
        if not quote.figures:
            own = [_reading(quote, thing, f"{value:,}", value, value) for thing, value in running_readings(quote)]
        if running:
            largest: dict[str, Reading] = {}
            for reading in own:
                size = reading.low if reading.low is not None else (reading.high or -1)
                kept = largest.get(reading.category)
                if kept is None or size > (kept.low if kept.low is not None else (kept.high or -1)):
                    largest[reading.category] = reading
            own = list(largest.values())
        found += own
    return found


def reported_by(quote: Quote) -> str:
    """Who gave the figure, as the byline says it: "Wikipedia, Portal:Current events, citing
    Reuters"; the quote's source when it carries no attribution."""
    if quote.attribution is None:
        return quote.source
    publisher = publisher_name(quote.attribution.publisher)
    cited = ", ".join(outlet.name for outlet in cited_outlets(quote.attribution.cites))
    return f"{publisher}, citing {cited}" if cited else publisher


def _reading(quote: Quote, category: str, value: str, low: int | None, high: int | None) -> Reading:
    return Reading(category=category, value=value, low=low, high=high, marker=quote.marker,
                   doc_id=quote.doc_id, source=reported_by(quote), published=quote.published)


def is_running_count(quotes: Sequence[Quote]) -> bool:
    """True when every quote of the group reports a cumulative count (`is_cumulative`)."""
    return len(quotes) > 1 and all(is_cumulative(quote.text) for quote in quotes)


def disagreement(quotes: Sequence[Quote], *, running: bool | None = None) -> str | None:
    """One plain line naming the outlets whose reports of this event differ, or None.

    Incidents: two reports (documents) give different values for one category. Running counts:
    a later report gives a lower count than an earlier one.
    """
    running = is_running_count(quotes) if running is None else running
    by_category: dict[str, list[Reading]] = {}
    for reading in readings(quotes, running=running):
        by_category.setdefault(reading.category, []).append(reading)
    for category, values in by_category.items():
        for position, earlier in enumerate(values):
            for later in values[position + 1:]:
                # Two sentences of one report may give a total and a part: only reports are compared.
                if later.doc_id == earlier.doc_id or (later.low, later.high) == (earlier.low, earlier.high):
                    continue
                if running and (later.low is None or earlier.low is None or later.low >= earlier.low):
                    continue
                return (f"The reports differ ({category}): {earlier.source} ({earlier.published or 'undated'}) "
                        f"gives {earlier.value}; {later.source} ({later.published or 'undated'}) "
                        f"gives {later.value}.")
    return None


def timeline(quotes: Sequence[Quote], *, running: bool | None = None) -> dict[str, str]:
    """Per category, the values in date order: {"vessels": "21 → 100 → 55, as reported on ..."}.

    Only categories reported by more than one document get a line.
    """
    running = is_running_count(quotes) if running is None else running
    lines = {}
    by_category: dict[str, list[Reading]] = {}
    for reading in readings(quotes, running=running):
        by_category.setdefault(reading.category, []).append(reading)
    for category, values in by_category.items():
        if len({reading.doc_id for reading in values}) < 2:
            continue
        dates = ", ".join(f"{reading.published or 'undated'} ({reading.source})" for reading in values)
        lines[category] = f"{' → '.join(reading.value for reading in values)}, as reported on {dates}"
    return lines


def asks_for_latest(question: str) -> bool:
    """True when the question asks for the newest figure or a total so far."""
    return LATEST_WORDS.search(question) is not None


def latest_first(question: str, quotes: Sequence[Quote]) -> tuple[Quote, ...]:
    """The quotes newest first (renumbered [1], [2], ...) when the question asks for the latest.

    Otherwise the quotes unchanged. Undated quotes go last; ties keep their order.
    """
    if not asks_for_latest(question) or len(quotes) < 2:
        return tuple(quotes)
    ordered = sorted(quotes, key=lambda quote: quote.published or "", reverse=True)
    ordered = [quote for quote in ordered if quote.published] + [q for q in ordered if not q.published]
    return tuple(replace(quote, marker=number) for number, quote in enumerate(ordered, start=1))
