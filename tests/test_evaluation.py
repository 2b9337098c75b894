"""Evaluation: metric definitions, question selection, and a whole run on a tiny SQuAD file."""

from __future__ import annotations

import gzip
import json

import pytest
from click.testing import CliRunner

from answers_support import embedder
from assistant.cli import main
from assistant.eval_data import EvalDataError, EvalQuestion, load_question_file, load_squad
from assistant.evaluation import (
    QuestionResult, contains_answer, contains_answer_words, judge, select_questions, summarize,
)

TINY_SQUAD = {"version": "1.1", "data": [
    {"title": "Nile_River", "paragraphs": [
        {"context": "The Nile is a major north-flowing river in northeastern Africa. It is about 6,650 km long.",
         "qas": [{"id": "n1", "question": "How long is the Nile?",
                  "answers": [{"text": "6,650 km", "answer_start": 75}, {"text": "about 6,650 km", "answer_start": 69}]}]},
        {"context": "The Nile flows into the Mediterranean Sea. Its delta lies in northern Egypt.",
         "qas": [{"id": "n2", "question": "Into which sea does the Nile flow?",
                  "answers": [{"text": "Mediterranean Sea", "answer_start": 24}]}]},
    ]},
    {"title": "Oxygen", "paragraphs": [
        {"context": "Oxygen is a chemical element with symbol O and atomic number 8. It is a highly reactive nonmetal.",
         "qas": [{"id": "o1", "question": "What is the atomic number of oxygen?",
                  "answers": [{"text": "8", "answer_start": 62}]}]},
        {"context": "Oxygen was discovered by the Swedish pharmacist Carl Wilhelm Scheele in 1771.",
         "qas": [{"id": "o2", "question": "Who discovered oxygen?",
                  "answers": [{"text": "Carl Wilhelm Scheele", "answer_start": 48}]},
                 {"id": "o3", "question": "Which football club did Scheele support?", "answers": [],
                  "is_impossible": True}]},
    ]},
]}


def result(answerable, answered, passage, quote, ms=10.0, embed=5.0):
    modes = ("hybrid", "bm25", "dense", "rrf")
    return QuestionResult(question_id="q", answerable=answerable, answered=answered,
                          passage_rank=dict.fromkeys(modes, passage), quote_rank=dict.fromkeys(modes, quote),
                          elapsed_ms=ms, embed_ms=embed, quotes=1)


def test_summary_figures_follow_the_definitions():
    report = summarize([
        result(True, True, 1, 1, ms=10), result(True, True, 3, 2, ms=20), result(True, False, 30, None, ms=30),
        result(True, True, None, 4, ms=40), result(False, False, None, None, ms=50),
        result(False, True, 1, None, ms=60),
    ])
    hybrid = report["modes"]["hybrid"]
    assert (hybrid["passage_recall@1"], hybrid["passage_recall@5"], hybrid["passage_recall@20"]) == (0.25, 0.5, 0.5)
    assert (hybrid["quote_hit@1"], hybrid["quote_hit@3"]) == (0.25, 0.5)
    abstention = report["abstention"]
    assert abstention["answered_when_answerable"] == 0.75
    assert abstention["declined_when_unanswerable"] == 0.5
    assert abstention["precision"] == 0.5 and abstention["recall"] == 0.5
    assert report["latency_ms"]["p50"] == 35.0 and report["latency_ms"]["p50_over_embed_p50"] == 7.0
    assert (report["answerable"], report["unanswerable"]) == (4, 2)


def test_answers_match_ignoring_case_but_not_empty():
    assert contains_answer("Carl Wilhelm SCHEELE found it", ["carl wilhelm scheele"])
    assert not contains_answer("anything", ["", "  "])


def test_article_halves_and_seeded_samples():
    questions = [EvalQuestion(id=str(i), question=f"q{i}", answers=("a",), article=i // 2) for i in range(20)]
    even = select_questions(questions, articles="even")
    odd = select_questions(questions, articles="odd")
    assert {q.article % 2 for q in even} == {0} and {q.article % 2 for q in odd} == {1}
    assert len(even) + len(odd) == 20
    sample = select_questions(questions, limit=5, seed=3)
    assert len(sample) == 5 and sample == select_questions(questions, limit=5, seed=3)
    assert [q.id for q in sample] == sorted((q.id for q in sample), key=int)
    with pytest.raises(ValueError):
        select_questions(questions, articles="third")


def test_squad_file_becomes_paragraph_documents_and_questions(tmp_path):
    path = tmp_path / "tiny.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump(TINY_SQUAD, handle)
    squad = load_squad(path)
    assert len(squad.documents) == 4
    assert {d.source for d in squad.documents} == {"Nile River", "Oxygen"}
    assert squad.questions[0].answers == ("6,650 km", "about 6,650 km")
    assert squad.questions[-1].answers == () and squad.questions[-1].article == 1


def test_question_file_errors_name_the_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "Who?", "answers": ["x"]}\n\n{"question": "Where?"}\n')
    with pytest.raises(EvalDataError, match=r"q.jsonl:3"):
        load_question_file(path)
    path.write_text('{"question": "Who?", "answers": []}\n')
    assert load_question_file(path)[0].answers == ()


def test_eval_command_on_a_tiny_squad_file(tmp_path):
    from assistant.service import QAService
    from assistant.settings import Settings

    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY_SQUAD))
    index_dir = tmp_path / "index"
    details = tmp_path / "details.jsonl"
    run = CliRunner().invoke(main, ["eval", str(path), "--index", str(index_dir), "--json",
                                    "--details", str(details)])
    assert run.exit_code == 0, run.output
    report = json.loads(run.output)
    assert (report["questions"], report["answerable"], report["unanswerable"]) == (5, 4, 1)
    assert report["exact_slices"]["violations"] == 0 and report["exact_slices"]["unchecked"] == 0
    # Recompute hit@1 and recall@1 independently from the answers the service gives.
    service = QAService(Settings(index_dir=index_dir), embedder=embedder())
    squad = load_squad(path)
    hits = 0
    for question in squad.questions[:-1]:
        answer = service.ask(question.question)
        hits += bool(answer.quotes) and contains_answer(answer.quotes[0].text, question.answers)
    assert report["modes"]["hybrid"]["quote_hit@1"] == hits / 4
    assert report["modes"]["hybrid"]["passage_recall@1"] == 1.0
    assert report["modes"]["bm25"]["passage_recall@5"] == 1.0
    assert len(details.read_text().splitlines()) == 5
    # Each kept candidate carries the window a reading signal is fitted on: the title, then the
    # sentence with its neighbours in the same paragraph, so "How long is the Nile?" keeps the
    # 6,650 km sentence together with the sentence before it.
    by_id = {record["question_id"]: record for record in map(json.loads, details.read_text().splitlines())}
    windows = [c["window"] for c in by_id["n1"]["candidates"] if c["answer"]]
    assert windows == ["Nile River | The Nile is a major north-flowing river in northeastern Africa. "
                       "It is about 6,650 km long."]
    # The cached index is reused: a second run embeds nothing new and reports the same figures.
    again = CliRunner().invoke(main, ["eval", str(path), "--index", str(index_dir), "--json"])
    assert json.loads(again.output)["modes"] == report["modes"]


def test_whole_word_hit_does_not_find_8_in_1980():
    assert contains_answer("It was founded in 1980.", ["8"])
    assert not contains_answer_words("It was founded in 1980.", ["8"])
    assert contains_answer_words("Oxygen has atomic number 8.", ["8"])
    assert contains_answer_words("Scheele (Carl Wilhelm Scheele) found it", ["carl wilhelm scheele"])
    assert not contains_answer_words("the Normandy landings", ["Norman"])


def test_a_quote_that_differs_from_the_corpus_on_disk_is_counted(tmp_path):
    """The exactness check compares with the corpus read again, so an altered text is caught."""
    from dataclasses import replace

    from answers_support import NEWS, news_service

    service = news_service()
    question = EvalQuestion(id="s", question="How many people did the strike on Sumy kill?", answers=("nine",),
                            record="sumy-reuters")
    details = service.ask_details(question.question)
    assert details.answer.quotes
    on_disk = {d.id: d for d in NEWS}
    clean = judge(service.search_index, question, details, on_disk.get)
    assert (clean.slice_violations, clean.unchecked_quotes) == (0, 0)
    first = details.answer.quotes[0]
    altered = {**on_disk, first.doc_id: replace(on_disk[first.doc_id], text=on_disk[first.doc_id].text.replace(
        "nine", "ten").replace("Drone", "Missile").replace("M23", "M24").replace("12 people", "13 people"))}
    assert judge(service.search_index, question, details, altered.get).slice_violations >= 1
    assert judge(service.search_index, question, details, {}.get).unchecked_quotes == clean.quotes


def test_extra_quotes_are_scored_by_the_topic_of_the_right_answer():
    from answers_support import news_service

    service = news_service()
    question = EvalQuestion(id="s", question="How many people did the Russian missile strike on Sumy kill?",
                            answers=("nine",), record="sumy-reuters")
    details = service.ask_details(question.question)
    graded = judge(service.search_index, question, details, lambda _: None)
    topics = {d.id: d.title for d in service.search_index.documents}
    expected = sum(1 for q in details.answer.quotes[1:] if topics[q.doc_id] == topics["sumy-reuters"])
    assert graded.extra_quotes == len(details.answer.quotes) - 1
    assert graded.extra_on_topic == expected
