import gzip
import json
import socket
from pathlib import Path

import pytest

from assistant.ingest.corpus import CorpusError, load_corpus
from assistant.settings import DEFAULT_CORPUS_DIR

SHARED_NEWS = Path("/work/shared/data/conflict-news/conflict_news.jsonl.gz")
SEED_ARTICLE = Path("/work/shared/seeds/000_8572b3f23334c504.txt")

BODY = "Russia accused Ukraine on Saturday of using cluster munitions.\n\nThe strikes killed 18 people."


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def jsonl(*records: dict | str) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


def problem_lines(load) -> list[str]:
    return [str(problem) for problem in load.problems]


def test_markdown_front_matter_fields_and_body(tmp_path):
    write(tmp_path / "a.md", "---\ntitle: Belgorod strikes\nsource: JURIST\n"
          "url: https://jurist.org/news/x\npublished: 2023-12-31\nauthor: J. Doe\n"
          "id: jurist-x\ntags: [ukraine, russia]\nupdated: 2024-01-02\n---\n\n" + BODY + "\n\n")
    load = load_corpus([tmp_path / "a.md"])
    (doc,) = load.documents
    assert load.problems == ()
    assert doc.text == BODY
    assert (doc.id, doc.title, doc.source, doc.url, doc.published, doc.author) == (
        "jurist-x", "Belgorod strikes", "JURIST", "https://jurist.org/news/x", "2023-12-31", "J. Doe")
    assert doc.metadata == {"tags": ["ukraine", "russia"], "updated": "2024-01-02"}
    assert doc.origin == str(tmp_path / "a.md")


def test_markdown_title_falls_back_to_heading_then_file_name(tmp_path):
    write(tmp_path / "with-heading.md", "Intro line.\n\n# Strikes on Belgorod\n\n" + BODY)
    write(tmp_path / "no_heading.markdown", BODY)
    docs = {doc.id: doc for doc in load_corpus([tmp_path]).documents}
    assert docs["with-heading.md"].title == "Strikes on Belgorod"
    assert docs["with-heading.md"].text.startswith("Intro line.")
    assert docs["no_heading.markdown"].title == "no heading"
    assert docs["no_heading.markdown"].source == "unknown"


def test_jsonl_records_keep_extra_fields_and_line_origin(tmp_path):
    path = write(tmp_path / "news.jsonl", jsonl(
        {"id": "n1", "text": BODY, "title": "T1", "source": "Reuters; AP",
         "url": "https://reuters.com/a", "published": "2025-01-18", "thread": ["Gaza war"]},
        "",
        {"text": "No id, but a url.", "url": "https://www.Example.com/story/"},
        {"text": "Neither id nor url."},
    ))
    load = load_corpus([path])
    assert load.problems == ()
    first, with_url, bare = load.documents
    assert (first.id, first.title, first.source, first.published) == ("n1", "T1", "Reuters; AP", "2025-01-18")
    assert first.metadata == {"thread": ["Gaza war"]}
    assert first.origin == f"{path}:1"
    assert with_url.id.startswith("url-") and with_url.source == "example.com"
    assert with_url.origin == f"{path}:3"
    assert (bare.id, bare.source, bare.title) == ("news.jsonl-4", "unknown", "Neither id nor url.")


def test_jsonl_gz_loads_like_jsonl(tmp_path):
    content = jsonl({"id": "g1", "text": BODY}, {"id": "g2", "text": "Second."})
    write(tmp_path / "news.jsonl.gz", gzip.compress(content.encode()))
    assert [doc.id for doc in load_corpus([tmp_path]).documents] == ["g1", "g2"]


def test_plain_text_title_from_file_name(tmp_path):
    write(tmp_path / "belgorod-strikes.txt", "\n" + BODY + "\n")
    (doc,) = load_corpus([tmp_path]).documents
    assert (doc.id, doc.title, doc.source, doc.text) == (
        "belgorod-strikes.txt", "belgorod strikes", "unknown", BODY)


HTML_PAGE = """<html><head><title>Strikes hit Belgorod | Example News</title>
<meta property="og:site_name" content="Example News">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2023-12-30T18:00:00+00:00">
<link rel="canonical" href="https://example.com/news/belgorod-strikes">
</head><body><nav>Home | World | Sport</nav><article><h1>Strikes hit Belgorod</h1>
<p>Russia accused Ukraine on Saturday of using cluster munitions in strikes on Belgorod.</p>
<p>The strikes killed 18 people, including three children, officials said on Saturday.</p>
</article><footer>Copyright 2023 Example News. All rights reserved.</footer></body></html>"""


def test_html_main_text_and_metadata_without_network(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access while loading html")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    write(tmp_path / "page.html", HTML_PAGE)
    load = load_corpus([tmp_path])
    (doc,) = load.documents
    assert load.problems == ()
    assert (doc.title, doc.author, doc.published, doc.url, doc.source) == (
        "Strikes hit Belgorod", "Jane Doe", "2023-12-30",
        "https://example.com/news/belgorod-strikes", "Example News")
    assert "The strikes killed 18 people, including three children" in doc.text
    assert "Home | World" not in doc.text and "All rights reserved" not in doc.text
    assert doc.id.startswith("url-")


def test_published_dates_are_normalised_and_bad_ones_reported(tmp_path):
    path = write(tmp_path / "d.jsonl", jsonl(
        {"id": "a", "text": "x", "published": "30 December 2023"},
        {"id": "b", "text": "x", "published": "Dec 30, 2023"},
        {"id": "c", "text": "x", "published": "2023-12-30T23:10:00+02:00"},
        {"id": "d", "text": "x", "published": "sometime"},
    ))
    load = load_corpus([path])
    assert [doc.published for doc in load.documents] == ["2023-12-30"] * 3 + [None]
    assert problem_lines(load) == [f"{path}:4: cannot read published date 'sometime'; kept without a date"]


def test_bad_jsonl_lines_are_reported_and_skipped(tmp_path):
    path = write(tmp_path / "bad.jsonl", jsonl(
        {"id": "ok1", "text": "Fine."},
        '{"id": "broken", "text": ',
        {"id": "no-text"},
        {"id": "empty", "text": "  "},
        '["not", "an", "object"]',
        {"id": "ok2", "text": "Also fine."},
    ).encode() + b'{"id": "latin", "text": "caf\xe9"}\n')
    load = load_corpus([path])
    assert [doc.id for doc in load.documents] == ["ok1", "ok2"]
    assert problem_lines(load) == [
        f"{path}:2: invalid json: expecting value at column 26",
        f"{path}:3: missing or empty 'text'",
        f"{path}:4: missing or empty 'text'",
        f"{path}:5: not a json object",
        f"{path}:7: not utf-8 text",
    ]


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("bad.jsonl.gz", b"this is not gzip", "not a valid gzip file"),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file, not text"),
    ("latin1.md", "Caf\u00e9 strikes".encode("latin-1"), "not utf-8 text (bad byte at offset 3)"),
    ("empty.txt", b"  \n\n", "empty document"),
    ("list.md", b"---\n- a\n- b\n---\nBody.", "front matter is not a list of 'key: value' lines"),
    ("blank.html", b"<html><head><title>Nothing</title></head><body></body></html>",
     "no main text found in html"),
])
def test_bad_files_are_reported_and_skipped(tmp_path, name, content, reason):
    write(tmp_path / name, content)
    write(tmp_path / "good.txt", BODY)
    load = load_corpus([tmp_path])
    assert [doc.id for doc in load.documents] == ["good.txt"]
    assert problem_lines(load) == [f"{tmp_path / name}: {reason}"]


def test_bad_front_matter_is_reported_with_its_line(tmp_path):
    path = write(tmp_path / "front.md", "---\ntitle: Fine\nsource: a: b\n---\nBody.")
    load = load_corpus([path])
    assert load.documents == ()
    assert problem_lines(load) == [f"{path}:3: invalid yaml front matter: mapping values are not allowed here"]


def test_unreadable_file_is_reported(tmp_path):
    (tmp_path / "gone.md").symlink_to(tmp_path / "missing-target.md")
    write(tmp_path / "good.txt", BODY)
    load = load_corpus([tmp_path])
    assert [doc.id for doc in load.documents] == ["good.txt"]
    assert problem_lines(load) == [f"{tmp_path / 'gone.md'}: cannot read file: no such file or directory"]


def test_duplicate_id_keeps_the_first(tmp_path):
    write(tmp_path / "a.md", "---\nid: same\n---\nFirst.")
    path = write(tmp_path / "b.jsonl", jsonl({"id": "other", "text": "x"}, {"id": "same", "text": "Second."}))
    load = load_corpus([tmp_path])
    assert [(doc.id, doc.text) for doc in load.documents] == [("same", "First."), ("other", "x")]
    assert problem_lines(load) == [f"{path}:2: duplicate id 'same' (first in {tmp_path / 'a.md'}); skipped"]


def test_missing_path_raises_one_line_error(tmp_path):
    with pytest.raises(CorpusError, match=r"^no such file or directory: .*nowhere$"):
        load_corpus([tmp_path / "nowhere"])


def test_folders_recurse_skip_hidden_and_unknown_types(tmp_path):
    write(tmp_path / "top.txt", "Top.")
    write(tmp_path / "sub" / "deeper" / "inner story.txt", "Inner.")
    write(tmp_path / ".hidden.txt", "Hidden file.")
    write(tmp_path / ".git" / "notes.txt", "Hidden folder.")
    write(tmp_path / "notes.docx", b"PK\x03\x04")
    write(tmp_path / "README", "no extension")
    load = load_corpus([tmp_path])
    assert [doc.id for doc in load.documents] == ["sub-deeper-inner-story.txt", "top.txt"]
    assert [doc.title for doc in load.documents] == ["inner story", "top"]
    assert load.problems == ()


def test_unsupported_file_named_directly_is_reported(tmp_path):
    path = write(tmp_path / "notes.docx", b"PK\x03\x04")
    load = load_corpus([path])
    assert load.documents == ()
    assert problem_lines(load)[0].startswith(f"{path}: unsupported file type (use .md")


def test_ids_are_deterministic_and_urls_normalised(tmp_path):
    write(tmp_path / "a.jsonl", jsonl(
        {"text": "One.", "url": "HTTPS://www.Example.com/story/#top"},
        {"text": "Two.", "url": "https://other.org/x?page=2"},
        {"text": "Three."}))
    write(tmp_path / "b.md", BODY)
    first = [doc.id for doc in load_corpus([tmp_path]).documents]
    second = [doc.id for doc in load_corpus([tmp_path]).documents]
    assert first == second
    assert len(set(first)) == 4
    (same_url,) = load_corpus([write(tmp_path / "c" / "c.jsonl",
                                     jsonl({"text": "Other text.", "url": "https://example.com/story"}))]).documents
    assert same_url.id == first[0]


@pytest.mark.skipif(not SHARED_NEWS.exists(), reason="shared conflict-news data not on this machine")
def test_shared_conflict_news_loads_completely():
    load = load_corpus([SHARED_NEWS])
    assert load.problems == ()
    assert len(load.documents) == 3276
    assert len({doc.id for doc in load.documents}) == 3276
    assert all(doc.published and doc.text for doc in load.documents)
    assert any("; " in doc.source for doc in load.documents)
    first = load.documents[0]
    assert first.id == "wcep-2025-01-01-001"
    assert first.metadata["origin"] == "wikipedia-current-events"


def test_default_corpus_holds_the_seed_article_verbatim():
    load = load_corpus([DEFAULT_CORPUS_DIR])
    assert load.problems == ()
    docs = {doc.id: doc for doc in load.documents}
    doc = docs["jurist-2023-12-belgorod-cluster-munitions"]
    assert (doc.title, doc.source, doc.published) == (
        "Russia accuses Ukraine of using cluster munitions in Belgorod strikes", "JURIST", "2023-12-31")
    assert doc.url == ("https://jurist.org/news/2023/12/"
                       "russia-accuses-ukraine-of-using-cluster-munitions-in-belgorod-strikes")
    assert "killed 18 people, including three children" in doc.text
    if SEED_ARTICLE.exists():
        assert doc.text == SEED_ARTICLE.read_text(encoding="utf-8").strip()


CITED = [{"name": "Al Jazeera", "url": "https://aljazeera.com/a"}, {"name": "Reuters", "url": "https://reuters.com/b"}]


def test_jsonl_publisher_cited_reports_and_license(tmp_path):
    path = write(tmp_path / "wcep.jsonl", jsonl(
        {"id": "w1", "text": BODY, "source": "Al Jazeera; Reuters", "url": CITED[0]["url"],
         "publisher": "Wikipedia Portal:Current events", "license": "CC BY-SA 4.0",
         "portal_url": "https://en.wikipedia.org/wiki/Portal:Current_events/2025_January_1",
         "citations": CITED, "thread": ["Gaza war"]},
        {"id": "w2", "text": BODY, "publisher": "Wikipedia", "cites": ["AP", {"url": "https://x.org"}],
         "url": "https://apnews.com/c"},
        {"id": "plain", "text": BODY, "source": "Reuters", "url": "https://reuters.com/plain"},
    ))
    load = load_corpus([path])
    wcep, named_only, plain = load.documents
    assert (wcep.publisher, wcep.license) == ("Wikipedia Portal:Current events", "CC BY-SA 4.0")
    assert [(c.name, c.url) for c in wcep.cites] == [(c["name"], c["url"]) for c in CITED]
    assert wcep.attribution.publisher_url == "https://en.wikipedia.org/wiki/Portal:Current_events/2025_January_1"
    assert wcep.metadata == {"thread": ["Gaza war"]}  # attribution fields are not repeated as metadata
    # Names alone are cited reports too; an entry without a name is reported, the document kept.
    assert [(c.name, c.url) for c in named_only.cites] == [("AP", None)]
    assert [str(p) for p in load.problems] == [f"{path}:2: citation 2 has no name; skipped"]
    # Without a publisher the source wrote the text, on the page at its url.
    assert (plain.publisher, plain.cites, plain.license) == ("Reuters", (), None)
    assert plain.attribution.publisher_url == "https://reuters.com/plain"


def test_front_matter_publisher_cited_reports_and_license(tmp_path):
    write(tmp_path / "summary.md", "---\nid: s1\ntitle: Summary\nsource: Desk\n"
          "publisher: Conflict Desk\npublisher_url: https://desk.example/s1\nlicense: CC BY 4.0\n"
          "url: https://aljazeera.com/a\ncitations:\n"
          "  - {name: Al Jazeera, url: 'https://aljazeera.com/a'}\n  - name: Reuters\n---\n" + BODY)
    (doc,) = load_corpus([tmp_path]).documents
    assert (doc.publisher, doc.license) == ("Conflict Desk", "CC BY 4.0")
    assert [(c.name, c.url) for c in doc.cites] == [("Al Jazeera", "https://aljazeera.com/a"), ("Reuters", None)]
    assert doc.attribution.publisher_url == "https://desk.example/s1"


def test_url_of_a_cited_report_is_not_the_page_holding_the_text(tmp_path):
    path = write(tmp_path / "n.jsonl", jsonl(
        {"id": "n", "text": BODY, "publisher": "Wikipedia", "url": CITED[0]["url"], "citations": CITED}))
    (doc,) = load_corpus([path]).documents
    assert doc.attribution.publisher_url is None


def test_attribution_changes_the_content_hash(tmp_path):
    base = {"id": "h", "text": BODY, "source": "Reuters", "publisher": "Wikipedia", "citations": CITED}
    variants = [base, {**base, "license": "CC BY-SA 4.0"}, {**base, "publisher": "Wikinews"},
                {**base, "citations": CITED[:1]}]
    hashes = set()
    for number, record in enumerate(variants):
        (doc,) = load_corpus([write(tmp_path / f"{number}.jsonl", jsonl(record))]).documents
        hashes.add(doc.content_hash)
    assert len(hashes) == len(variants)


@pytest.mark.skipif(not SHARED_NEWS.exists(), reason="shared conflict-news data not on this machine")
def test_shared_conflict_news_is_published_by_wikipedia_and_wikinews():
    documents = load_corpus([SHARED_NEWS]).documents
    by_publisher = {}
    for doc in documents:
        by_publisher[doc.publisher] = by_publisher.get(doc.publisher, 0) + 1
    assert by_publisher == {"Wikipedia Portal:Current events": 3259, "Wikinews": 17}
    first = documents[0]
    assert first.attribution.publisher_url.startswith("https://en.wikipedia.org/wiki/Portal:Current_events/")
    assert first.cites and first.license.startswith("CC BY-SA 4.0")
    assert sum(len(doc.cites) > 1 for doc in documents) == 726


def test_default_corpus_ships_the_conflict_news_archive_with_its_licenses():
    load = load_corpus([DEFAULT_CORPUS_DIR])
    archive = [doc for doc in load.documents if doc.id != "jurist-2023-12-belgorod-cluster-munitions"]
    assert len(archive) == 3276 and len(load.documents) == 3277  # the notice file is not a report
    if SHARED_NEWS.exists():
        assert (DEFAULT_CORPUS_DIR / "conflict_news.jsonl.gz").read_bytes() == SHARED_NEWS.read_bytes()
    notice = (DEFAULT_CORPUS_DIR / "LICENSE-conflict-news").read_text(encoding="utf-8")
    licenses = {doc.license for doc in archive}
    assert licenses == {"CC BY-SA 4.0 (text: Wikipedia contributors, Portal:Current events)",
                        "CC BY 2.5 (Wikinews contributors)"}
    for credit in ("CC BY-SA 4.0", "Wikipedia contributors", "CC BY 2.5", "Wikinews contributors",
                   "creativecommons.org/licenses/by-sa/4.0", "creativecommons.org/licenses/by/2.5"):
        assert credit in notice
