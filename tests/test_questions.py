"""Question checking and cleaning: what a user typing odd input sees."""

from __future__ import annotations

import pytest

from assistant.search.questions import MAX_QUESTION_CHARS, AnswerKind, QuestionError, answer_kind, clean_question


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "?!", "<b></b>", "**  **"])
def test_empty_questions_are_refused_with_a_hint(raw):
    with pytest.raises(QuestionError, match="empty"):
        clean_question(raw)


def test_too_long_question_is_refused_with_the_limit():
    with pytest.raises(QuestionError, match=str(MAX_QUESTION_CHARS)):
        clean_question("why " * 300)


@pytest.mark.parametrize("raw", ["who\x00 was killed", "who was\x1b[31m killed", "a\x7fb"])
def test_control_characters_are_refused(raw):
    with pytest.raises(QuestionError, match="control character"):
        clean_question(raw)


def test_html_and_markdown_are_read_as_plain_text():
    assert clean_question("<b>How many</b> people were <i>killed</i> in Belgorod?") == (
        "How many people were killed in Belgorod?"
    )
    assert clean_question("<script>alert(1)</script>Who was **killed**?") == "Who was killed?"
    assert clean_question("# How many [people](http://x.org) were `killed`?") == (
        "How many people were killed?"
    )
    assert clean_question("Casualties &amp; damage in\n\nGaza?") == "Casualties & damage in Gaza?"


def test_comparison_signs_are_not_mistaken_for_tags():
    assert clean_question("Were < 5 or > 10 people hurt?") == "Were < 5 or > 10 people hurt?"


def test_non_text_is_refused():
    with pytest.raises(QuestionError):
        clean_question(None)


@pytest.mark.parametrize("question, kind", [
    ("How many people were killed in Belgorod?", AnswerKind.NUMBER),
    ("When did the strike happen?", AnswerKind.DATE),
    ("In what year was the treaty signed?", AnswerKind.DATE),
    ("Who condemned the attack?", AnswerKind.PERSON),
    ("Where did the drone strike hit?", AnswerKind.PLACE),
    ("Why did Russia call a meeting?", AnswerKind.OTHER),
])
def test_answer_kind(question, kind):
    assert answer_kind(question) is kind


def test_question_shaping_words_are_not_search_terms():
    from assistant.index.store import bm25_tokens
    from assistant.search.questions import content_terms

    assert content_terms(bm25_tokens(["How many people were killed in Belgorod?"])[0]) == [
        "peopl", "kill", "belgorod"]
    assert content_terms(bm25_tokens(["What kind of weapons did they use?"])[0]) == ["weapon", "use"]


@pytest.mark.parametrize("question, vague", [
    ("Who is responsible?", True),
    ("What happened?", True),
    ("How many people were killed?", True),
    ("Where did it happen?", True),
    ("Who attacked the Tishrin Dam?", False),
    ("How many were killed in Sumy?", False),
    ("what happened on 18 January 2025?", False),
    ("How many people were killed in the drone strike on the fuel depot?", False),
    ("what is the largest cell in the body?", False),
])
def test_vague_questions_name_nothing_to_look_for(question, vague):
    from assistant.index.store import bm25_tokens
    from assistant.ingest.dates import question_dates
    from assistant.search.questions import content_terms, is_too_vague

    tokens = content_terms(bm25_tokens([question])[0])
    assert is_too_vague(question, tokens, named_dates=len(question_dates(question))) is vague
