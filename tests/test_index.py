"""The index: exact offsets, incremental updates, atomic replacement."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.ingest.corpus import load_corpus
from assistant.index.embedding import load_embedder
from assistant.index.build import build_index
from assistant.index.store import IndexUnavailable, current_version, index_statistics, load_index
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
    assert index.chunk_index.count == len(index.chunk_doc)
    assert index.sentence_index.count == len(index.sentence_doc)


def test_stored_vectors_are_the_model_embeddings(tmp_path, embedder):
    doc = document("a", "Five civilians were killed in shelling. Ten more were wounded.")
    build_index([doc], settings=Settings(index_dir=tmp_path), embedder=embedder)
    index = load_index(tmp_path)
    stored = index.sentence_index.vectors[0]
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
    before = np.array(load_index(tmp_path).sentence_index.vectors[:3])
    build_index([a, b, document("c", "New item.")], settings=settings, embedder=embedder)
    after = np.array(load_index(tmp_path).sentence_index.vectors[:3])
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
    from assistant.storage import ExclusiveLock

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
    assert summary["vectors"] == {"chunks": "Flat", "sentences": "Flat"}  # the kind each index was built as


def test_a_damaged_index_is_a_clear_error(tmp_path, embedder):
    build_index([document("a", "First report.")], settings=Settings(index_dir=tmp_path), embedder=embedder)
    (tmp_path / current_version(tmp_path) / "spans.npz").unlink()
    with pytest.raises(IndexUnavailable, match="is damaged .*build --full"):
        load_index(tmp_path)


def test_attribution_is_stored_and_a_changed_license_is_rebuilt(tmp_path, embedder):
    from assistant.records import CitedReport

    settings = Settings(index_dir=tmp_path)
    summary = Document(id="w", text="Airstrikes kill 26 people.", title="Gaza war", source="Al Jazeera",
                       url="https://aljazeera.com/a", publisher="Wikipedia Portal:Current events",
                       publisher_url="https://en.wikipedia.org/wiki/Portal:Current_events/2025_January_1",
                       cites=(CitedReport(name="Al Jazeera", url="https://aljazeera.com/a"),),
                       license="CC BY-SA 4.0")
    build_index([summary], settings=settings, embedder=embedder)
    (stored,) = load_index(tmp_path).documents
    assert stored == summary and stored.attribution == summary.attribution

    relicensed = replace(summary, license="CC BY 4.0")
    report = build_index([relicensed], settings=settings, embedder=embedder)
    assert (report.updated, report.unchanged) == (1, 0)
    assert load_index(tmp_path).documents[0].license == "CC BY 4.0"
    assert index_statistics(tmp_path)["publishers"] == [
        {"publisher": "Wikipedia, Portal:Current events", "license": "CC BY 4.0", "documents": 1}]


def test_documents_stored_before_attribution_read_as_published_by_their_source():
    from assistant.index.store import document_from_record

    old = {"id": "a", "text": "T.", "title": "t", "source": "Reuters", "url": "https://reuters.com/a",
           "published": None, "author": None, "origin": "x.md", "metadata": {}, "content_hash": "abc"}
    document = document_from_record(old)
    assert document.attribution.publisher == "Reuters"
    assert document.attribution.publisher_url == "https://reuters.com/a"
    assert document.cites == () and document.license is None


# ---------------------------------------------------------------- damage (issue 12 point 3, issue 10 integrity)


def _live(index_dir: Path) -> Path:
    return index_dir / current_version(index_dir)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _bad_record(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text('{"id": "x", "oops": 1}\n' + "".join(lines[1:]), encoding="utf-8")


def _swap_spans(path: Path) -> None:
    """Spans for fewer rows than FAISS holds, with the manifest's checksum updated to match."""
    import json

    from assistant.index.store import file_record

    with np.load(path) as stored:
        arrays = {key: stored[key][:-1] for key in stored.files}
    np.savez(path, **arrays)
    manifest_path = path.parent / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["spans.npz"] = file_record(path)
    manifest_path.write_text(json.dumps(manifest))


DAMAGE = {
    "non-UTF-8 CURRENT": (lambda d: (d / "CURRENT").write_bytes(b"\xff\xfe v-\x80\n"), "not UTF-8"),
    "CURRENT is a folder": (lambda d: ((d / "CURRENT").unlink(), (d / "CURRENT").mkdir()), "is a folder"),
    "absolute CURRENT": (lambda d: (d / "CURRENT").write_text(str(_live(d)) + "\n"), "not a version folder"),
    "CURRENT with ..": (lambda d: (d / "CURRENT").write_text(f"v-x/../../{_live(d).name}\n"), "not a version folder"),
    "CURRENT names a missing folder": (lambda d: (d / "CURRENT").write_text("v-gone\n"), "missing"),
    "bad documents.jsonl record": (lambda d: _bad_record(_live(d) / "documents.jsonl"), "documents.jsonl"),
    "truncated spans.npz": (lambda d: _truncate(_live(d) / "spans.npz"), "spans.npz"),
    "spans do not match FAISS rows": (lambda d: _swap_spans(_live(d) / "spans.npz"), "spans.npz"),
    "missing sentences.faiss": (lambda d: (_live(d) / "sentences.faiss").unlink(), "sentences.faiss is missing"),
    "flipped byte in chunks.faiss": (
        lambda d: (_live(d) / "chunks.faiss").write_bytes(
            (lambda b: b[:-8] + bytes([b[-8] ^ 1]) + b[-7:])((_live(d) / "chunks.faiss").read_bytes())),
        "checksum"),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, embedder) -> Path:
    index_dir = tmp_path_factory.mktemp("pristine")
    documents = [document("a", "Shelling hit the market in Kharkiv. Three people died."),
                 document("b", "Drones struck a power plant overnight. Power was cut to 2,000 homes.")]
    build_index(documents, settings=Settings(index_dir=index_dir), embedder=embedder)
    return index_dir


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_any_damage_is_refused_with_one_line_and_build_full_repairs_it(damage, pristine, tmp_path, embedder):
    import shutil

    from assistant.index.store import verify_index

    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir)
    damage_fn, words = DAMAGE[damage]
    damage_fn(index_dir)

    with pytest.raises(IndexUnavailable) as refused:
        load_index(index_dir)
    message = str(refused.value)
    assert words in message and "\n" not in message and "build --full" in message
    report = verify_index(index_dir)
    assert report["ok"] is False and any(words in problem for problem in report["problems"])

    build_index([document("c", "Aid convoys reached Mariupol.")], settings=Settings(index_dir=index_dir),
                embedder=embedder, full=True)
    assert [d.id for d in load_index(index_dir).documents] == ["c"]
    assert verify_index(index_dir)["ok"] is True


def test_an_absolute_current_never_loads_another_index(pristine, tmp_path, embedder):
    other = tmp_path / "other"
    build_index([document("z", "Another index entirely.")], settings=Settings(index_dir=other), embedder=embedder)
    index_dir = tmp_path / "index"
    build_index([document("a", "Own report.")], settings=Settings(index_dir=index_dir), embedder=embedder)
    (index_dir / "CURRENT").write_text(str(_live(other)) + "\n")
    with pytest.raises(IndexUnavailable, match="not a version folder"):
        load_index(index_dir)


def test_a_full_disk_while_writing_leaves_the_previous_index_and_no_folder(pristine, tmp_path, embedder,
                                                                            monkeypatch):
    import errno
    import shutil

    import assistant.index.build as build

    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir)
    live = current_version(index_dir)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(build.np, "savez", no_space)
    with pytest.raises(IndexUnavailable, match="cannot write the index .*disk is full.*unchanged"):
        build_index([document("c", "A new report.")], settings=Settings(index_dir=index_dir), embedder=embedder)
    assert current_version(index_dir) == live
    assert sorted(p.name for p in index_dir.glob("v-*")) == [live]
    assert len(load_index(index_dir).documents) == 2


def test_the_manifest_records_every_file_and_verify_checks_them(pristine):
    from assistant.index.store import read_manifest, verify_index

    manifest = read_manifest(pristine)
    stored = {p.relative_to(_live(pristine)).as_posix() for p in _live(pristine).rglob("*")
              if p.is_file() and p.name != "manifest.json"}
    assert set(manifest.files) == stored
    report = verify_index(pristine)
    assert report["ok"] is True and report["files"] == len(stored) and report["problems"] == []


def test_term_ids_are_stored_at_build_and_match_the_texts(tmp_path, embedder):
    from assistant.index.store import bm25_tokens
    from assistant.index.terms import TermSets, computed_terms

    documents = [document("a", "Shelling hit the market in Kharkiv. Three people died in the shelling."),
                 document("b", "Drones struck a power plant overnight.")]
    build_index(documents, settings=Settings(index_dir=tmp_path), embedder=embedder)
    index = load_index(tmp_path)
    assert index.terms is not None and isinstance(index.terms.sentence_ids.base, np.memmap)
    texts = [index.sentence_text(row) for row in range(len(index.sentence_doc))]
    expected = computed_terms(texts, [d.title for d in index.documents], bm25_tokens)
    assert index.terms.vocabulary == expected.vocabulary
    assert np.allclose(index.terms.idf, expected.idf)
    stored = TermSets(index.terms.sentence_indptr, index.terms.sentence_ids)
    words = {number: word for word, number in index.terms.vocabulary.items()}
    assert {words[t] for t in stored[1]} == set(bm25_tokens(["Three people died in the shelling."])[0])


def test_term_arrays_that_disagree_with_the_manifest_are_refused(pristine, tmp_path):
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir)
    import json

    from assistant.index.store import file_record

    indptr = _live(index_dir) / "terms" / "sentence_indptr.npy"
    np.save(indptr, np.load(indptr)[:-1])
    manifest_path = _live(index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["terms/sentence_indptr.npy"] = file_record(indptr)  # files that match their records
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexUnavailable, match="sentence_indptr does not match the manifest"):
        load_index(index_dir)


def test_a_large_bulk_array_is_size_checked_at_load_and_fully_checked_by_verify(pristine, tmp_path, monkeypatch):
    import shutil

    import assistant.index.store as store
    from assistant.index.store import verify_index

    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir)
    vectors = _live(index_dir) / "sentences.faiss"
    data = bytearray(vectors.read_bytes())
    data[-8] ^= 1
    vectors.write_bytes(bytes(data))
    monkeypatch.setattr(store, "LOAD_CHECKSUM_MAX_BYTES", 16)  # every bulk file counts as large
    load_index(index_dir)  # sizes match: the load does not read the array through
    assert "sentences.faiss does not match its checksum" in verify_index(index_dir)["problems"]
    documents = _live(index_dir) / "documents.jsonl"
    documents.write_text(documents.read_text().replace("Kharkiv", "Kharkov"))
    with pytest.raises(IndexUnavailable, match="documents.jsonl does not match its checksum"):
        load_index(index_dir)  # the quoted words are always checked in full


def test_an_update_reuses_stored_terms_that_match_tokenising_again(tmp_path, embedder):
    from assistant.index.store import bm25_tokens
    from assistant.index.terms import computed_terms

    settings = Settings(index_dir=tmp_path)
    first = [document("a", "Shelling hit the market in Kharkiv. Three people died in the shelling."),
             document("b", "Drones struck a power plant overnight.")]
    build_index(first, settings=settings, embedder=embedder)
    second = [first[0], document("b", "Drones struck a dam at dawn. Floods followed."),
              document("c", "Talks resumed in Geneva on Monday.")]
    build_index(second, settings=settings, embedder=embedder)
    index = load_index(tmp_path)
    texts = [index.sentence_text(row) for row in range(len(index.sentence_doc))]
    expected = computed_terms(texts, [d.title for d in index.documents], bm25_tokens)
    assert index.terms.vocabulary == expected.vocabulary
    assert np.array_equal(index.terms.sentence_ids, expected.sentence_ids)
    assert np.array_equal(index.terms.sentence_indptr, expected.sentence_indptr)
    assert index.sentence_bm25.get_scores(["kharkiv"]).argmax() == 0
