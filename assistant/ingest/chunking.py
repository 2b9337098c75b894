"""Cutting document text into sentences and model-sized chunks, keeping offsets.

Every span is a character range into the document text, so `text[start:end]`
gives the piece back exactly; nothing is re-typed or normalised here.

All of it is linear in the document's length (bench/split_scaling.py measures
64 KB to 20 MB), and every sentence and chunk is bounded twice: at most
`max_tokens` model tokens and at most `max_tokens * MAX_CHARS_PER_TOKEN`
characters, so a line of a million characters that the tokenizer reads as one
[UNK] token is still cut into pieces of bounded length.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.records import Span

SPLITTER_VERSION = "sentences-2/sentencex-1.0.32/py3langid-0.4.0/chunks-2"
"""Recorded in the index manifest: a build whose splitter differs re-splits every document.
The detector is part of it, since the language chooses the sentence rules.
Raise it whenever a change here can move a boundary."""

MAX_CHARS_PER_TOKEN = 10
"""The character bound of a chunk is 10 characters per token of its budget (2,000 for the
default 200 tokens). English news averages about 4.5 characters per MiniLM token, so the
bound never cuts ordinary prose; it stops a run of characters the tokenizer reads as one
[UNK] token from becoming a megabyte "chunk"."""

ENGLISH_RULES_LANGUAGES = frozenset({"en"})
"""Languages split by this module's own rules (the boundaries the sentence ranker was fitted
on); every other language goes to sentencex, which knows each language's punctuation and
abbreviations. A document of unknown language (None) uses the English rules."""

ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof gen lt col sgt capt maj cmdr adm brig st jr sr nos vs etc inc ltd co corp
    gov sen rep rev hon pres dept univ approx est fig al jan feb mar apr jun jul aug sep sept oct nov dec
    u.s u.k u.n e.g i.e a.m p.m""".split()
)
"""Words that end with a period without ending a sentence (compared lowercased)."""

TIME_ABBREVIATIONS = frozenset({"a.m", "p.m"})
"""Abbreviations that also end a sentence when a new one starts after them ("at 5 p.m. Then ...")."""

TIME_FOLLOWERS = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec
    gmt utc est edt cst cdt mst mdt pst pdt et ct pt cet cest eet eest bst ist msk local eastern central
    mountain pacific atlantic alaska hawaii moscow kyiv greenwich""".split()
)
"""Capitalised words that continue a time rather than start a sentence ("5 p.m. GMT", "3 p.m. Friday")."""

# The look-behind makes a run of terminators match once, at its start: without it a
# line of 100,000 periods is tried at every position (quadratic).
_SENTENCE_END = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9À-Ý])")
_WORD_BEFORE = re.compile(r"([\w.]+)$")
_WORD_AFTER = re.compile(r"\s+[\"'“‘(\[]?(\w+)")
_INITIAL_AT_END = re.compile(r"(?:^|[\s(\"'“‘])[^\W\d_]\.$")
ABBREVIATION_WINDOW = 32
"""Characters looked at before a period to find the word it closes; every known
abbreviation is far shorter, and the look stays constant-time however long the line."""


def _is_abbreviation(text: str, period_at: int) -> bool:
    match = _WORD_BEFORE.search(text, max(0, period_at - ABBREVIATION_WINDOW), period_at)
    if match is None:
        return False
    word = match.group(1).lower().rstrip(".")
    if len(word) == 1 and word.isalpha():
        return True  # an initial, as in "J. Smith"
    if word == "no":
        return text[period_at + 1:period_at + 3].strip()[:1].isdigit()  # "No. 10", not "No."
    if word in TIME_ABBREVIATIONS:
        following = _WORD_AFTER.match(text, period_at + 1)
        return following is None or following.group(1).lower() in TIME_FOLLOWERS
    return word in ABBREVIATIONS


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start=start, end=end) if start < end else None


def split_sentences(text: str, language: str | None = None) -> list[Span]:
    """Sentences of `text` as spans, in order, without surrounding whitespace.

    A line break always ends a sentence (headlines, list items, block quotes). Inside
    a line, English (and text of unknown language) follows this module's rules: a
    sentence ends at . ! ? (with closing quotes or brackets) before a capital, digit
    or opening quote, unless the period closes a known abbreviation or an initial
    ("5 p.m. Then" ends after "p.m."; "5 p.m. Friday" does not). Other languages
    are split by sentencex with `language`'s rules (Arabic ؟, Chinese 。！？, Cyrillic
    capitals, ...), keeping single-letter initials ("M. Dupont") inside the sentence.
    """
    spans: list[Span] = []
    split_line = _english_line if language is None or language in ENGLISH_RULES_LANGUAGES else _sentencex_line
    for line in re.finditer(r"[^\n]+", text):
        spans.extend(split_line(text, line.start(), line.end(), language or "en"))
    return spans


def _english_line(text: str, line_start: int, line_end: int, language: str) -> list[Span]:
    spans: list[Span] = []
    start = line_start
    for boundary in _SENTENCE_END.finditer(text, line_start, line_end):
        if text[boundary.start()] == "." and _is_abbreviation(text, boundary.start()):
            continue
        span = _trimmed(text, start, boundary.end())
        if span is not None:
            spans.append(span)
        start = boundary.end()
    span = _trimmed(text, start, line_end)
    if span is not None:
        spans.append(span)
    return spans


def _sentencex_line(text: str, line_start: int, line_end: int, language: str) -> list[Span]:
    import sentencex

    line = text[line_start:line_end]
    pieces = [[b["start_index"], b["end_index"]] for b in sentencex.get_sentence_boundaries(language, line)]
    merged: list[list[int]] = []
    for piece in pieces:
        # Join to the sentence before when that one ends in an initial ("M. Dupont", "Г. Москва")
        # or this one starts in lower case, which no sentence of a cased script does ("т. е. рано").
        if merged and (_ends_in_initial(line[merged[-1][0]:merged[-1][1]].rstrip())
                       or line[piece[0]:piece[1]].lstrip()[:1].islower()):
            merged[-1][1] = piece[1]
        else:
            merged.append(piece)
    spans = (_trimmed(text, line_start + start, line_start + end) for start, end in merged)
    return [span for span in spans if span is not None]


def _ends_in_initial(sentence: str) -> bool:
    """True for "... M." or "Г.": one capital letter and a period (lower case "h." is an abbreviation
    such as French "17 h.", which can end a sentence)."""
    return _INITIAL_AT_END.search(sentence) is not None and sentence[-2].isupper()


@dataclass(frozen=True, kw_only=True)
class DocumentSpans:
    """The chunks and sentences of one document; `sentence_chunks[i]` indexes `chunks`."""

    chunks: tuple[Span, ...]
    sentences: tuple[Span, ...]
    sentence_chunks: tuple[int, ...]


def _locate(text: str, pieces: Sequence[str]) -> list[Span]:
    """Offsets of splitter output in `text`, searched forward as the splitter emits them."""
    spans: list[Span] = []
    cursor = 0
    for piece in pieces:
        start = text.find(piece, cursor)
        if start < 0:
            start = text.find(piece)
        if start < 0:
            raise ValueError("text splitter returned text that is not in the document")
        spans.append(Span(start=start, end=start + len(piece)))
        cursor = start + 1
    return spans


class Chunker:
    """Cuts text into chunks of at most `max_tokens` model tokens and `max_chars` characters.

    langchain-text-splitters cuts at paragraph, line, sentence, clause and word
    boundaries, measuring a piece as the larger of its token count (`count_tokens`,
    the embedding model's tokenizer, special tokens included) and its characters /
    `MAX_CHARS_PER_TOKEN`. What has no such boundary (a long run without spaces) is
    halved until it fits. No chunk is silently truncated by the model.
    """

    def __init__(self, *, count_tokens: Callable[[str], int], max_tokens: int, overlap_tokens: int,
                 max_chars: int | None = None) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self._count_tokens = count_tokens
        self.max_tokens = max_tokens
        self.max_chars = max_chars or max_tokens * MAX_CHARS_PER_TOKEN
        self._long_run = re.compile(r"\S{%d,}" % (self.max_chars + 1))
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=max_tokens,
            chunk_overlap=min(overlap_tokens, max_tokens // 4),
            length_function=self._size,
            # No "" at the end: cutting into single characters costs a tokenizer call per
            # character; what is left too long is halved by `_halved` instead.
            separators=["\n\n", "\n", ". ", "? ", "! ", "。", "！", "？", "؟ ", "; ", ", ", " "],
            keep_separator="end",
            strip_whitespace=True,
        )

    def _size(self, text: str) -> int:
        """The budget a piece uses: its tokens, or its characters / MAX_CHARS_PER_TOKEN if more."""
        by_chars = math.ceil(len(text) * self.max_tokens / self.max_chars)
        if by_chars > self.max_tokens:
            return by_chars  # too long whatever its tokens: no need to tokenize it
        return max(by_chars, self._count_tokens(text))

    def fits(self, text: str) -> bool:
        if len(text) > self.max_chars:
            return False
        # A token covers at least one character, so short texts need no tokenizer call.
        return len(text) + 2 <= self.max_tokens or self._count_tokens(text) <= self.max_tokens

    def split(self, text: str, within: Span | None = None) -> list[Span]:
        """Chunks of `text` (or of the part `within`), as spans of `text`."""
        span = within or Span(start=0, end=len(text))
        if self.fits(text[span.start:span.end]):
            return [span]
        pieces: list[Span] = []
        cursor = span.start
        # A run of non-space characters longer than a chunk has no boundary to respect:
        # it is cut apart from the text around it, so the splitter never sees it whole.
        for run in self._long_run.finditer(text, span.start, span.end):
            pieces.extend(self._split_region(text, cursor, run.start()))
            pieces.extend(self._halved(text, run.start(), run.end()))
            cursor = run.end()
        pieces.extend(self._split_region(text, cursor, span.end))
        return pieces

    def _split_region(self, text: str, start: int, end: int) -> list[Span]:
        region = _trimmed(text, start, end)
        if region is None:
            return []
        piece = text[region.start:region.end]
        if self.fits(piece):
            return [region]
        spans: list[Span] = []
        for located in _locate(piece, self._splitter.split_text(piece)):
            spans.extend(self._halved(text, region.start + located.start, region.start + located.end))
        return spans

    def _halved(self, text: str, start: int, end: int) -> list[Span]:
        """[start, end) as is when it fits, else cut near the middle (at a space if one is
        near) and each half likewise; each level reads the piece once, so the cost is
        n log n in its length, and only for text that has no boundary the splitter uses."""
        trimmed = _trimmed(text, start, end)
        if trimmed is None:
            return []
        start, end = trimmed.start, trimmed.end
        if end - start <= 1 or self.fits(text[start:end]):
            return [trimmed]
        middle = (start + end) // 2
        space = text.rfind(" ", start + (end - start) // 4, middle)
        cut = space if space > start else middle
        return self._halved(text, start, cut) + self._halved(text, cut, end)


def split_document(text: str, chunker: Chunker, language: str | None = None) -> DocumentSpans:
    """Chunks and sentences of a document; sentences longer than a chunk are cut to fit.

    `language` (an ISO 639 code, see ingest/languages.py) chooses the sentence rules.
    """
    chunks = chunker.split(text)
    sentences: list[Span] = []
    for sentence in split_sentences(text, language):
        sentences.extend(chunker.split(text, sentence))
    chunk_starts = [chunk.start for chunk in chunks]
    sentence_chunks = []
    position = 0
    for sentence in sentences:
        while position + 1 < len(chunks) and chunk_starts[position + 1] <= sentence.start:
            position += 1
        # With overlap a sentence may also open the next chunk; prefer the chunk that holds it whole.
        if chunks[position].end < sentence.end and position + 1 < len(chunks):
            position_for_sentence = position + 1 if chunks[position + 1].start <= sentence.start else position
        else:
            position_for_sentence = position
        sentence_chunks.append(position_for_sentence)
    return DocumentSpans(chunks=tuple(chunks), sentences=tuple(sentences), sentence_chunks=tuple(sentence_chunks))
