"""Outlet names: one name per outlet for display, filters and credits.

Corpora spell the same outlet many ways ("France24" / "France 24", "Al-Arabiya" /
"Al Arabiya", "The Times of Israel" / "Times of Israel"), name a relay ("AFP via
Al Arabiya"), a language ("El Tiempo in Spanish") or number a second link to the
same outlet ("SOHR", "SOHR 2"). The rules, applied in this order:

1. A name is split at " via ": "AFP via Al Arabiya" counts for AFP and for Al Arabiya
   (and is shown as both names joined by " via ").
2. A part listed under `stands_for` in the alias table counts for each outlet listed.
3. Each part is looked up in the alias table by its key: casefolded, accents removed,
   everything but letters and digits dropped, a leading "the" dropped. When the key
   is not there, a trailing language ("in Spanish", "(in Persian)") is dropped and the
   lookup repeated. A part found is shown as the table's name; one not found is shown
   as given (spaces collapsed, language dropped).
4. In one list of names (the outlets one document names), "X 2" (a name ending in a
   number) folds into X when X is also in the list or in the alias table; otherwise
   the number is kept ("Channel 12").

The alias table is `outlet_aliases.json` beside this module (package data): a user
can read it and add names. It is read once per process. Stored documents keep the
names as the corpus gives them; only display and matching go through these rules,
so a changed table takes effect without a rebuild.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from assistant.records import CitedReport, Document

ALIASES_FILE = "outlet_aliases.json"
LANGUAGES = ("Arabic", "Chinese", "Dutch", "English", "French", "German", "Hebrew", "Italian",
             "Japanese", "Korean", "Persian", "Polish", "Portuguese", "Russian", "Somali",
             "Spanish", "Turkish", "Ukrainian", "Urdu")
"""Languages dropped from the end of a name ("El Tiempo in Spanish" -> "El Tiempo")."""

_VIA = re.compile(r"\s+via\s+", re.IGNORECASE)
_LANGUAGE_SUFFIX = re.compile(r"\s*\(?\bin\s+(?:" + "|".join(LANGUAGES) + r")\)?\s*$", re.IGNORECASE)
_NUMBER_SUFFIX = re.compile(r"^(.*\S)\s+\d{1,2}$")
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


@dataclass(frozen=True, kw_only=True)
class OutletAliases:
    """The alias table: key -> name shown, and key of a combined name -> the names it stands for."""

    names: dict[str, str]
    stands_for: dict[str, tuple[str, ...]]
    shown: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Memo of `_canonical` (names repeat across thousands of documents)."""


@dataclass(frozen=True, kw_only=True)
class CitedOutlet:
    """One outlet a document cites, with the links of its reports (several for "SOHR", "SOHR 2")."""

    name: str
    urls: tuple[str | None, ...]


@dataclass(frozen=True, kw_only=True)
class Credit:
    """A publisher of documents in the index, the license it states and how many documents."""

    publisher: str
    license: str | None
    documents: int


@lru_cache(maxsize=1 << 16)
def outlet_key(name: str) -> str:
    """The form names are compared in: "The Times-of Israel" -> "timesofisrael"."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = _LEADING_THE.sub("", " ".join(plain.split()))
    return _NOT_ALPHANUMERIC.sub("", plain.casefold())


def read_aliases(text: str) -> OutletAliases:
    """An `OutletAliases` from the JSON text of an alias file (format: see outlet_aliases.json)."""
    data = json.loads(text)
    names: dict[str, str] = {}
    for shown, others in data.get("outlets", {}).items():
        for name in (shown, *others):
            names[outlet_key(name)] = shown
    stands_for = {outlet_key(name): tuple(parts) for name, parts in data.get("stands_for", {}).items()}
    return OutletAliases(names=names, stands_for=stands_for)


@lru_cache(maxsize=1)
def default_aliases() -> OutletAliases:
    """The shipped table, `assistant/ingest/outlet_aliases.json`."""
    return read_aliases(resources.files("assistant.ingest").joinpath(ALIASES_FILE).read_text(encoding="utf-8"))


def split_outlets(source: str) -> tuple[str, ...]:
    """The outlets named in a document's `source` ("Reuters; Al Jazeera" -> both), as given."""
    return tuple(part.strip() for part in source.replace("|", ";").split(";") if part.strip())


def _canonical(part: str, aliases: OutletAliases) -> str:
    known = aliases.shown.get(part)
    if known is None:
        cleaned = " ".join(part.split())
        known = aliases.names.get(outlet_key(cleaned))
        if known is None:
            without_language = _LANGUAGE_SUFFIX.sub("", cleaned) or cleaned
            known = aliases.names.get(outlet_key(without_language), without_language)
        aliases.shown[part] = known
    return known


def outlets_named(name: str, aliases: OutletAliases | None = None) -> tuple[str, ...]:
    """Every outlet one name counts for, as shown: "AFP via Al-Arabiya" -> ("AFP", "Al Arabiya")."""
    aliases = aliases or default_aliases()
    found: list[str] = []
    for part in _VIA.split(name.strip()):
        if not part.strip():
            continue
        for piece in aliases.stands_for.get(outlet_key(part), (part,)):
            found.append(_canonical(piece, aliases))
    return tuple(dict.fromkeys(found))


def display_name(name: str, aliases: OutletAliases | None = None) -> str:
    """One name as shown: "AFP via Al-Arabiya" -> "AFP via Al Arabiya", "France24" -> "France 24"."""
    aliases = aliases or default_aliases()
    parts = [part for part in _VIA.split(name.strip()) if part.strip()]
    return " via ".join(_canonical(part, aliases) for part in parts) or name.strip()


def publisher_name(publisher: str, aliases: OutletAliases | None = None) -> str:
    """A publisher as shown ("Wikipedia Portal:Current events" -> "Wikipedia, Portal:Current events")."""
    return "; ".join(display_name(part, aliases) for part in split_outlets(publisher)) or publisher


def _fold_numbered(shown: Sequence[str], aliases: OutletAliases) -> list[str]:
    """Rule 4: "SOHR 2" becomes "SOHR" when "SOHR" (by key) is also in `shown` or in the table."""
    keys = {outlet_key(name) for name in shown}
    folded = []
    for name in shown:
        numbered = _NUMBER_SUFFIX.match(name)
        base_key = outlet_key(display_name(numbered[1], aliases)) if numbered else ""
        if numbered and (base_key in keys or base_key in aliases.names):
            name = display_name(numbered[1], aliases)
        folded.append(name)
    return folded


def cited_outlets(cites: Sequence[CitedReport], aliases: OutletAliases | None = None) -> tuple[CitedOutlet, ...]:
    """The reports a document cites, one entry per outlet in citation order, numbered duplicates folded."""
    aliases = aliases or default_aliases()
    shown = _fold_numbered([display_name(cite.name, aliases) for cite in cites], aliases)
    grouped: dict[str, tuple[str, list[str | None]]] = {}
    for cite, name in zip(cites, shown):
        entry = grouped.setdefault(outlet_key(name), (name, []))
        if cite.url not in entry[1]:
            entry[1].append(cite.url)
    return tuple(CitedOutlet(name=name, urls=tuple(urls)) for name, urls in grouped.values())


def document_outlets(document: Document, aliases: OutletAliases | None = None) -> tuple[str, ...]:
    """Every outlet a document counts for, as shown: its publisher, its sources, each cited outlet."""
    return outlets_of(document.publisher, document.source, tuple(cite.name for cite in document.cites), aliases)


def outlets_of(publisher: str, source: str, cited: Sequence[str], aliases: OutletAliases | None = None) -> tuple[str, ...]:
    """`document_outlets` from what it reads of a document: publisher, source, cited outlets' names."""
    aliases = aliases or default_aliases()
    given = [*split_outlets(publisher or source), *split_outlets(source), *cited]
    names = [outlet for name in _fold_numbered([display_name(name, aliases) for name in given], aliases)
             for outlet in outlets_named(name, aliases)]
    unique: dict[str, str] = {}
    for name in names:
        unique.setdefault(outlet_key(name), name)
    return tuple(unique.values())


def outlet_keys(names: Iterable[str], aliases: OutletAliases | None = None) -> frozenset[str]:
    """The keys of every outlet the names count for; a filter value matches through these."""
    aliases = aliases or default_aliases()
    return frozenset(outlet_key(outlet) for name in names for outlet in outlets_named(name, aliases))


def outlet_choices(documents: Iterable[Document], aliases: OutletAliases | None = None) -> tuple[str, ...]:
    """Every outlet in `documents` once, as shown, sorted case-insensitively (the source picker)."""
    unique: dict[str, str] = {}
    for document in documents:
        for name in document_outlets(document, aliases):
            unique.setdefault(outlet_key(name), name)
    return tuple(sorted(unique.values(), key=str.casefold))


def corpus_credits(documents: Iterable[Document], aliases: OutletAliases | None = None) -> tuple[Credit, ...]:
    """Publishers and the licenses they state, with document counts, most documents first."""
    counts: dict[tuple[str, str | None], int] = {}
    for document in documents:
        key = (document.publisher or document.source, document.license)
        counts[key] = counts.get(key, 0) + 1
    return credits_from_counts(counts, aliases)


def credits_from_counts(given: Mapping[tuple[str, str | None], int],
                        aliases: OutletAliases | None = None) -> tuple[Credit, ...]:
    """`corpus_credits` from documents counted per (publisher as given, license)."""
    counts: dict[tuple[str, str | None], int] = {}
    for (publisher, license_name), count in given.items():
        key = (publisher_name(publisher, aliases), license_name)
        counts[key] = counts.get(key, 0) + count
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0][0].casefold(), item[0][1] or ""))
    return tuple(Credit(publisher=publisher, license=license, documents=count)
                 for (publisher, license), count in ordered)
