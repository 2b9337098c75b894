"""Cutting document text into sentences and model-sized chunks, keeping offsets.

Every span is a character range into the document text, so `text[start:end]`
gives the piece back exactly; nothing is re-typed or normalised here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.records import Span

ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof gen lt col sgt capt maj cmdr adm brig st jr sr nos vs etc inc ltd co corp
    gov sen rep rev hon pres dept univ approx est fig al jan feb mar apr jun jul aug sep sept oct nov dec
    u.s u.k u.n e.g i.e a.m p.m""".split()
)
"""Words that end with a period without ending a sentence (compared lowercased)."""

_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9À-Ý])")
_WORD_BEFORE = re.compile(r"([\w.]+)$")


def _is_abbreviation(text: str, period_at: int) -> bool:
    match = _WORD_BEFORE.search(text, 0, period_at)
    if match is None:
        return False
    word = match.group(1).lower().rstrip(".")
    if len(word) == 1 and word.isalpha():
        return True  # an initial, as in "J. Smith"
    if word == "no":
        return text[period_at + 1:period_at + 3].strip()[:1].isdigit()  # "No. 10", not "No."
    return word in ABBREVIATIONS


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start=start, end=end) if start < end else None


def split_sentences(text: str) -> list[Span]:
    """Sentences of `text` as spans, in order, without surrounding whitespace.

    A line break always ends a sentence (headlines, list items, block quotes);
    inside a line, a sentence ends at . ! ? (with closing quotes or brackets)
    before a capital, digit or opening quote, unless the period closes a known
    abbreviation or an initial.
    """
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]+", text):
        line_start, line_end = line.start(), line.end()
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
    """Cuts text into chunks of at most `max_tokens` model tokens with langchain-text-splitters.

    `count_tokens` is the embedding model's tokenizer (special tokens included), so
    the budget is the one the model applies; no chunk is silently truncated.
    """

    def __init__(self, *, count_tokens: Callable[[str], int], max_tokens: int, overlap_tokens: int) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self._count_tokens = count_tokens
        self.max_tokens = max_tokens
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=max_tokens,
            chunk_overlap=min(overlap_tokens, max_tokens // 4),
            length_function=count_tokens,
            separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
            keep_separator="end",
            strip_whitespace=True,
        )

    def fits(self, text: str) -> bool:
        # A token covers at least one character, so short texts need no tokenizer call.
        return len(text) + 2 <= self.max_tokens or self._count_tokens(text) <= self.max_tokens

    def split(self, text: str, within: Span | None = None) -> list[Span]:
        """Chunks of `text` (or of the part `within`), as spans of `text`."""
        span = within or Span(start=0, end=len(text))
        piece = text[span.start:span.end]
        if self.fits(piece):
            return [span]
        located = _locate(piece, self._splitter.split_text(piece))
        return [Span(start=span.start + s.start, end=span.start + s.end) for s in located]


def split_document(text: str, chunker: Chunker) -> DocumentSpans:
    """Chunks and sentences of a document; sentences longer than a chunk are cut to fit."""
    chunks = chunker.split(text)
    sentences: list[Span] = []
    for sentence in split_sentences(text):
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
