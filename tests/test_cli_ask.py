"""`conflict-qa ask` and `conflict-qa eval` as a user runs them: output, errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from answers_support import ROOT, build
from assistant.ingest.corpus import load_corpus


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, capture_output=True,
                          text=True, input=stdin, timeout=300)


@pytest.fixture(scope="module")
def seed_index() -> Path:
    return build("seed", load_corpus([ROOT / "corpus" / "jurist-2023-12-belgorod-cluster-munitions.md"]).documents)


def assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.stderr


@pytest.mark.parametrize("args, fragment", [
    (["ask", ""], "empty"),
    (["ask", "   \t"], "empty"),
    (["ask", "x" * 1001], "too long"),
    (["ask", "who\x1bkilled?"], "control character"),
    (["ask", "How many were killed?", "--since", "last week"], "cannot read date 'last week'"),
    (["ask", "How many were killed?", "--until", "2025-13"], "cannot read date '2025-13'"),
    (["ask"], "give either a QUESTION or --questions FILE"),
    (["ask", "How many were killed?", "--questions", "no-such-file.txt"], "give either"),
])
def test_bad_input_is_one_clear_line(args, fragment, seed_index):
    assert_one_line_error(run(*args, "--index", str(seed_index)), fragment)


def test_missing_index_is_one_clear_line(tmp_path):
    assert_one_line_error(run("ask", "How many were killed?", "--index", str(tmp_path / "nothing")),
                          "no index in")


def test_index_built_by_another_model_is_refused(seed_index, tmp_path):
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(seed_index, copy)
    version = (copy / "CURRENT").read_text().strip()
    manifest = json.loads((copy / version / "manifest.json").read_text())
    manifest["model"] = "some-other/model"
    (copy / version / "manifest.json").write_text(json.dumps(manifest))
    assert_one_line_error(run("ask", "How many were killed?", "--index", str(copy)), "some-other/model")


def test_ask_prints_a_cited_answer_and_json(seed_index):
    text = run("ask", "How many people were killed in Belgorod?", "--index", str(seed_index))
    assert text.returncode == 0, text.stderr
    assert "[1]" in text.stdout and "killed 18 people" in text.stdout and "JURIST" in text.stdout
    assert "Sources:" in text.stdout and "#:~:text=" in text.stdout


def test_batch_questions_load_once_and_write_one_json_line_each(seed_index, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text("How many people were killed in Belgorod?\n"
                         '{"question": "Who refused to take part in the meeting?"}\n'
                         "\n"
                         "<b>What is the boiling point of water?</b>\n"
                         '{"question": ""}\n', encoding="utf-8")
    result = run("ask", "--questions", str(questions), "--json", "--index", str(seed_index))
    assert result.returncode == 1  # one line was bad
    assert "questions.txt:5" in result.stderr and "Traceback" not in result.stderr
    payloads = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(payloads) == 4
    first, second, third, bad = payloads
    assert set(first) >= {"question", "answered", "quotes", "sources", "elapsed_ms", "comparison", "nearest"}
    assert first["answered"] and "killed 18 people" in first["quotes"][0]["text"]
    assert second["answered"] and "Czech envoy refused" in second["quotes"][0]["text"]
    assert third["question"] == "What is the boiling point of water?" and not third["answered"]
    assert bad == {"line": 5, "question": "", "error": bad["error"]} and "empty" in bad["error"]


@pytest.fixture(scope="module")
def sample_index() -> Path:
    """The ten Wikipedia/Wikinews items of tests/data/conflict_news_sample.jsonl."""
    return build("attribution-sample", load_corpus([ROOT / "tests" / "data" / "conflict_news_sample.jsonl"]).documents)


def test_ask_text_shows_who_wrote_the_words_and_whom_they_cite(sample_index):
    result = run("ask", "Who solidifies control of Goma?", "--index", str(sample_index))
    assert result.returncode == 0, result.stderr
    assert "— Wikipedia, Portal:Current events · citing Al Jazeera, Reuters" in result.stdout
    assert "license: CC BY-SA 4.0" in result.stdout
    assert "https://en.wikipedia.org/wiki/Portal:Current_events/2025_January_29#:~:text=" in result.stdout
    assert "reuters.com" in result.stdout and "reuters.com/world/africa/rwandas-kagame" in result.stdout
    assert not any("#:~:" in line and "wikipedia.org" not in line for line in result.stdout.splitlines())


def test_ask_source_filter_matches_a_cited_outlet_spelt_differently(sample_index):
    result = run("ask", "What is thrown at the Russian consulate in Marseille?", "--source", "france 24",
                 "--index", str(sample_index), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["answered"] and "molotov cocktails" in payload["quotes"][0]["text"]
    assert payload["quotes"][0]["cites"][0]["name"] == "France 24"  # the record says "France24"
