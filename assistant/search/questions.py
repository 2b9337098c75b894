"""Reading a question: checking it, cleaning it, and what kind of answer it wants.

`clean_question` turns user input into plain text or raises `QuestionError` with
one line a user can act on. `answer_kind` guesses what the answer looks like
("how many" wants a number), which the sentence ranker uses as a cue.
"""

from __future__ import annotations

import html
import re
import unicodedata
from enum import Enum

MAX_QUESTION_CHARS = 1000
"""Longest question accepted, counted after cleaning (a question, not a document)."""


class QuestionError(ValueError):
    """Input that cannot be asked; the message is one line meant for the user."""


_TAG = re.compile(r"<\s*/?\s*[A-Za-z][^<>]{0,200}>")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SCRIPT = re.compile(r"<\s*(script|style)\b[^>]*>.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_CODE = re.compile(r"`{1,3}([^`]*)`{1,3}")
_MD_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3}|~~)(?=\S)(.+?)(?<=\S)\1")
_MD_LINE_START = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", re.MULTILINE)
_WHITESPACE = re.compile(r"\s+")


def clean_question(raw: object) -> str:
    """The question as plain text on one line, or `QuestionError` saying why not.

    HTML tags, scripts and Markdown markup are removed and their text kept
    ("<b>Who</b> was **killed**?" reads "Who was killed?"); entities are
    decoded; runs of whitespace become one space. Refused: a value that is not
    a string, control characters other than tab and newline, nothing left after
    cleaning, more than `MAX_QUESTION_CHARS` characters.
    """
    if not isinstance(raw, str):
        raise QuestionError("the question must be text")
    if len(raw) > 4 * MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is too long: at most {MAX_QUESTION_CHARS} characters")
    for char in raw:
        if char in "\t\n\r":
            continue
        if unicodedata.category(char) in ("Cc", "Cs") or char in "\u2028\u2029":
            raise QuestionError(
                f"the question contains a control character (U+{ord(char):04X}): type plain text"
            )
    text = _SCRIPT.sub(" ", raw)
    text = _HTML_COMMENT.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_CODE.sub(r"\1", text)
    text = _MD_LINE_START.sub("", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    text = _WHITESPACE.sub(" ", text).strip()
    if not text or not any(char.isalnum() for char in text):
        raise QuestionError("the question is empty: ask something, e.g. \"Who was killed in Belgorod?\"")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is too long ({len(text)} characters): at most {MAX_QUESTION_CHARS}"
        )
    return text


QUESTION_FUNCTION_STEMS = frozenset({
    "what", "which", "who", "whom", "whose", "when", "where", "whi", "how", "did", "do", "doe",
    "has", "have", "had", "been", "were", "would", "could", "should", "can", "may", "might",
    "must", "i", "me", "my", "we", "our", "you", "your", "he", "him", "his", "she", "her", "its",
    "them", "those", "mani", "much", "kind", "type", "name", "call", "happen", "mean", "describ",
    "exampl",
})
"""Stemmed words that shape a question rather than name its subject ("how many", "what
kind of", "what is it called", "what happened"), beyond the 33 stopwords the BM25
tokenizer (bm25s, English) already drops. They are dropped from the query terms:
a corpus that never says "many" can still say how many were killed."""


def content_terms(tokens: list[str]) -> list[str]:
    """Query tokens (already stemmed, stopwords removed) without `QUESTION_FUNCTION_STEMS`."""
    return [token for token in tokens if token not in QUESTION_FUNCTION_STEMS]


class AnswerKind(Enum):
    """What the answer to a question looks like, from its wh-phrase."""

    NUMBER = "number"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"
    OTHER = "other"


_KIND_PATTERNS: tuple[tuple[AnswerKind, re.Pattern[str]], ...] = (
    (AnswerKind.NUMBER, re.compile(
        r"\bhow\s+(many|much|long|far|old|large|big|high|tall|often|fast|heavy|wide|deep)\b"
        r"|\bwhat\s+(percentage|percent|number|amount|proportion|fraction)\b"
        r"|\b(death\s+toll|casualties|population)\b", re.I)),
    (AnswerKind.DATE, re.compile(
        r"\bwhen\b|\bwhat\s+(year|years|date|day|month|century|decade|time|period|era)\b"
        r"|\bwhich\s+(year|years|date|day|month|century|decade)\b|\bin\s+what\s+year\b", re.I)),
    (AnswerKind.PERSON, re.compile(r"\bwho(m|se)?\b|\bwhat\s+(person|man|woman)\b", re.I)),
    (AnswerKind.PLACE, re.compile(r"\bwhere\b|\bwhat\s+(city|country|place|state|region|town)\b"
                                  r"|\bwhich\s+(city|country|place|state|region|town)\b", re.I)),
)


def answer_kind(question: str) -> AnswerKind:
    """The kind of answer the question asks for; `AnswerKind.OTHER` when unsure."""
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(question):
            return kind
    return AnswerKind.OTHER


GENERIC_STEMS = frozenset({
    "respons", "happen", "occur", "go", "took", "take", "place", "thing", "someth", "anyth",
    "someon", "anyon", "peopl", "person", "kill", "die", "dead", "death", "attack", "caus",
    "news", "latest", "situat", "event", "say", "said", "tell", "know", "now", "today", "there",
    "it", "this", "that", "they", "these", "he", "she",
})
"""Stemmed words that say what kind of thing is asked but not about what ("Who is
responsible?", "How many people were killed?", "What happened there?"). Hand-chosen;
the share of answerable questions they make look vague is printed by bench/eval_all.py."""

_NAME_WORD = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w'’-]*")
_DIGIT = re.compile(r"\d")


def is_too_vague(question: str, tokens: list[str], *, named_dates: int = 0) -> bool:
    """True when the question names nothing to look for in the reporting.

    `tokens` are its content terms (`content_terms`). Vague: no name (a capitalised
    word after the first), no number, no date, and no content term beyond
    `GENERIC_STEMS`. "Who is responsible?" and "What happened?" are vague; "Who
    attacked the Tishrin Dam?" and "How many were killed in Sumy?" are not.
    """
    if named_dates or _DIGIT.search(question) or _NAME_WORD.search(question.strip()):
        return False
    return not any(token not in GENERIC_STEMS for token in tokens)
