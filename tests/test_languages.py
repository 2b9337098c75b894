"""Languages: what a document and a question are in, which models cover which languages, and
how right-to-left text is marked up for the browser."""

import pytest

from assistant.ingest.languages import (
    detect_language, language_advice, model_languages, parse_languages, question_language,
    uncovered_question_language,
)
from assistant.records import Answer, Document, Quote
from assistant.web.pages import source_page
from assistant.web.ui import render_answer

ENGLISH_QUESTIONS = [
    "How many people were killed in Belgorod?", "Who refused to attend the Security Council meeting?",
    "What is NATO?", "Kharkiv?", "When did Hamas attack Israel?", "Which city did M23 rebels enter in January 2025?",
]


@pytest.mark.parametrize("question", ENGLISH_QUESTIONS)
def test_english_questions_are_never_taken_for_another_language(question):
    assert question_language(question) is None
    assert uncovered_question_language(question, frozenset({"en"})) is None


@pytest.mark.parametrize("question, language", [
    ("Скільки людей загинуло в Бєлгороді?", "uk"), ("Сколько людей погибло в Белгороде?", "ru"),
    ("كم عدد القتلى في بيلغورود؟", "ar"), ("כמה אנשים נהרגו בעזה?", "he"), ("别尔哥罗德有多少人死亡？", "zh"),
    ("Combien de personnes ont été tuées à Belgorod ?", "fr"),
])
def test_questions_in_other_languages_are_named(question, language):
    assert question_language(question) == language
    assert uncovered_question_language(question, frozenset({"en"})) == language
    assert uncovered_question_language(question, None) is None  # a multilingual model takes it
    assert uncovered_question_language(question, frozenset({"en", language})) is None


def test_the_message_names_the_language_and_what_to_do():
    message = language_advice("uk", "sentence-transformers/all-MiniLM-L6-v2")
    assert message.startswith("The question looks like Ukrainian")
    assert "ask in English" in message and "--model paraphrase-multilingual-MiniLM-L12-v2" in message


def test_model_coverage_is_known_per_model_name_or_given():
    assert model_languages("sentence-transformers/all-MiniLM-L6-v2") == {"en"}
    assert model_languages("all-MiniLM-L6-v2") == {"en"}
    assert model_languages("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2") is None
    assert model_languages("/models/my-own-model") is None
    assert parse_languages("en, fr") == {"en", "fr"} and parse_languages("all") is None


def test_a_short_english_item_about_nigeria_is_english():
    # py3langid alone labels this "Nigerian Pidgin" (0.85); Latin-script labels below 0.9 fall back to English.
    assert detect_language("Boko Haram insurgents kill nine people and injure four others in an attack on "
                           "Mallam Fatori in Borno State, Nigeria.") == "en"
    assert detect_language("12 345") is None


def test_quotes_and_the_source_page_carry_direction_and_language():
    quote = Quote(text="قتل اثنا عشر شخصا.", doc_id="gaza", title="غارة على مدرسة", source="الجزيرة", url=None,
                  published="2025-01-18", start=0, end=18, score=1.0, marker=1, language="ar")
    html = render_answer(Answer(question="q", answered=True, quotes=(quote,)))
    assert '<p dir="auto" lang="ar">' in html
    assert 'dir="auto" lang="ar">غارة على مدرسة</a>' in html
    hostile = render_answer(Answer(question="q", answered=True, quotes=(Quote(**{**quote.__dict__,
                                                                             "language": 'ar" onclick="x'}),)))
    assert "onclick" not in hostile and '<p dir="auto">' in hostile
    page = source_page(Document(id="gaza", text="قتل اثنا عشر شخصا.", title="غارة", source="الجزيرة",
                                language="ar"), 0, 18)
    assert '<article class="text" dir="auto" lang="ar">' in page and '<h1 dir="auto" lang="ar">' in page
