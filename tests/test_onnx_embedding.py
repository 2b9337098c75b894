"""Questions embedded by the model's ONNX export: same vectors, same answers, no torch in `ask`."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from answers_support import NEWS, ROOT, build, embedder
from assistant.index import onnx_embedding, onnx_export
from assistant.index.onnx_embedding import OnnxEmbedder, export_folder, open_export, prepare_export, refusal_file
from assistant.settings import Settings

QUESTIONS = ("How many people were killed in Sumy?", "Who entered the centre of Goma?",
             "What happened at the school in Gaza City?", "What set the fuel depot in Port Sudan on fire?")
HEAVY = ("torch", "sentence_transformers", "transformers", "gradio", "fastapi", "ray")


def sample_texts() -> list[str]:
    lines = (ROOT / "tests" / "data" / "conflict_news_sample.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines] + [document.title for document in NEWS]


@pytest.fixture(scope="module")
def news_index() -> Path:
    index_dir = build("onnx-news", NEWS)
    assert prepare_export(index_dir, embedder()) == export_folder(index_dir, embedder().name)
    return index_dir


def answers(service) -> list[dict]:
    """Every answer as the API gives it, less the time taken and the scores (rounded floats: the
    two embedders' vectors differ in the seventh decimal); quotes, order and sources must agree."""
    from assistant.answers.citations import answer_to_json

    payloads = []
    for question in QUESTIONS:
        payload = {**answer_to_json(service.ask(question)), "elapsed_ms": None}
        for key in ("quotes", "nearest"):
            payload[key] = [{**quote, "score": None} for quote in payload[key]]
        payloads.append(payload)
    return payloads


def test_the_export_gives_the_models_vectors(news_index):
    record = json.loads((export_folder(news_index, embedder().name) / "export.json").read_text(encoding="utf-8"))
    assert record["worst_cosine_distance"] <= 1e-3 and record["texts_checked"] >= 10
    exported = open_export(export_folder(news_index, embedder().name))
    texts = sample_texts()
    # Texts the export was not checked on, in batches that pad differently.
    for batch_size in (1, 4, 64):
        got = exported.encode(texts, batch_size=batch_size)
        expected = embedder().encode(texts)
        assert got.shape == expected.shape and got.dtype == np.float32
        assert float(np.max(1.0 - np.sum(got * expected, axis=1))) <= 1e-3
    assert [exported.count_tokens(t) for t in texts] == [embedder().count_tokens(t) for t in texts]


def test_questions_get_the_same_answers_with_the_export(news_index):
    from assistant.service import QAService

    exported = QAService(Settings(index_dir=news_index))
    assert isinstance(exported._embedder, OnnxEmbedder)
    assert answers(exported) == answers(QAService(Settings(index_dir=news_index), embedder=embedder()))


def test_ask_imports_neither_torch_nor_the_web_stack(news_index):
    script = (
        "import sys\n"
        "from assistant.cli import main\n"
        f"main(['ask', {QUESTIONS[0]!r}, '--index', {str(news_index)!r}], standalone_mode=False)\n"
        f"print('heavy:', sorted(name for name in {HEAVY!r} if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Sumy" in result.stdout and "killed nine people" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "heavy: []"
    assert result.stderr == ""


def test_a_damaged_export_is_noticed_and_written_again(news_index, tmp_path, caplog):
    from assistant.service import QAService

    index_dir = tmp_path / "index"
    shutil.copytree(news_index, index_dir)
    folder = export_folder(index_dir, embedder().name)
    weights = folder / onnx_embedding.WEIGHTS_FILE
    with open(weights, "r+b") as handle:  # zero 64 KiB of weights in the middle of the file
        handle.seek(weights.stat().st_size // 2)
        handle.write(bytes(65536))
    with caplog.at_level(logging.WARNING):
        service = QAService(Settings(index_dir=index_dir))
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "not used" in warnings[0] and "exporting it again" in warnings[0]
    assert answers(service) == answers(QAService(Settings(index_dir=news_index), embedder=embedder()))
    assert isinstance(open_export(folder), OnnxEmbedder)  # written again, sound


def test_an_export_that_does_not_match_is_refused_with_one_warning(news_index, tmp_path, monkeypatch, caplog):
    from assistant.service import QAService

    index_dir = tmp_path / "index"
    shutil.copytree(news_index, index_dir, ignore=shutil.ignore_patterns("models"))
    monkeypatch.setattr(onnx_export, "COSINE_TOLERANCE", -1.0)  # no export can match
    with caplog.at_level(logging.WARNING):
        assert prepare_export(index_dir, embedder()) is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "not ONNX" in warnings[0] and "1 - cosine" in warnings[0]
    assert not export_folder(index_dir, embedder().name).exists()
    assert not list((index_dir / "models").glob(".*"))  # no half-written folder left behind
    assert refusal_file(index_dir, embedder().name).is_file()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        service = QAService(Settings(index_dir=index_dir), torch_threads=None)
    assert not isinstance(service._embedder, OnnxEmbedder) and not caplog.records  # decided once, said once
    assert answers(service) == answers(QAService(Settings(index_dir=news_index), embedder=embedder()))


def test_a_static_embedding_model_is_not_exported_and_answers_all_the_same(tmp_path, caplog):
    from click.testing import CliRunner
    from multilingual_support import make_static_model

    from assistant.cli import main

    corpus = tmp_path / "news.jsonl"
    corpus.write_text("".join(json.dumps({"id": d.id, "title": d.title, "source": d.source, "text": d.text,
                                          "published": d.published}) + "\n" for d in NEWS), encoding="utf-8")
    model = make_static_model(tmp_path / "static-model", [d.text + " " + d.title for d in NEWS])
    index_dir = tmp_path / "index"
    with caplog.at_level(logging.WARNING):  # a CLI process prints it on stderr (logging's last resort)
        built = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--index", str(index_dir), "--model",
                                          str(model), "--json"], catch_exceptions=False)
    assert built.exit_code == 0, built.stderr
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("warning:") and "StaticEmbedding" in warnings[0]
    assert refusal_file(index_dir, str(model)).is_file() and not export_folder(index_dir, str(model)).exists()
    caplog.clear()
    asked = CliRunner().invoke(main, ["ask", "Who entered the centre of Goma?", "--index", str(index_dir), "--json"],
                               catch_exceptions=False)
    assert asked.exit_code == 0 and asked.stderr == "" and not caplog.records
    assert any(quote["doc_id"] == "goma" for quote in json.loads(asked.stdout)["quotes"])


def test_half_written_exports_of_dead_processes_are_swept(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from assistant.index.onnx_export import sweep_stale_exports

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    folder = tmp_path / "models" / "all-MiniLM-L6-v2-abc"
    dead = folder.parent / f".{folder.name}.tmp-{finished.stdout.strip()}-123"
    alive = folder.parent / f".{folder.name}.tmp-{os.getpid()}-456"  # an export under way
    other = folder.parent / ".another-model.tmp-1-1"
    for path in (dead, alive, other):
        (path / "model.onnx").parent.mkdir(parents=True)
        (path / "model.onnx").write_bytes(b"half")
    assert sweep_stale_exports(folder) == [dead]
    assert not dead.exists() and alive.exists() and other.exists()


def test_verify_names_every_damaged_export_file_without_importing_torch(news_index, tmp_path):
    from assistant.index.store import verify_index

    index_dir = tmp_path / "index"
    shutil.copytree(news_index, index_dir)
    folder = export_folder(index_dir, embedder().name)
    sound = verify_index(index_dir)
    assert sound["ok"] is True and sound["problems"] == [] and sound["exports"] == [folder.name]

    second = folder.with_name("second-model-0123456789abcdef")  # a second export, its record unreadable
    shutil.copytree(folder, second)
    (second / "export.json").write_text('{"format": 1, "model": ', encoding="utf-8")
    weights = folder / onnx_embedding.WEIGHTS_FILE
    with open(weights, "r+b") as handle:  # a truncated copy
        handle.truncate(weights.stat().st_size // 2)
    graph = folder / "model.onnx"
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte altered, same size
    graph.write_bytes(bytes(data))
    (folder / "tokenizer.json").unlink()
    (folder.parent / f".{folder.name}.tmp-1-1").mkdir()  # half-written: not an export, not checked

    script = ("import json, sys\n"
              "from assistant.cli import main\n"
              "try:\n"
              f"    main(['verify', '--index', {str(index_dir)!r}])\n"
              "finally:\n"
              f"    print(json.dumps(sorted(name for name in {HEAVY!r} if name in sys.modules)))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and json.loads(result.stdout.strip().splitlines()[-1]) == []
    lines = result.stderr.splitlines()
    where = f"models/{folder.name}/"
    assert len(lines) == 4 and all(line.startswith("error: ") and "written again" in line for line in lines)
    assert any(f"{where}{onnx_embedding.WEIGHTS_FILE} has " in line and "bytes" in line for line in lines)
    assert any(f"{where}model.onnx does not match its checksum" in line for line in lines)
    assert any(f"{where}tokenizer.json is missing" in line for line in lines)
    assert any(f"models/{second.name}/export.json is damaged" in line for line in lines)
