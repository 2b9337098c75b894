"""Sentences and chunks keep exact offsets and respect the model's token budget."""

from pathlib import Path

import pytest

from assistant.ingest.chunking import Chunker, split_document, split_sentences

SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seeds" / "000_8572b3f23334c504.txt"


def words(text: str) -> int:
    return len(text.split()) + 2  # a stand-in tokenizer: one token a word, plus two special tokens


def test_sentences_are_exact_slices_of_the_text():
    text = "Mr. Smith arrived. He said: \u201cNo.\u201d\nHeadline without a period\nU.S. forces left at 3 p.m. on Friday. Then No. 10 spoke!"
    pieces = [text[s.start:s.end] for s in split_sentences(text)]
    assert pieces == [
        "Mr. Smith arrived.",
        "He said: \u201cNo.\u201d",
        "Headline without a period",
        "U.S. forces left at 3 p.m. on Friday.",
        "Then No. 10 spoke!",
    ]


def test_seed_article_sentences_include_the_casualty_sentence():
    text = SEED.read_text(encoding="utf-8")
    pieces = [text[s.start:s.end] for s in split_sentences(text)]
    assert any(p.startswith("The country\u2019s Permanent Representative") and p.endswith("injuring 108 others.") for p in pieces)
    assert all(p == p.strip() and p for p in pieces)


def test_chunks_fit_the_budget_and_cover_the_document():
    text = " ".join(f"Sentence number {i} reports that {i} people were displaced." for i in range(200))
    chunker = Chunker(count_tokens=words, max_tokens=50, overlap_tokens=10)
    spans = split_document(text, chunker)
    assert len(spans.chunks) > 10
    assert all(words(text[c.start:c.end]) <= 50 for c in spans.chunks)
    assert spans.chunks[0].start == 0 and spans.chunks[-1].end == len(text)
    for previous, following in zip(spans.chunks, spans.chunks[1:]):
        assert following.start <= previous.end + 1  # no text falls between chunks
    for sentence, chunk_position in zip(spans.sentences, spans.sentence_chunks):
        chunk = spans.chunks[chunk_position]
        assert chunk.start <= sentence.start < chunk.end


def test_a_sentence_longer_than_a_chunk_is_cut_to_fit():
    text = "Casualties were reported in " + ", ".join(f"village {i}" for i in range(120)) + "."
    chunker = Chunker(count_tokens=words, max_tokens=40, overlap_tokens=5)
    spans = split_document(text, chunker)
    assert len(spans.sentences) > 1
    assert all(words(text[s.start:s.end]) <= 40 for s in spans.sentences)


@pytest.mark.parametrize("text", ["", "   \n\n  "])
def test_blank_text_has_no_sentences(text):
    assert split_sentences(text) == []
