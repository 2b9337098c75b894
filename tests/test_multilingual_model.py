"""Documents in several languages end to end with a multilingual static-embedding model made
locally (tests/multilingual_support.py): build, stats per language, ask without --model,
the splitter version in the manifest, the per-document size limit, and the message for a
question in a language the model does not cover. `conflict-qa` runs through click's runner."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from multilingual_support import make_static_model

ROOT = Path(__file__).resolve().parents[1]

DOCUMENTS = [
    {"id": "kharkiv-uk", "title": "Удар по Харкову", "source": "Укрінформ", "published": "2025-03-02",
     "text": "Російська ракета влучила в житловий будинок у Харкові. Загинули п'ятеро людей, ще 30 поранені. "
             "Рятувальники працювали всю ніч."},
    {"id": "gaza-ar", "title": "غارة على مدرسة في غزة", "source": "الجزيرة", "published": "2025-01-18",
     "text": "قتل اثنا عشر شخصا في غارة على مدرسة تؤوي نازحين في مدينة غزة. وقال الدفاع المدني إن فرق الإنقاذ "
             "ما زالت تبحث عن ناجين."},
    {"id": "goma-en", "title": "Fall of Goma", "source": "France 24", "published": "2025-01-27",
     "text": "M23 rebels backed by Rwanda entered the centre of Goma, the largest city in eastern Congo. "
             "The rebels said they had taken the airport."},
]
UKRAINIAN_QUESTION = "Скільки людей загинуло в Харкові?"


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> Run:
    """`conflict-qa ARGS` in this process (click's runner), so the libraries load once for the module."""
    from click.testing import CliRunner

    from assistant.cli import main

    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return Run(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def write_corpus(folder: Path, documents: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "reports.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("multilingual")
    model = make_static_model(base / "tiny-static-model", [d["text"] + " " + d["title"] for d in DOCUMENTS]
                              + [UKRAINIAN_QUESTION])
    corpus = write_corpus(base / "corpus", DOCUMENTS)
    index = base / "index"
    result = run_cli("build", "--corpus", str(corpus), "--index", str(index), "--model", str(model), "--json")
    assert result.returncode == 0, result.stderr  # a static model: no OverflowError on its infinite length
    return {"base": base, "model": model, "corpus": corpus, "index": index, "build": json.loads(result.stdout)}


def test_stats_count_documents_per_language(setup):
    summary = json.loads(run_cli("stats", "--index", str(setup["index"]), "--json").stdout)
    assert summary["languages"] == {"ar": 1, "en": 1, "uk": 1}
    assert summary["model"] == str(setup["model"])
    text = run_cli("stats", "--index", str(setup["index"])).stdout
    assert "Ukrainian (uk)" in text and "Arabic (ar)" in text


def test_a_question_in_ukrainian_is_answered_from_the_ukrainian_report_without_naming_the_model(setup):
    result = run_cli("ask", UKRAINIAN_QUESTION, "--index", str(setup["index"]), "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    shown = answer["quotes"] or answer["nearest"]
    assert shown and shown[0]["doc_id"] == "kharkiv-uk"
    document_text = DOCUMENTS[0]["text"]
    assert shown[0]["text"] == document_text[shown[0]["start"]:shown[0]["end"]]
    assert shown[0]["text"].startswith("Загинули п'ятеро людей") or shown[0]["text"].startswith("Російська")


def test_a_changed_splitter_version_re_splits_on_an_incremental_build(setup, tmp_path):
    import shutil

    index = tmp_path / "index"
    shutil.copytree(setup["index"], index)
    manifest_path = index / (index / "CURRENT").read_text().strip() / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["splitter"] = "sentences-1"
    manifest_path.write_text(json.dumps(manifest))
    report = json.loads(run_cli("build", "--corpus", str(setup["corpus"]), "--index", str(index), "--json").stdout)
    assert report["embedded_texts"] > 0 and report["unchanged"] == 0
    again = json.loads(run_cli("build", "--corpus", str(setup["corpus"]), "--index", str(index), "--json").stdout)
    assert again["embedded_texts"] == 0 and again["unchanged"] == 3


def test_a_document_over_the_size_limit_is_reported_and_skipped(setup, tmp_path):
    big = {"id": "big", "title": "Big", "source": "Wire", "text": "Shelling continued. " * 5_000}
    corpus = write_corpus(tmp_path / "corpus", DOCUMENTS[2:] + [big])
    result = run_cli("build", "--corpus", str(corpus), "--index", str(tmp_path / "index"), "--model",
                     str(setup["model"]), "--max-document-mb", "0.05", "--json")
    assert result.returncode == 0, result.stderr
    assert f"{corpus}:2: document over 0.05 MB, split into parts" in result.stderr.splitlines()
    assert json.loads(result.stdout)["documents"] == 1


def test_a_question_in_a_language_the_model_does_not_cover_gets_a_message_naming_it(setup, tmp_path):
    index = tmp_path / "index"
    built = run_cli("build", "--corpus", str(setup["corpus"]), "--index", str(index), "--model", str(setup["model"]),
                    "--model-languages", "en")
    assert built.returncode == 0, built.stderr
    result = run_cli("ask", UKRAINIAN_QUESTION, "--index", str(index))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: The question looks like Ukrainian")
    assert "ask in English" in lines[0] and "multilingual" in lines[0]
    assert "does not answer" not in result.stdout + result.stderr
    english = run_cli("ask", "Who entered the centre of Goma?", "--index", str(index), "--json")
    assert english.returncode == 0, english.stderr
    # A later build without --model-languages keeps what was given.
    run_cli("build", "--corpus", str(setup["corpus"]), "--index", str(index))
    assert json.loads(run_cli("stats", "--index", str(index), "--json").stdout)["model_languages"] == "en"
    assert run_cli("ask", UKRAINIAN_QUESTION, "--index", str(index)).returncode == 1
