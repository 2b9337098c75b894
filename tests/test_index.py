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
    assert len(index.sentence_rows) == len(index.sentence_doc)


def test_stored_vectors_are_the_model_embeddings(tmp_path, embedder):
    doc = document("a", "Five civilians were killed in shelling. Ten more were wounded.")
    build_index([doc], settings=Settings(index_dir=tmp_path), embedder=embedder)
    index = load_index(tmp_path)
    stored = index.sentence_rows[0]
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
    before = np.array(load_index(tmp_path).sentence_rows[:3])
    build_index([a, b, document("c", "New item.")], settings=settings, embedder=embedder)
    after = np.array(load_index(tmp_path).sentence_rows[:3])
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
    assert summary["vectors"] == {"chunks": {"Flat": 1}, "sentences": "float32 rows"}  # kinds, segments of each
    assert summary["segments"] == 1


def test_a_damaged_index_is_a_clear_error(tmp_path, embedder):
    build_index([document("a", "First report.")], settings=Settings(index_dir=tmp_path), embedder=embedder)
    (_segment(tmp_path) / "spans.npz").unlink()
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


def _segment(index_dir: Path) -> Path:
    """The live version's first segment folder."""
    from assistant.index.store import read_manifest

    return index_dir / "segments" / next(iter(read_manifest(index_dir).segments))


def _rerecord(folder: Path, name: str) -> None:
    """Record a file's new size and checksum in its segment.json, and segment.json's in the manifest
    (damage that every checksum agrees with)."""
    import json

    from assistant.index.store import file_record

    record_path = folder / "segment.json"
    record = json.loads(record_path.read_text())
    record["files"][name] = file_record(folder / name)
    record_path.write_text(json.dumps(record))
    manifest_path = _live(folder.parent.parent) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["segments"][folder.name] = file_record(record_path)
    manifest_path.write_text(json.dumps(manifest))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _bad_record(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text('{"id": "x", "oops": 1}\n' + "".join(lines[1:]), encoding="utf-8")


def _swap_spans(path: Path) -> None:
    """Spans for fewer rows than FAISS holds, with the checksums updated to match."""
    with np.load(path) as stored:
        arrays = {key: stored[key][:-1] for key in stored.files}
    np.savez(path, **arrays)
    _rerecord(path.parent, path.name)


DAMAGE = {
    "non-UTF-8 CURRENT": (lambda d: (d / "CURRENT").write_bytes(b"\xff\xfe v-\x80\n"), "not UTF-8"),
    "CURRENT is a folder": (lambda d: ((d / "CURRENT").unlink(), (d / "CURRENT").mkdir()), "is a folder"),
    "absolute CURRENT": (lambda d: (d / "CURRENT").write_text(str(_live(d)) + "\n"), "not a version folder"),
    "CURRENT with ..": (lambda d: (d / "CURRENT").write_text(f"v-x/../../{_live(d).name}\n"), "not a version folder"),
    "CURRENT names a missing folder": (lambda d: (d / "CURRENT").write_text("v-gone\n"), "missing"),
    "bad documents.jsonl record": (lambda d: _bad_record(_segment(d) / "documents.jsonl"), "documents.jsonl"),
    "truncated spans.npz": (lambda d: _truncate(_segment(d) / "spans.npz"), "spans.npz"),
    "spans do not match FAISS rows": (lambda d: _swap_spans(_segment(d) / "spans.npz"), "spans.npz"),
    "missing sentences.npy": (lambda d: (_segment(d) / "sentences.npy").unlink(), "sentences.npy is missing"),
    "flipped byte in chunks.faiss": (
        lambda d: (_segment(d) / "chunks.faiss").write_bytes(
            (lambda b: b[:-8] + bytes([b[-8] ^ 1]) + b[-7:])((_segment(d) / "chunks.faiss").read_bytes())),
        "checksum"),
    "missing segment": (lambda d: __import__("shutil").rmtree(_segment(d)), "segment.json is missing"),
    "segment.json altered": (lambda d: (_segment(d) / "segment.json").write_text(
        (_segment(d) / "segment.json").read_text().replace('"documents": 2', '"documents": 3')), "segment.json"),
    "vocabulary.json truncated": (lambda d: _truncate(_live(d) / "vocabulary.json"), "vocabulary.json"),
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


def test_the_manifests_record_every_file_and_verify_checks_them(pristine):
    import json

    from assistant.index.store import read_manifest, verify_index

    manifest = read_manifest(pristine)
    stored = {p.relative_to(_live(pristine)).as_posix() for p in _live(pristine).rglob("*")
              if p.is_file() and p.name != "manifest.json"}
    assert set(manifest.files) == stored == {"vocabulary.json"}
    in_segments = 0
    for name in manifest.segments:
        folder = pristine / "segments" / name
        files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != "segment.json"}
        assert set(json.loads((folder / "segment.json").read_text())["files"]) == files
        in_segments += len(files) + 1
    report = verify_index(pristine)
    assert report["ok"] is True and report["files"] == len(stored) + in_segments and report["problems"] == []


def _stored_words(index, row: int) -> list[str]:
    words = {number: word for word, number in index.terms.vocabulary.items()}
    ids = index.terms.sentence_ids[index.terms.sentence_indptr[row]:index.terms.sentence_indptr[row + 1]]
    return [words[int(i)] for i in ids]


def test_term_ids_are_stored_at_build_and_match_the_texts(tmp_path, embedder):
    from assistant.index.store import bm25_tokens
    from assistant.index.terms import computed_terms

    documents = [document("a", "Shelling hit the market in Kharkiv. Three people died in the shelling."),
                 document("b", "Drones struck a power plant overnight.")]
    build_index(documents, settings=Settings(index_dir=tmp_path), embedder=embedder)
    index = load_index(tmp_path)
    texts = [index.sentence_text(row) for row in range(len(index.sentence_doc))]
    assert [_stored_words(index, row) for row in range(len(texts))] == bm25_tokens(texts)
    expected = computed_terms(texts, [d.title for d in index.documents], bm25_tokens)
    for word, number in expected.vocabulary.items():  # IDF over sentences, whatever the ids
        assert np.isclose(index.terms.idf[index.terms.vocabulary[word]], expected.idf[number])
    assert set(_stored_words(index, 1)) == set(bm25_tokens(["Three people died in the shelling."])[0])


def test_term_arrays_that_disagree_with_the_manifest_are_refused(pristine, tmp_path):
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir)
    indptr = _segment(index_dir) / "terms" / "sentence_indptr.npy"
    np.save(indptr, np.load(indptr)[:-1])
    _rerecord(_segment(index_dir), "terms/sentence_indptr.npy")  # files that match their records
    with pytest.raises(IndexUnavailable, match="sentence_indptr does not match the manifest"):
        load_index(index_dir)


def test_a_large_bulk_array_is_size_checked_at_load_and_fully_checked_by_verify(pristine, tmp_path, monkeypatch):
    import shutil

    import assistant.index.store as store
    from assistant.index.store import verify_index

    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir)
    vectors = _segment(index_dir) / "sentences.npy"
    data = bytearray(vectors.read_bytes())
    data[-8] ^= 1
    vectors.write_bytes(bytes(data))
    monkeypatch.setattr(store, "LOAD_CHECKSUM_MAX_BYTES", 16)  # the bulk files count as large
    load_index(index_dir)  # sizes match: the load does not read the array through
    assert any(problem.endswith("sentences.npy does not match its checksum")
               for problem in verify_index(index_dir)["problems"])
    documents = _segment(index_dir) / "documents.jsonl"
    documents.write_text(documents.read_text().replace("Kharkiv", "Kharkov"))
    with pytest.raises(IndexUnavailable, match="documents.jsonl does not match its checksum"):
        load_index(index_dir)  # the quoted words are always checked in full


def test_an_update_keeps_term_ids_that_match_tokenising_again(tmp_path, embedder):
    from assistant.index.store import bm25_tokens

    settings = Settings(index_dir=tmp_path)
    first = [document("a", "Shelling hit the market in Kharkiv. Three people died in the shelling."),
             document("b", "Drones struck a power plant overnight.")]
    build_index(first, settings=settings, embedder=embedder)
    kept = dict(load_index(tmp_path).terms.vocabulary)
    second = [first[0], document("b", "Drones struck a dam at dawn. Floods followed."),
              document("c", "Talks resumed in Geneva on Monday.")]
    build_index(second, settings=settings, embedder=embedder)
    index = load_index(tmp_path)
    texts = [index.sentence_text(row) for row in range(len(index.sentence_doc))]
    assert [_stored_words(index, row) for row in range(len(texts))] == bm25_tokens(texts)
    assert all(index.terms.vocabulary[word] == number for word, number in kept.items())  # ids only grow
    assert index.sentence_bm25.get_scores(["kharkiv"]).argmax() == 0


# ---------------------------------------------------------------- segments (issue 10)


def dated(doc_id: str, text: str, published: str | None) -> Document:
    return Document(id=doc_id, text=text, title=f"Report {doc_id}", source="Wire", published=published)


def _segment_folders(index_dir: Path) -> dict[str, Path]:
    from assistant.index.store import read_manifest

    return {name.split("-")[1] if "undated" in name else name[2:9]: index_dir / "segments" / name
            for name in read_manifest(index_dir).segments}


def test_an_update_rewrites_only_the_month_of_the_changed_document(tmp_path, embedder):
    settings = Settings(index_dir=tmp_path)
    documents = [dated("a", "Shelling hit the market in Kharkiv. Three people died.", "2024-03-02"),
                 dated("b", "Drones struck a power plant overnight.", "2024-05-11"),
                 dated("c", "Talks resumed in Geneva on Monday.", "2024-05-20"),
                 dated("d", "An undated item about aid convoys.", None)]
    first = build_index(documents, settings=settings, embedder=embedder)
    assert (first.segments, first.segments_written) == (3, 3)
    before = _segment_folders(tmp_path)
    assert sorted(before) == ["2024-03", "2024-05", "undated"]
    stamps = {month: (folder / "documents.jsonl").stat().st_mtime_ns for month, folder in before.items()}
    kept_vectors = np.array(load_index(tmp_path).sentence_rows[:])

    documents[2] = replace(documents[2], text="Talks resumed in Geneva on Monday. A deal was signed.")
    update = build_index(documents, settings=settings, embedder=embedder)
    assert (update.segments, update.segments_written, update.updated, update.unchanged) == (3, 1, 1, 3)
    assert update.embedded_texts == 3  # c's chunk and two sentences: b, in the same month, is copied
    after = _segment_folders(tmp_path)
    assert after["2024-03"] == before["2024-03"] and after["undated"] == before["undated"]
    assert after["2024-05"] != before["2024-05"]
    assert all((after[m] / "documents.jsonl").stat().st_mtime_ns == stamps[m] for m in ("2024-03", "undated"))
    index = load_index(tmp_path)
    assert [d.id for d in index.documents] == ["a", "b", "c", "d"]  # by month, undated last
    b_rows = np.flatnonzero(index.sentence_doc == 1)
    assert np.array_equal(index.sentence_rows[b_rows], kept_vectors[b_rows])  # b's vectors copied, not re-embedded
    assert index.sentence_text(int(np.flatnonzero(index.sentence_doc == 2)[-1])) == "A deal was signed."


def test_a_document_that_changes_month_moves_and_an_emptied_month_goes(tmp_path, embedder):
    settings = Settings(index_dir=tmp_path)
    documents = [dated("a", "Shelling hit the market in Kharkiv.", "2024-03-02"),
                 dated("b", "Drones struck a power plant overnight.", "2024-05-11")]
    build_index(documents, settings=settings, embedder=embedder)
    old_march = _segment_folders(tmp_path)["2024-03"]
    moved = build_index([replace(documents[0], published="2024-05-01"), documents[1]], settings=settings,
                        embedder=embedder)
    assert (moved.segments, moved.updated) == (1, 1)
    index = load_index(tmp_path)
    assert [d.id for d in index.documents] == ["a", "b"] and len(index.segments) == 1
    assert old_march.is_dir()  # the previous version still lists it (a reader may be loading it)
    build_index([documents[1]], settings=settings, embedder=embedder)
    assert not old_march.exists()  # no kept version lists it any more
    assert {p.name for p in (tmp_path / "segments").iterdir()} <= {
        name for v in tmp_path.glob("v-*") for name in __import__("json").loads((v / "manifest.json").read_text())["segments"]}


def test_a_date_filter_skips_whole_segments_and_matches_an_exhaustive_search(tmp_path, embedder):
    import datetime as dt

    from assistant.index.segments import SegmentedVectors
    from assistant.search.retrieval import SearchFilters, document_mask, prepare

    documents = [dated(f"m{month}", f"Report {month}: shelling of the grid in Kharkiv region.", f"2024-{month:02d}-10")
                 for month in range(1, 7)]
    build_index(documents, settings=Settings(index_dir=tmp_path), embedder=embedder)
    loaded = load_index(tmp_path)
    index = prepare(loaded)
    query = embedder.encode(["shelling of the grid in Kharkiv"])[0]
    allowed = document_mask(index, SearchFilters(since=dt.date(2024, 3, 1), until=dt.date(2024, 4, 30)))
    chunks_allowed = allowed[index.chunk_doc]

    class Counted:
        """A segment's vector index that counts how often a search reads it."""

        def __init__(self, inner):
            self.inner, self.reads = inner, 0

        exhaustive = property(lambda self: self.inner.exhaustive)
        spec = property(lambda self: self.inner.spec)

        @property
        def vectors(self):
            self.reads += 1
            return self.inner.vectors

        def search(self, *args, **kwargs):
            self.reads += 1
            return self.inner.search(*args, **kwargs)

    counted = [Counted(segment_index) for segment_index in loaded.chunk_index.indexes]
    search = SegmentedVectors(counted, loaded.manifest.dimension)
    for segment_index in counted:
        segment_index.reads = 0
    scores, rows = search.search(query, 10, chunks_allowed)
    assert [segment_index.reads > 0 for segment_index in counted] == [False, False, True, True, False, False]
    exact = np.array(loaded.chunk_vectors()[:]) @ query
    expected = np.flatnonzero(chunks_allowed)[np.argsort(-exact[chunks_allowed], kind="stable")]
    assert rows.tolist() == expected.tolist() and np.allclose(scores, exact[rows], atol=1e-6)


def test_documents_are_read_by_id_and_stay_readable_after_their_segment_is_removed(tmp_path, embedder):
    import shutil

    documents = [dated("a", "Shelling hit the market in Kharkiv.", "2024-03-02"),
                 dated("b", "Drones struck a power plant overnight.", "2024-05-11")]
    build_index(documents, settings=Settings(index_dir=tmp_path), embedder=embedder)
    index = load_index(tmp_path)
    assert index.documents.by_id["b"] == documents[1] and index.documents.by_id.get("zz") is None
    for folder in _segment_folders(tmp_path).values():
        shutil.rmtree(folder)  # as a later build removing them would
    assert index.documents[0].text == documents[0].text and [d.id for d in index.documents] == ["a", "b"]


def test_an_index_of_the_older_format_is_rebuilt_in_full(tmp_path, embedder):
    import json

    settings = Settings(index_dir=tmp_path)
    build_index([document("a", "First report.")], settings=settings, embedder=embedder)
    manifest_path = _live(tmp_path) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format_version": 1}))
    with pytest.raises(IndexUnavailable, match="has format 1"):
        load_index(tmp_path)
    report = build_index([document("a", "First report.")], settings=settings, embedder=embedder)
    assert (report.added, report.unchanged) == (1, 0) and load_index(tmp_path).documents[0].id == "a"
