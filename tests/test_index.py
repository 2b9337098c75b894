"""The index: exact offsets, incremental updates, atomic replacement."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.ingest.corpus import load_corpus
from assistant.index.embedding import load_embedder
from assistant.index.store import IndexUnavailable, build_index, current_version, index_statistics, load_index
from assistant.records import Document
from assistant.settings import DEFAULT_CORPUS_DIR, Settings

CONFLICT_NEWS = Path(__file__).resolve().parents[2] / "shared" / "data" / "conflict-news" / "conflict_news.jsonl.gz"


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


def document(doc_id: str, text: str, source: str = "Wire") -> Document:
    return Document(id=doc_id, text=text, title=f"Report {doc_id}", source=source, published="2025-01-18")


def test_every_stored_sentence_and_chunk_is_an_exact_slice(tmp_path, embedder):
    # The seed article (corpus/ also ships the archive, whose first 150 items are added below).
    documents = list(load_corpus([DEFAULT_CORPUS_DIR / "jurist-2023-12-belgorod-cluster-munitions.md"]).documents)
    if CONFLICT_NEWS.exists():
        documents += list(load_corpus([CONFLICT_NEWS]).documents[:150])
    build_index(documents, settings=Settings(index_dir=tmp_path), embedder=embedder)
    index = load_index(tmp_path)
    assert len(index.documents) == len(documents)
    for row in range(len(index.sentence_doc)):
        text = index.documents[index.sentence_doc[row]].text
        sentence = index.sentence_text(row)
        assert sentence == text[index.sentence_start[row]:index.sentence_end[row]] and sentence.strip() == sentence
        chunk = index.sentence_chunk[row]
        assert index.chunk_doc[chunk] == index.sentence_doc[row]
    # Every sentence of every document is stored: their texts rebuild each document's words.
    for position, doc in enumerate(index.documents):
        rows = np.flatnonzero(index.sentence_doc == position)
        assert "".join(index.sentence_text(r) for r in rows).replace(" ", "") == "".join(doc.text.split())
    assert index.chunk_index.ntotal == len(index.chunk_doc)
    assert index.sentence_index.ntotal == len(index.sentence_doc)


def test_stored_vectors_are_the_model_embeddings(tmp_path, embedder):
    doc = document("a", "Five civilians were killed in shelling. Ten more were wounded.")
    build_index([doc], settings=Settings(index_dir=tmp_path), embedder=embedder)
    index = load_index(tmp_path)
    stored = index.sentence_index.reconstruct(0)
    expected = embedder.encode(["Five civilians were killed in shelling."])[0]
    assert np.allclose(stored, expected, atol=1e-5)


def test_incremental_build_embeds_only_what_changed(tmp_path, embedder):
    settings = Settings(index_dir=tmp_path)
    a = document("a", "Shelling hit the market. Three people died.")
    b = document("b", "Drones struck a power plant overnight.")
    c = document("c", "A ceasefire was announced on Sunday.")
    first = build_index([a, b, c], settings=settings, embedder=embedder)
    assert (first.added, first.updated, first.removed, first.unchanged) == (3, 0, 0, 0)

    same = build_index([a, b, c], settings=settings, embedder=embedder)
    assert (same.added, same.updated, same.removed, same.unchanged, same.embedded_texts) == (0, 0, 0, 3, 0)

    b_changed = replace(b, text="Drones struck a power plant overnight. Power was cut.")
    d = document("d", "Aid convoys reached the city.")
    second = build_index([a, b_changed, d], settings=settings, embedder=embedder)
    assert (second.added, second.updated, second.removed, second.unchanged) == (1, 1, 1, 1)
    # b: 1 chunk + 2 sentences; d: 1 chunk + 1 sentence.
    assert second.embedded_texts == 5
    index = load_index(tmp_path)
    assert [doc.id for doc in index.documents] == ["a", "b", "d"]
    assert index_statistics(tmp_path)["documents"] == 3

    full = build_index([a, b_changed, d], settings=settings, embedder=embedder, full=True)
    assert full.added == 3 and full.embedded_texts > second.embedded_texts


def test_unchanged_rebuild_keeps_identical_vectors(tmp_path, embedder):
    settings = Settings(index_dir=tmp_path)
    a = document("a", "Shelling hit the market. Three people died.")
    b = document("b", "Drones struck a power plant overnight.")
    build_index([a, b], settings=settings, embedder=embedder)
    before = load_index(tmp_path).sentence_index.reconstruct_n(0, 3)
    build_index([a, b, document("c", "New item.")], settings=settings, embedder=embedder)
    after = load_index(tmp_path).sentence_index.reconstruct_n(0, 3)
    assert np.array_equal(before, after)


def test_index_of_another_model_is_refused(tmp_path, embedder):
    build_index([document("a", "Text.")], settings=Settings(index_dir=tmp_path), embedder=embedder)
    other = Settings(index_dir=tmp_path, model="some/other-model")
    with pytest.raises(IndexUnavailable, match="built with model"):
        build_index([document("a", "Changed text.")], settings=other)


def test_empty_corpus_and_missing_index_are_clear_errors(tmp_path):
    with pytest.raises(IndexUnavailable, match="no documents"):
        build_index([], settings=Settings(index_dir=tmp_path))
    with pytest.raises(IndexUnavailable, match="no index"):
        load_index(tmp_path / "nowhere")


def test_only_the_live_and_previous_versions_stay_on_disk(tmp_path, embedder):
    settings = Settings(index_dir=tmp_path)
    for round_number in range(4):
        build_index([document("a", f"Round {round_number} of reporting.")], settings=settings, embedder=embedder)
    versions = sorted(p.name for p in tmp_path.glob("v-*"))
    assert len(versions) == 2 and current_version(tmp_path) in versions


def test_a_second_build_at_the_same_time_is_refused(tmp_path, embedder):
    from assistant.index.storage import ExclusiveLock

    settings = Settings(index_dir=tmp_path)
    build_index([document("a", "First report.")], settings=settings, embedder=embedder)
    live = current_version(tmp_path)
    with ExclusiveLock(tmp_path / ".lock", busy_message="held by the test"):
        with pytest.raises(IndexUnavailable, match="another build is running"):
            build_index([document("a", "Second report.")], settings=settings, embedder=embedder)
    assert current_version(tmp_path) == live


def test_statistics_count_each_outlet_of_a_joined_source(tmp_path, embedder):
    documents = [document("a", "First report.", source="Reuters; AP"), document("b", "Second report.", source="AP")]
    build_index(documents, settings=Settings(index_dir=tmp_path), embedder=embedder)
    summary = index_statistics(tmp_path)
    assert summary["sources"] == {"AP": 2, "Reuters": 1}
    assert summary["published"] == {"first": "2025-01-18", "last": "2025-01-18", "undated": 0}


def test_a_damaged_index_is_a_clear_error(tmp_path, embedder):
    build_index([document("a", "First report.")], settings=Settings(index_dir=tmp_path), embedder=embedder)
    (tmp_path / current_version(tmp_path) / "spans.npz").unlink()
    with pytest.raises(IndexUnavailable, match="is damaged .*build --full"):
        load_index(tmp_path)
