"""Sentences and chunks keep exact offsets and respect the model's token budget."""

import time
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


def test_five_pm_then_ends_a_sentence_but_five_pm_friday_does_not():
    text = "The strike came at 5 p.m. Then the army withdrew. They left at 3 p.m. Friday. At 4 a.m. GMT it ended."
    assert [text[s.start:s.end] for s in split_sentences(text)] == [
        "The strike came at 5 p.m.", "Then the army withdrew.", "They left at 3 p.m. Friday.", "At 4 a.m. GMT it ended.",
    ]


PARAGRAPHS = {
    "uk": ("Президент України заявив про нову атаку на Харків. Загинули п'ятеро людей! Чи є поранені? "
           "Так, 12 осіб.",
           ["Президент України заявив про нову атаку на Харків.", "Загинули п'ятеро людей!", "Чи є поранені?",
            "Так, 12 осіб."]),
    "ru": ("Г. Петров сообщил об ударе по Белгороду. В 5 ч. утра т. е. до рассвета сработала ПВО. "
           "Затем армия отступила.",
           ["Г. Петров сообщил об ударе по Белгороду.", "В 5 ч. утра т. е. до рассвета сработала ПВО.",
            "Затем армия отступила."]),
    "ar": "قال المسؤولون إن خمسة أشخاص قتلوا في القصف. وانسحب الجيش بعد ذلك؟ نعم، بحسب الشهود.",
    "he": "הצבא הודיע על תקיפה בעזה. חמישה בני אדם נהרגו! האם יש פצועים? כן, לפי המשטרה.",
    "fr": ("M. Dupont est arrivé à Goma à 17 h. Puis il est reparti vers Bukavu. L'ONU a condamné "
           "l'attaque, selon l'AFP.",
           ["M. Dupont est arrivé à Goma à 17 h.", "Puis il est reparti vers Bukavu.",
            "L'ONU a condamné l'attaque, selon l'AFP."]),
    "zh": ("官员说五人在袭击中死亡。随后军队撤离！这是真的吗？是的，目击者证实了。",
           ["官员说五人在袭击中死亡。", "随后军队撤离！", "这是真的吗？", "是的，目击者证实了。"]),
}
PARAGRAPHS["ar"] = (PARAGRAPHS["ar"], ["قال المسؤولون إن خمسة أشخاص قتلوا في القصف.", "وانسحب الجيش بعد ذلك؟",
                                       "نعم، بحسب الشهود."])
PARAGRAPHS["he"] = (PARAGRAPHS["he"], ["הצבא הודיע על תקיפה בעזה.", "חמישה בני אדם נהרגו!", "האם יש פצועים?",
                                       "כן, לפי המשטרה."])


@pytest.mark.parametrize("language", sorted(PARAGRAPHS))
def test_sentences_in_other_scripts_split_at_their_own_punctuation_with_exact_offsets(language):
    from assistant.ingest.languages import detect_language

    paragraph, expected = PARAGRAPHS[language]
    text = f"Headline line\n{paragraph}\n"
    assert detect_language(paragraph) == language
    spans = split_sentences(text, language)
    assert [text[s.start:s.end] for s in spans] == ["Headline line", *expected]
    assert spans[1].start == text.index(expected[0])


def test_a_line_without_spaces_comes_back_in_bounded_pieces():
    """A megabyte with no space is one [UNK] token to the model, but no quote may be a megabyte."""
    text = "Officials said 5 people died.\n" + "x" * 1_000_000 + "\nThe army withdrew."
    chunker = Chunker(count_tokens=words, max_tokens=50, overlap_tokens=10)
    spans = split_document(text, chunker)
    assert chunker.max_chars == 500
    assert max(s.end - s.start for s in spans.chunks) <= 500
    assert max(s.end - s.start for s in spans.sentences) <= 500
    assert sum(s.end - s.start for s in spans.sentences) == len(text) - 2  # every character but the two line breaks
    assert text[spans.sentences[-1].start:spans.sentences[-1].end] == "The army withdrew."


def test_long_words_separated_by_spaces_do_not_add_up_to_a_huge_chunk():
    text = " ".join("y" * 400 for _ in range(300))
    chunker = Chunker(count_tokens=words, max_tokens=50, overlap_tokens=10)
    assert max(s.end - s.start for s in chunker.split(text)) <= chunker.max_chars


def _news(size: int) -> str:
    sentence = "Mr. Smith of the U.S. Army said 12 people were killed at 5 p.m. in Kharkiv, Gov. Lee said. "
    return (sentence * (size // len(sentence) + 1))[:size]


def _cpu_seconds(function, *args) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        function(*args)
        best = min(best, time.process_time() - started)
    return max(best, 1e-4)


@pytest.mark.parametrize("make_text", [_news, lambda size: "." * size, lambda size: ". " * (size // 2)],
                         ids=["news", "periods", "period-space"])
def test_splitting_time_grows_linearly_with_the_document(make_text):
    """Four times the text may take at most eight times the CPU time (linear: 4x; the old
    abbreviation look-back rescanned the line at every period: 16x)."""
    small, large = make_text(40_000), make_text(160_000)
    ratio = _cpu_seconds(split_sentences, large) / _cpu_seconds(split_sentences, small)
    assert ratio < 8, f"4x the text took {ratio:.1f}x the time"


def test_tokenizer_work_grows_linearly_with_the_document():
    """Characters handed to the tokenizer: a bounded multiple of the document's length."""
    handed = [0]

    def counting(text: str) -> int:
        handed[0] += len(text)
        return words(text)

    per_char = []
    for size in (50_000, 200_000):
        handed[0] = 0
        text = "\n\n".join(_news(2_000) for _ in range(size // 2_000))
        split_document(text, Chunker(count_tokens=counting, max_tokens=60, overlap_tokens=10))
        per_char.append(handed[0] / len(text))
    assert per_char[1] < 1.5 * per_char[0] and per_char[1] < 6
