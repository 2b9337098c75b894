"""Casualty figures inside a text: how many people were killed, injured, missing, displaced, detained.

A figure is a count of people tied to a casualty word. The rules, in the order they run:

1. Numbers. Digits ("26", "5,000", "1.2 million"), number words ("fifty-seven",
   "two hundred", "a dozen") and vague amounts ("dozens", "hundreds", "scores",
   "tens of thousands", kept as `vague` with no number invented). A qualifier
   before the number sets the bounds: "at least / more than / over / upwards of
   26" -> low 26, high None; "up to / nearly / almost / fewer than 10" -> high 10,
   low None; "between 10 and 15" or "10 to 15" -> 10..15; "about / around /
   some / an estimated 14" -> 14..14 (the number as reported). "more than 50" keeps
   50 as its lower bound (the reported floor), not 51.
2. Not people. A number is dropped when it is a year (1800-2099 with no person
   after it), an age ("24-year-old", "aged 15"), an ordinal ("48th"), a date or
   time ("7 October", "October 7", "7:45"), money or a percentage ("$46 million",
   "20%"), a label ("Resolution 2334", "Unit 840", "Highway 180D"), a compound
   ("four-month", "20-point"), or when the thing it counts is not a person:
   the first of the next three words is checked against `NOT_PEOPLE` (drones,
   missiles, ships, vessels, years, km, ...) and `PEOPLE` (people, civilians,
   soldiers, "Palestinians", ...).
3. Sub-counts. A number after "including", "among them", "of whom" (up to the
   next verb or casualty word), or before "of them", is a part of a total, never
   a total: it is attached as `includes` to the nearest figure before it (to one
   of the category it names, in "including six people killed ...").
4. Casualty word first: "killing two civilians", "kills at least 26",
   "injure dozens more", "arrest 115 suspects", "the deaths of 483 protesters".
5. Toll updates: "the death toll rises to at least 80" -> killed, low 80.
6. Number first: "At least 100 people, including 20 children, are killed",
   "Four people are killed", "3 civilians die", "40,000 Palestinians who fled",
   "dozens wounded". Between the number and the casualty word only people
   words, auxiliaries ("are", "have been", "reportedly", "believed to have
   been") and a comma-set aside may stand; "and", "in", "after", another number
   or a non-person noun break the link. A casualty verb already followed by its
   own object ("gunmen killed 3") does not take a number before it.
7. Coordination: "18 separatists and three civilians were killed" and "killed
   more than 70,000 people in Merv and more than 190,000 in Nishapur" give two
   figures of the same category.

Categories (`CATEGORY_WORDS` in figure_words.py, with the `PEOPLE` and `NOT_PEOPLE`
lists): killed (kill, dead, died, deaths, death toll,
bodies, shot dead), injured (injure, wound, hurt), missing, displaced (displace,
fled, homeless), detained (arrest, detain, abduct, kidnap, taken hostage).
"a soldier", "several", "many" are not numbers and give no figure.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace

from assistant.answers.figure_words import CATEGORY_WORDS, NOT_PEOPLE, PEOPLE
from assistant.records import Figure, SubCount

CATEGORIES = ("killed", "injured", "missing", "displaced", "detained")

_WORD_CATEGORY = {word: category for category, words in CATEGORY_WORDS.items() for word in words}
# Words that take a number after them as their object ("killing 2", "the deaths of 483").
_OBJECT_TAKERS = {word for word in _WORD_CATEGORY if word not in
                  {"dead", "bodies", "missing", "homeless", "fled", "death", "toll", "death toll",
                   "fatalities", "injuries", "shot dead", "taken hostage", "taken captive",
                   "taken prisoner", "die", "dies", "died", "dying", "hurt"}}
# Transitive verbs: a number before them is their subject only in the passive ("5 were killed").
_TRANSITIVE = {word for word in _OBJECT_TAKERS if word not in {"deaths", "injuries", "wounds"}}

_ABOVE = r"at\s+least|more\s+than|over|upwards\s+of|in\s+excess\s+of|no\s+fewer\s+than|no\s+less\s+than"
_BELOW = (r"up\s+to|nearly|almost|fewer\s+than|less\s+than|as\s+many\s+as|at\s+most|close\s+to|"
          r"not\s+more\s+than|under")
_ABOUT = r"about|around|approximately|some|roughly|an\s+estimated|estimated|a\s+total\s+of|a\s+further|another"
_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
          "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}
_WORD_VALUES = {**{word: value for value, word in enumerate(_UNITS)},
                **{word: 20 + 10 * position for position, word in enumerate(_TENS)}}
_SIMPLE_WORD = "|".join(sorted([*_UNITS, *_TENS, "dozen"], key=len, reverse=True))
_WORDNUM = (rf"(?:(?:a|one)\s+(?:hundred|thousand|dozen)|(?:{_SIMPLE_WORD}))"
            rf"(?:(?:\s+and\s+|[\s-]+)(?:{_SIMPLE_WORD}|hundred|thousand|million)\b)*")
_DIGITS = r"\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:\.\d+)?(?:\s+(?:million|thousand|hundred)\b)?"
_VAGUE = (r"tens\s+of\s+thousands|hundreds\s+of\s+thousands|dozens|hundreds|thousands|scores|millions")
_QUANTITY = rf"(?:{_DIGITS}|{_VAGUE}|{_WORDNUM})"
_NUMBER = re.compile(
    rf"(?<![\w$€£.,/:-])(?:(?P<between>between)\s+(?P<a>{_QUANTITY})\s+and\s+(?P<b>{_QUANTITY})"
    rf"|(?:(?P<above>{_ABOVE})|(?P<below>{_BELOW})|(?P<about>{_ABOUT}))?\s*(?P<n>{_QUANTITY})"
    rf"(?:\s*(?:to|-|–)\s*(?P<n2>{_DIGITS}|{_WORDNUM}))?)(?![\w%-]|[.,:]\d|\s*%)",
    re.IGNORECASE,
)
_MONTHS = ("january february march april may june july august september october november december "
           "jan feb mar apr jun jul aug sep sept oct nov dec").split()
_LABEL_BEFORE = re.compile(
    r"(?:resolution|unit|no\.|number|highway|route|road|flight|article|section|chapter|brigade|division|"
    r"page|episode|episodes|grade|level|aged|age|ages|" + "|".join(_MONTHS) + r")\s*$|[$€£]\s*$|"
    r"(?:\bno|\bany|\bsome)\s*$",
    re.IGNORECASE,
)
_AFTER_NOT_PEOPLE = re.compile(
    r"^(?:\s*(?:" + "|".join(_MONTHS) + r")\b|-year|\s*year-old|\s*years?\s+old|\s*(?:a\.m\.|p\.m\.|am\b|pm\b)|"
    r"\s+of\s+the\b|(?:st|nd|rd|th)\b|\s+another\b)",
    re.IGNORECASE,
)
_CATEGORY_PHRASE = re.compile(
    r"\b(?:" + "|".join(sorted((re.escape(word).replace(r"\ ", r"\s+") for word in _WORD_CATEGORY),
                               key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_INCLUDING = re.compile(r"\b(?:including|among\s+them|among\s+whom|of\s+whom|among\s+the\s+dead)\b",
                        re.IGNORECASE)
_PAIRED_SUBCOUNT = re.compile(
    r"[\w'’]+\s+and\s+(?:at\s+least\s+|about\s+|nearly\s+|some\s+|over\s+|more\s+than\s+)?\d[\d,.]*\s+[a-z]"
)
"""A casualty word inside an "including" list followed by "and N <word>": the list goes on."""
_AUX = frozenset("""
are were is was be been being have has had reportedly allegedly also now later all both subsequently
reported confirmed believed feared thought said to more other others further additional still
who that
""".split())
_BREAK = frozenset("and or but in on at from by with after before while when as for since than into "
                   "during near across against over under which whose".split())
_TOKEN = re.compile(r"[\w'’]+(?:[-–][\w'’]+)*|[,;.:()—–]")
_TOLL = re.compile(
    r"\b(?P<word>death\s+toll|toll|number\s+of\s+(?:people\s+)?(?:dead|deaths|killed|fatalities))\b"
    r"[^.;]{0,80}?\b(?:to|at|of|reaches|reached|hits|exceeds|passes|surpasses)\s+(?=\S)",
    re.IGNORECASE,
)


@dataclass(frozen=True, kw_only=True)
class _Number:
    start: int
    end: int
    low: int | None
    high: int | None
    vague: str | None


def _word_value(words: str) -> int | None:
    total, current = 0, 0
    for word in re.split(r"[\s-]+", words.lower()):
        if word in ("and", ""):
            continue
        if word == "a":
            current = 1
        elif word == "dozen":
            current = (current or 1) * 12
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in ("thousand", "million"):
            total += (current or 1) * _SCALES[word]
            current = 0
        elif word in _WORD_VALUES:
            current += _WORD_VALUES[word]
        else:
            return None
    return total + current


def _quantity(text: str) -> tuple[int | None, str | None]:
    """(value, vague) of one quantity: ("26", None), (None, "dozens")."""
    words = " ".join(text.lower().split())
    if re.fullmatch(_VAGUE, words):
        return None, words
    if words[0].isdigit():
        scale = 1
        for name, factor in _SCALES.items():
            if words.endswith(name):
                scale, words = factor, words[: -len(name)].strip()
        return int(round(float(words.replace(",", "")) * scale)), None
    return _word_value(words), None


def _is_year(number: _Number, text: str) -> bool:
    return (number.low is not None and number.low == number.high and 1800 <= number.low <= 2099
            and re.fullmatch(r"\d{4}", text[number.start:number.end].split()[-1]) is not None)


def numbers(text: str) -> list[_Number]:
    """Every number expression in `text` with its bounds (rule 1), dates/labels/ages dropped (rule 2)."""
    found = []
    for match in _NUMBER.finditer(text):
        if _LABEL_BEFORE.search(text[max(0, match.start() - 14):match.start()]):
            continue
        if _AFTER_NOT_PEOPLE.match(text[match.end():match.end() + 16]):
            continue
        if match.group("between"):
            (low, vague), (high, _) = _quantity(match.group("a")), _quantity(match.group("b"))
        else:
            value, vague = _quantity(match.group("n"))
            low = high = value
            if match.group("n2"):
                high, _ = _quantity(match.group("n2"))
                if high is None or low is None or high <= low:
                    continue
            if vague is None and low is None:
                continue
            if match.group("above"):
                high = None
            elif match.group("below"):
                low = None
        number = _Number(start=match.start(), end=match.end(), low=low, high=high, vague=vague)
        if _is_year(number, text) and not _names_people(text, number.end):
            continue
        found.append(number)
    return found


def _words_after(text: str, position: int, limit: int = 4) -> list[str]:
    words = []
    for token in _TOKEN.finditer(text, position):
        if not token.group()[0].isalnum():
            break
        words.append(token.group())
        if len(words) == limit:
            break
    return words


def _is_person_word(word: str) -> bool:
    lower = word.lower()
    if lower in PEOPLE:
        return True
    # Demonyms: Palestinians, Israelis, Iraqis, Lebanese, Afghans.
    return word[:1].isupper() and re.search(r"(?:ians|ans|is|ese|ites)$", word) is not None


def _counts_people(text: str, position: int) -> bool:
    """True when the noun after `position` names people (or no thing-noun follows)."""
    for word in _words_after(text, position, 3):
        lower = word.lower()
        if lower in ("of", "more", "other", "others", "further", "additional", "additionally"):
            if lower == "others":
                return True
            continue
        if _is_person_word(word):
            return True
        if lower in NOT_PEOPLE or lower.rstrip("s") in NOT_PEOPLE:
            return False
    return True


def _names_people(text: str, position: int) -> bool:
    """True when one of the three words after `position` names people ("2000 people")."""
    return any(_is_person_word(word) for word in _words_after(text, position, 3))


def _category_words(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, word, category) of every casualty word or phrase."""
    words = []
    for match in _CATEGORY_PHRASE.finditer(text):
        word = " ".join(match.group().lower().split())
        words.append((match.start(), match.end(), word, _WORD_CATEGORY[word]))
    return words


def _span_end(text: str, position: int) -> int:
    """`position` moved past the people noun that follows a number ("26 Palestinians", "20 others")."""
    end = position
    for token in _TOKEN.finditer(text, position):
        word = token.group()
        if not word[0].isalnum() or len(text[position:token.start()].split()) > 3:
            break
        if _is_person_word(word) or word.lower() in ("others", "more"):
            end = token.end()
            break
        if word.lower() in _BREAK or word.lower() in _WORD_CATEGORY:
            break
    return end


def _subcount_spans(text: str, casualty: list[tuple[int, int, str, str]]) -> list[tuple[int, int]]:
    """Regions holding sub-counts: from "including" to the next verb or casualty word (rule 3)."""
    casualty_starts = [start for start, *_ in casualty]
    regions = []
    for match in _INCLUDING.finditer(text):
        end = len(text)
        for token in _TOKEN.finditer(text, match.end()):
            word = token.group().lower()
            ends_list = word in (";", ".", ":", "are", "were", "is", "was", "have", "has")
            at_casualty = token.start() in casualty_starts
            # "..., and injures 50 others": "and" right before a casualty word closes the list.
            and_casualty = word == "and" and any(0 < start - token.end() < 3 for start in casualty_starts)
            if at_casualty and _PAIRED_SUBCOUNT.match(text, token.start()):
                continue  # "including 773 killed and 2,171 injured": both are sub-counts
            if ends_list or at_casualty or and_casualty:
                end = token.start()
                break
        regions.append((match.start(), end))
    return regions


def _gap_links(text: str, gap: str, word: str) -> bool:
    """Whether the words between a number and a later casualty word keep them one phrase (rule 6)."""
    tokens = [token.group() for token in _TOKEN.finditer(gap)]
    # A short set-aside between commas ("100 people, mostly schoolgirls, are killed").
    if tokens.count(",") == 2:
        first, second = tokens.index(","), len(tokens) - 1 - tokens[::-1].index(",")
        if second - first <= 7:
            tokens = tokens[:first] + tokens[second + 1:]
    words = [token for token in tokens if token != ","]
    if len(words) != len(tokens) or any(not token[0].isalnum() for token in words):
        return False
    if len(words) > 7:
        return False
    people = any(_is_person_word(token) for token in words)
    lowered = [token.lower() for token in words]
    for position, token in enumerate(lowered):
        if token == "of" and position == 0:
            continue
        if token == "and" and people and position + 1 < len(lowered) and lowered[position + 1] in ("a", "an"):
            continue
        if token in _BREAK or token in NOT_PEOPLE:
            return False
    unknown = [token for token, lower in zip(words, lowered)
               if lower not in _AUX and not _is_person_word(token) and lower not in ("a", "an", "and", "of")
               and not lower.endswith("ly")]
    if "who" in lowered or "that" in lowered:
        relative = lowered[max(lowered.index(w) for w in ("who", "that") if w in lowered) + 1:]
        if word in _TRANSITIVE and not set(relative) & {"were", "are", "was", "is", "been"}:
            return False
    return len(unknown) <= 3 and (people or not unknown)


def _takes_object(text: str, end: int, numbers_at: dict[int, _Number]) -> bool:
    """True when the casualty verb ending at `end` is followed by its object ("killed 3", "killed a")."""
    rest = text[end:end + 40]
    stripped = rest.lstrip()
    if end + len(rest) - len(stripped) in numbers_at:
        return True
    return re.match(r"(?:a|an|the|his|her|their|its)\b", stripped, re.IGNORECASE) is not None


_SENTENCE_BREAK = re.compile(r"(?<![A-Z]\.[A-Z]\.)(?<=[.!?;])\s+(?=[A-Z0-9\"“‘'(])")
MAX_PIECE_CHARS = 2_000
"""Text is read a sentence at a time; a longer run without a sentence end is cut at a space
(a figure is a short phrase), which keeps the reader linear in the length of the text."""


def _pieces(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, none longer than `MAX_PIECE_CHARS`."""
    bounds, start = [], 0
    for match in _SENTENCE_BREAK.finditer(text):
        bounds.append((start, match.start()))
        start = match.end()
    bounds.append((start, len(text)))
    pieces = []
    for start, end in bounds:
        while end - start > MAX_PIECE_CHARS:
            cut = text.rfind(" ", start + MAX_PIECE_CHARS // 2, start + MAX_PIECE_CHARS)
            cut = cut if cut > start else start + MAX_PIECE_CHARS
            pieces.append((start, cut))
            start = cut
        pieces.append((start, end))
    return pieces


def find_figures(text: str) -> tuple[Figure, ...]:
    """Every casualty figure in `text`, in reading order, with sub-counts attached (module rules).

    Offsets index `text`. The text is read one sentence at a time: no figure spans two.
    """
    found: list[Figure] = []
    for start, end in _pieces(text):
        for figure in _sentence_figures(text[start:end]):
            found.append(replace(figure, start=figure.start + start, end=figure.end + start, includes=tuple(
                replace(sub, start=sub.start + start, end=sub.end + start) for sub in figure.includes)))
    return tuple(found)


def _sentence_figures(text: str) -> tuple[Figure, ...]:
    """The figures of one sentence (offsets into it)."""
    casualty = _category_words(text)
    all_numbers = numbers(text)
    by_start = {number.start: number for number in all_numbers}
    subregions = _subcount_spans(text, casualty)

    def in_subregion(number: _Number) -> bool:
        if any(start <= number.start < end for start, end in subregions):
            return True
        return re.match(r"\s+of\s+(?:them|whom)\b", text[number.end:number.end + 12]) is not None

    subcounts = [number for number in all_numbers if in_subregion(number)]
    sub_starts = {number.start for number in subcounts}
    candidates = [number for number in all_numbers if number.start not in sub_starts]
    casualty_starts = [item[0] for item in casualty]
    figures: list[tuple[_Number, str, int, int]] = []
    used: set[int] = set()
    object_verbs: set[int] = set()

    def take(number: _Number, category: str, start: int, end: int) -> None:
        used.add(number.start)
        figures.append((number, category, start, end))

    # Rule 4: casualty word first.
    for start, end, word, category in casualty:
        if word not in _OBJECT_TAKERS:
            continue
        after = re.match(r"\s+(?:of\s+)?", text[end:])
        position = end + (after.end() if after else 0)
        number = by_start.get(position)
        if number is None or number.start in used or number.start in sub_starts:
            continue
        if word in ("deaths", "death", "injuries") and not text[end:position].strip():
            continue
        if not _counts_people(text, number.end):
            continue
        object_verbs.add(start)
        take(number, category, start, _span_end(text, number.end))
    # Rule 5: toll updates.
    for match in _TOLL.finditer(text):
        number = by_start.get(match.end())
        if number is not None and number.start not in used and number.start not in sub_starts:
            take(number, "killed", match.start(), number.end)
    # Rule 6: number first.
    for position, number in enumerate(candidates):
        if number.start in used or not _counts_people(text, number.end):
            continue
        next_word = bisect.bisect_left(casualty_starts, number.end)
        if next_word == len(casualty):
            continue
        start, end, word, category = casualty[next_word]
        if word in ("toll", "death toll", "death"):
            continue
        gap = text[number.end:start]
        for region_start, region_end in subregions:
            if number.end <= region_start < start:
                gap = text[number.end:region_start].rstrip().rstrip(",") + " " + text[region_end:start]
        if position + 1 < len(candidates) and candidates[position + 1].end <= start:
            continue  # another number stands between
        if not _gap_links(text, gap, word):
            continue
        if word in _TRANSITIVE and start in object_verbs and not re.search(
                r"\b(?:are|were|is|was|been)\b", gap, re.IGNORECASE):
            continue
        if word in _TRANSITIVE and _takes_object(text, end, by_start) and not re.search(
                r"\b(?:are|were|is|was|been|being)\b", gap, re.IGNORECASE):
            continue
        take(number, category, number.start, end)
    # Rule 7: coordination with a figure just before or just after.
    by_number = sorted(figures, key=lambda item: item[0].start)
    number_starts = [item[0].start for item in by_number]
    for number in candidates:
        if number.start in used or not _counts_people(text, number.end):
            continue
        nearest = bisect.bisect_left(number_starts, number.start)
        for other, category, _start, _end in by_number[max(0, nearest - 1):nearest + 1]:
            if number.end <= other.start:
                words = text[number.end:other.start].split()
                linked = (len(words) in (2, 3, 4) and words[-1].lower() == "and"
                          and any(_is_person_word(word) for word in words[:-1])
                          and not any(word.lower() in _BREAK or word.lower() in _AUX for word in words[:-1]))
            else:
                words = text[_span_end(text, other.end):number.start].split()
                following = bisect.bisect_left(casualty_starts, number.end)
                later = following < len(casualty) and casualty_starts[following] < number.end + 40
                linked = (bool(words) and len(words) <= 3 and words[-1].lower() == "and"
                          and all(word.lower() == "in" or word[:1].isupper() for word in words[:-1])
                          and not later)
            if linked:
                take(number, category, number.start, _span_end(text, number.end))
                break
    ordered = sorted(figures, key=lambda item: item[2])
    by_number = sorted(figures, key=lambda item: item[0].start)
    number_starts = [item[0].start for item in by_number]
    includes: dict[int, list[SubCount]] = {}
    for sub in subcounts:
        if not _counts_people(text, sub.end):
            continue
        before = by_number[:bisect.bisect_left(number_starts, sub.start)]
        if not before:
            continue
        target = before[-1]
        following = bisect.bisect_left(casualty_starts, sub.end)
        if following < len(casualty) and casualty_starts[following] <= sub.end + 30:
            named = casualty[following][3]
            target = next((item for item in reversed(before) if item[1] == named), target)
        who = next((w for w in _words_after(text, sub.end, 3) if _is_person_word(w)), None)
        includes.setdefault(target[0].start, []).append(
            SubCount(low=sub.low, high=sub.high, vague=sub.vague, who=who, start=sub.start,
                     end=_span_end(text, sub.end)))
    return tuple(
        Figure(category=category, low=number.low, high=number.high, vague=number.vague,
               start=start, end=max(end, number.end), includes=tuple(includes.get(number.start, ())))
        for number, category, start, end in ordered
    )


def figure_value(figure: Figure | SubCount) -> str:
    """The figure as a short reading: "2", "at least 26", "up to 10", "10-15", "dozens"."""
    if figure.vague:
        return figure.vague
    if figure.low is not None and figure.high is None:
        return f"at least {figure.low:,}"
    if figure.low is None and figure.high is not None:
        return f"up to {figure.high:,}"
    if figure.low != figure.high:
        return f"{figure.low:,}–{figure.high:,}"
    return f"{figure.low:,}"


def figure_json(figure: Figure) -> dict[str, object]:
    """One figure as the JSON object the CLI and the answer payload share."""
    return {
        "category": figure.category, "low": figure.low, "high": figure.high, "vague": figure.vague,
        "start": figure.start, "end": figure.end,
        "includes": [{"low": sub.low, "high": sub.high, "vague": sub.vague, "who": sub.who,
                      "start": sub.start, "end": sub.end} for sub in figure.includes],
    }
