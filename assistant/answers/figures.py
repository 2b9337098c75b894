"""Casualty figures inside quotes: "killed 18 people", "at least 21 were wounded".

A figure is a number standing next to a casualty word. It is found in the quote
text only, so a UI can set figures from different outlets side by side; nothing
here decides that two figures describe the same event.
"""

from __future__ import annotations

import re

from assistant.records import Figure

CASUALTY_WORDS: dict[str, str] = {
    "killed": "killed", "killing": "killed", "kills": "killed", "kill": "killed",
    "dead": "killed", "deaths": "killed", "died": "killed", "die": "killed",
    "fatalities": "killed", "lives": "killed", "bodies": "killed",
    "injured": "injured", "injuring": "injured", "injuries": "injured",
    "wounded": "injured", "wounding": "injured", "hurt": "injured", "wounds": "injured",
    "wound": "injured", "injures": "injured", "injure": "injured",
    "displaced": "displaced", "displacing": "displaced", "fled": "displaced",
    "homeless": "displaced", "evacuated": "displaced",
    "missing": "missing",
    "abducted": "abducted", "kidnapped": "abducted", "kidnapping": "abducted",
    "abducting": "abducted", "abducts": "abducted", "kidnaps": "abducted", "hostages": "abducted", "hostage": "abducted",
    "arrested": "arrested", "detained": "arrested", "detaining": "arrested",
    "arresting": "arrested",
    "casualties": "casualties",
}
"""Casualty word -> category shown next to the figure (killed, injured, displaced, ...)."""

NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    "eighty|ninety|hundred|hundreds|thousand|thousands|dozen|dozens|a dozen|scores"
)
_NUMBER = (
    rf"(?:\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?(?:\s+(?:million|thousand|hundred))?"
    rf"|(?:{NUMBER_WORDS})(?:[\s-]+(?:{NUMBER_WORDS}))*)"
)
_QUALIFIER = (
    r"(?:at\s+least|more\s+than|over|nearly|almost|about|around|approximately|"
    r"up\s+to|some|roughly|fewer\s+than|less\s+than|as\s+many\s+as)"
)
_CASUALTY = "|".join(sorted(CASUALTY_WORDS, key=len, reverse=True))
# Words that end the phrase: "24 people and injured 134" is two figures, not one.
_GAP_STOP = r"and|or|but|in|on|at|of|from|by|to|with|after|before|while|who|which|that"
_VICTIMS = (
    r"people|persons|civilians|others|children|soldiers|troops|fighters|militants|"
    r"residents|Palestinians|Israelis|Ukrainians|Russians|police|policemen|officers|women|men"
)
# Up to four words between the number and the casualty word ("18 people were
# killed", "180 people, mostly schoolgirls, are killed"), and "killed 18", "killing at least 21".
_NUMBER_FIRST = re.compile(
    rf"\b(?P<qual>{_QUALIFIER}\s+)?(?P<num>{_NUMBER})\b"
    rf"(?P<gap>(?:,?\s+(?!(?:{_CASUALTY}|{_GAP_STOP})\b)[\w'’-]+){{0,4}}?),?\s+"
    rf"(?P<word>{_CASUALTY})\b",
    re.IGNORECASE,
)
_WORD_FIRST = re.compile(
    rf"\b(?P<word>{_CASUALTY})\s+(?:(?:a\s+total\s+of|toll\s+(?:rose\s+)?to)\s+)?"
    rf"(?P<qual>{_QUALIFIER}\s+)?(?P<num>{_NUMBER})\b(?:\s+(?:{_VICTIMS})\b)?",
    re.IGNORECASE,
)
_TOLL = re.compile(
    rf"\b(?P<word>death\s+toll|casualt(?:y|ies)\s+toll)\s+(?:\w+\s+){{0,3}}?(?:to|of|at)\s+"
    rf"(?P<qual>{_QUALIFIER}\s+)?(?P<num>{_NUMBER})\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"^(1[89]|20)\d\d$")


def find_figures(text: str) -> tuple[Figure, ...]:
    """Every casualty figure in `text`, in reading order, without overlaps.

    `value` is the number as written with its qualifier ("at least 21", "18",
    "dozens"); `category` comes from `CASUALTY_WORDS` ("killed", "injured", ...);
    `text` is `text[start:end]`, the whole phrase from number to casualty word.
    Years ("in 2024 killed") are not figures.
    """
    found: list[Figure] = []
    taken: list[tuple[int, int]] = []
    phrases = sorted([*_NUMBER_FIRST.finditer(text), *_WORD_FIRST.finditer(text)], key=lambda m: m.start())
    matches = [*_TOLL.finditer(text), *phrases]
    for match in matches:
        number = match.group("num")
        if _YEAR.match(number) or not number.strip():
            continue
        start, end = match.span()
        if any(start < other_end and other_start < end for other_start, other_end in taken):
            continue
        word = match.group("word").lower()
        category = "killed" if "toll" in word else CASUALTY_WORDS.get(word, word)
        qualifier = (match.group("qual") or "").strip()
        value = " ".join(f"{qualifier} {number}".split())
        taken.append((start, end))
        found.append(Figure(value=value, category=category, text=text[start:end], start=start, end=end))
    return tuple(sorted(found, key=lambda figure: figure.start))
