"""`fetch` and `watch` against a local HTTP server on 127.0.0.1 serving recorded feeds, API
pages and articles, including slow, failing, oversized, redirecting and malformed ones.

Every URL the code under test sees points at that server; nothing reaches another host.
"""

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.ingest.corpus import load_corpus
from assistant.ingest.feeds import (FetchedStore, FetchSettings, PoliteClient, fetch_sources,
                                    parse_interval, read_source_list, SourceListError)

ROOT = Path(__file__).resolve().parents[1]

ARTICLE_TEXT = ("A Russian missile strike on Kharkiv killed seven people on Friday, regional governor Oleh "
                "Syniehubov said on Telegram. Rescuers were still searching the rubble of a five-storey "
                "building in the Kyivskyi district late in the evening. Ukraine's air force said it had "
                "shot down 11 of 16 drones launched overnight.")
SYNDICATED_TEXT = ("Heavy fighting around El Fasher displaced more than 20,000 people in a single week, the "
                   "United Nations humanitarian office said on Thursday, warning that aid convoys could not "
                   "reach the city because of shelling on the main roads.")


def article_page(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in text.rstrip(".").split(". "))
    return (f"<!doctype html><html><head><title>{title}</title>"
            f'<meta property="og:site_name" content="Local Wire">'
            f'<meta name="author" content="Anna Petrenko">'
            f'<meta property="article:published_time" content="2024-01-05T20:00:00Z"></head>'
            f"<body><nav>Home | World | Sport</nav><article><h1>{title}</h1>{paragraphs}</article>"
            f"<footer>© Local Wire</footer></body></html>")


def rss(base: str, title: str, items: list[tuple[str, str, str]]) -> str:
    entries = "".join(
        f"<item><title>{item_title}</title><link>{base}{path}</link><guid>{base}{path}</guid>"
        f"<pubDate>Fri, 05 Jan 2024 20:00:00 +0000</pubDate><description>{teaser}</description></item>"
        for item_title, path, teaser in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>{base}/</link>{entries}</channel></rss>")


class Recorded:
    """What the server serves and what it was asked."""

    def __init__(self) -> None:
        self.routes: dict[str, object] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.hits: dict[str, int] = {}


@pytest.fixture()
def server():
    recorded = Recorded()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path
            recorded.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
            recorded.hits[path] = recorded.hits.get(path, 0) + 1
            route = recorded.routes.get(path)
            if route is None:
                self.send_error(404)
                return
            status, headers, body = route(self) if callable(route) else (200, {}, route)
            payload = body.encode("utf-8") if isinstance(body, str) else body
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            try:
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    recorded.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    _install_routes(recorded)
    yield recorded
    httpd.shutdown()
    httpd.server_close()


def _install_routes(recorded: Recorded) -> None:
    base = recorded.base
    feed = rss(base, "Local Wire", [
        ("Russian strike on Kharkiv kills 7", "/articles/kharkiv?utm_source=rss", "Seven killed in Kharkiv."),
        ("El Fasher displacement", "/articles/el-fasher", SYNDICATED_TEXT),
    ])

    def conditional_feed(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {"ETag": '"v1"', "Content-Type": "application/rss+xml"}, feed

    recorded.routes.update({
        "/wire.xml": conditional_feed,
        "/articles/kharkiv": article_page("Russian strike on Kharkiv kills 7", ARTICLE_TEXT),
        "/articles/el-fasher": article_page("El Fasher", SYNDICATED_TEXT),
        # The same Kharkiv article reached through a second feed, and the El Fasher report syndicated.
        "/partner.xml": rss(base, "Partner Desk", [
            ("Kharkiv strike", "/articles/kharkiv", "Kharkiv strike."),
            ("Displacement in Darfur", "/partner/darfur-story", SYNDICATED_TEXT),
        ]),
        "/moved.xml": lambda handler: (301, {"Location": f"{base}/wire.xml"}, b""),
        "/slow.xml": _slow,
        "/down.xml": lambda handler: (503, {}, "unavailable"),
        "/big.xml": rss(base, "Big", [("x", "/articles/none", "y" * 5000)]),
        "/broken.xml": "<rss version='2.0'><channel><title>Broken</title><item><title>half",
        "/not-a-feed.json": '{"hello": "world"}',
        "/reliefweb.json": json.dumps({"href": "https://api.reliefweb.int/v1/reports", "data": [
            {"id": "77", "fields": {"title": "Sudan: Flash Update", "body": "Clashes in Wad Madani displaced 300,000 people.",
                                    "date": {"original": "2024-01-10T00:00:00+00:00"},
                                    "source": [{"name": "OCHA"}], "url": f"{base}/reliefweb/77"}}]}),
        "/gdelt.json": json.dumps({"articles": [
            {"url": f"{base}/articles/kharkiv", "title": "Russian strike on Kharkiv kills 7",
             "seendate": "20240105T201500Z", "domain": "127.0.0.1", "language": "English",
             "sourcecountry": "Ukraine"}]}),
    })
    flaky_calls = {"n": 0}

    def flaky(handler):
        flaky_calls["n"] += 1
        return (503, {}, "busy") if flaky_calls["n"] == 1 else (200, {}, feed)

    recorded.routes["/flaky.xml"] = flaky


def _slow(handler):
    time.sleep(2.5)
    return 200, {}, "<rss version='2.0'><channel><title>Slow</title></channel></rss>"


def quick(**overrides) -> FetchSettings:
    values = dict(host_delay_s=0.0, backoff_s=0.01, retries=1, timeout_s=1.0, max_bytes=4000)
    values.update(overrides)
    return FetchSettings(**values)


def stored(corpus: Path) -> dict[str, dict]:
    return FetchedStore(corpus).records


def test_feed_entries_get_their_article_text_and_a_second_fetch_is_conditional(server, tmp_path):
    report = fetch_sources([f"{server.base}/wire.xml"], tmp_path, settings=quick(max_bytes=100_000))
    (result,) = report.sources
    assert (result.status, result.items, result.new, result.articles) == ("fetched", 2, 2, 2)
    records = stored(tmp_path)
    kharkiv = next(r for r in records.values() if "kharkiv" in r["url"])
    # The teaser was replaced by the article page's text; the tracking parameter is gone from the link.
    assert "A Russian missile strike on Kharkiv killed seven people on Friday" in kharkiv["text"]
    assert "Home | World" not in kharkiv["text"] and "© Local Wire" not in kharkiv["text"]
    assert kharkiv["url"] == f"{server.base}/articles/kharkiv"
    assert kharkiv["source"] == "Local Wire" and kharkiv["author"] == "Anna Petrenko"
    assert kharkiv["fetched_from"] == f"{server.base}/wire.xml"
    user_agent = server.requests[0][1]["user-agent"]
    assert user_agent.startswith("conflict-qa/")

    again = fetch_sources([f"{server.base}/wire.xml"], tmp_path, settings=quick(max_bytes=100_000))
    assert again.sources[0].status == "not-modified"
    assert server.requests[-1][1].get("if-none-match") == '"v1"'
    assert stored(tmp_path) == records
    # What was fetched is a corpus file the build reads.
    documents = {d.id: d for d in load_corpus([tmp_path]).documents}
    assert set(documents) == set(records)
    assert documents[kharkiv["id"]].metadata["fetched_from"] == f"{server.base}/wire.xml"


def test_same_article_via_two_feeds_and_a_syndicated_copy_are_stored_once(server, tmp_path):
    fetch_sources([f"{server.base}/wire.xml", f"{server.base}/partner.xml"], tmp_path,
                  settings=quick(max_bytes=100_000))
    records = stored(tmp_path)
    assert len(records) == 2
    kharkiv = next(r for r in records.values() if r["url"].endswith("/articles/kharkiv"))
    assert {seen["feed"] for seen in kharkiv["seen_in"]} == {f"{server.base}/wire.xml", f"{server.base}/partner.xml"}
    el_fasher = next(r for r in records.values() if r["url"].endswith("/articles/el-fasher"))
    assert {seen["url"] for seen in el_fasher["seen_in"]} == {f"{server.base}/articles/el-fasher",
                                                             f"{server.base}/partner/darfur-story"}
    # The article page was fetched once, not again for the second feed, and its text stays.
    assert server.hits["/articles/kharkiv"] == 1
    assert "Rescuers were still searching the rubble" in kharkiv["text"]
    assert kharkiv["source"] == "Local Wire"


def test_failing_sources_are_reported_one_line_each_and_the_others_still_load(server, tmp_path):
    urls = [f"{server.base}{path}" for path in
            ("/slow.xml", "/down.xml", "/big.xml", "/broken.xml", "/missing.xml", "/not-a-feed.json",
             "/wire.xml", "/moved.xml", "/flaky.xml")]
    report = fetch_sources(urls, tmp_path, settings=quick(max_bytes=4000))
    outcome = {result.url.removeprefix(server.base): (result.status, result.error) for result in report.sources}
    assert outcome["/slow.xml"] == ("failed", "timed out after 2 tries")
    assert outcome["/down.xml"] == ("failed", "HTTP 503 after 2 tries")
    assert server.hits["/down.xml"] == 2
    assert outcome["/big.xml"] == ("failed", "response larger than 4,000 bytes")
    assert outcome["/broken.xml"][0] == "failed" and outcome["/broken.xml"][1].startswith("malformed feed")
    assert outcome["/missing.xml"] == ("failed", "HTTP 404")
    assert outcome["/not-a-feed.json"][1].startswith("not a feed")
    assert outcome["/wire.xml"][0] == "fetched"
    assert outcome["/moved.xml"][0] == "fetched"  # the redirect was followed to the same feed
    assert outcome["/flaky.xml"][0] == "fetched"  # one 503, then the retry got through
    assert all("\n" not in (error or "") for _, error in outcome.values())
    assert len(stored(tmp_path)) == 2


def test_api_pages_and_headline_lists_are_read_and_articles_fetched(server, tmp_path):
    fetch_sources([f"{server.base}/reliefweb.json", f"{server.base}/gdelt.json"], tmp_path,
                  settings=quick(max_bytes=100_000))
    records = stored(tmp_path)
    assert records["reliefweb-77"]["text"] == "Clashes in Wad Madani displaced 300,000 people."
    assert records["reliefweb-77"]["source"] == "OCHA"
    gdelt = next(r for r in records.values() if r.get("format") == "gdelt")
    assert gdelt["kind"] == "report" and "A Russian missile strike on Kharkiv" in gdelt["text"]
    assert gdelt["source_country"] == "Ukraine" and gdelt["published"] == "2024-01-05"


def test_requests_to_one_host_are_spaced_by_the_delay(server):
    waits: list[float] = []
    client = PoliteClient(quick(host_delay_s=5.0, max_bytes=100_000), sleep=waits.append)
    try:
        client.get(f"{server.base}/articles/kharkiv")
        client.get(f"{server.base}/articles/el-fasher")
    finally:
        client.close()
    assert len(waits) == 1 and 4.0 < waits[0] <= 5.0


def test_source_list_and_interval_reading(tmp_path):
    listing = tmp_path / "feeds.txt"
    listing.write_text("# conflict feeds\n\nhttp://127.0.0.1:9/a.xml  Local A\nhttps://127.0.0.1:9/b\n")
    assert read_source_list(str(listing)) == ["http://127.0.0.1:9/a.xml", "https://127.0.0.1:9/b"]
    listing.write_text("ftp://127.0.0.1/feed\n")
    with pytest.raises(SourceListError, match=r"feeds.txt:1: not an http\(s\) URL"):
        read_source_list(str(listing))
    assert [parse_interval(text) for text in ("90s", "15m", "2h", "30")] == [90, 900, 7200, 30]
    with pytest.raises(ValueError):
        parse_interval("soon")


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


QUICK_FLAGS = ("--delay", "0", "--backoff", "0.01", "--retries", "1", "--timeout", "1")


def test_fetch_command_updates_the_index_incrementally(server, tmp_path):
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(f"{server.base}/wire.xml\n{server.base}/down.xml\n")
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    first = run_cli("fetch", str(feeds), "--corpus", str(corpus), "--index", str(index), "--json", *QUICK_FLAGS)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["fetched"], summary["failed"], summary["added"], summary["updated"]) == (1, 1, 2, 0)
    assert summary["sources"][1]["error"] == "HTTP 503 after 2 tries"
    second = run_cli("fetch", str(feeds), "--corpus", str(corpus), "--index", str(index), "--json", *QUICK_FLAGS)
    summary = json.loads(second.stdout)
    assert (summary["not_modified"], summary["added"], summary["updated"], summary["unchanged"]) == (1, 0, 0, 2)
    stats = json.loads(run_cli("stats", "--index", str(index), "--json").stdout)
    assert stats["feeds"][f"{server.base}/wire.xml"]["documents"] == 2
    assert stats["updated"]


def test_fetch_text_output_names_each_failed_source_on_one_line(server, tmp_path):
    result = run_cli("fetch", f"{server.base}/missing.xml", "--corpus", str(tmp_path), "--no-index", *QUICK_FLAGS)
    assert result.returncode == 1
    assert result.stderr.strip() == f"failed {server.base}/missing.xml: HTTP 404"


def test_watch_logs_one_line_per_round(server, tmp_path):
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(f"{server.base}/wire.xml\n{server.base}/down.xml\n")
    corpus = tmp_path / "corpus"
    started = time.monotonic()
    result = run_cli("watch", str(feeds), "--every", "2s", "--rounds", "2", "--corpus", str(corpus),
                     "--no-index", *QUICK_FLAGS)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 2  # the second round waited for its turn
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2, result.stdout
    assert "round 1: 2 new, 0 updated, 1 failed of 2 sources" in lines[0]
    assert "round 2: 0 new, 0 updated, 1 failed of 2 sources" in lines[1]
    assert f"failed {server.base}/down.xml: HTTP 503 after 2 tries" in lines[1]


def test_a_second_fetch_or_watch_on_the_same_corpus_is_refused(server, tmp_path):
    from assistant.storage import ExclusiveLock
    from assistant.ingest.feeds import LOCK_FILE

    (tmp_path / LOCK_FILE).parent.mkdir(parents=True)
    with ExclusiveLock(tmp_path / LOCK_FILE, busy_message="busy"):
        for command in ("watch", "fetch"):
            result = run_cli(command, f"{server.base}/wire.xml", "--corpus", str(tmp_path), "--no-index")
            assert result.returncode == 1
            assert result.stderr.strip() == f"error: another fetch or watch is running on {tmp_path}"
    assert "/wire.xml" not in server.hits


def test_a_damaged_store_line_does_not_stop_the_next_fetch(server, tmp_path):
    store = tmp_path / "fetched" / "reports.jsonl"
    store.parent.mkdir(parents=True)
    store.write_text('{"id": "kept", "text": "Earlier report.", "title": "Earlier"}\n{not json\n')
    report = fetch_sources([f"{server.base}/reliefweb.json"], tmp_path, settings=quick(max_bytes=100_000))
    assert report.sources[0].status == "fetched"
    assert set(stored(tmp_path)) == {"kept", "reliefweb-77"}


def test_an_article_url_is_fetched_as_one_report(server, tmp_path):
    report = fetch_sources([f"{server.base}/articles/kharkiv"], tmp_path, settings=quick(max_bytes=100_000))
    assert (report.sources[0].status, report.sources[0].items) == ("fetched", 1)
    (record,) = stored(tmp_path).values()
    assert "killed seven people on Friday" in record["text"] and "Home | World" not in record["text"]
    assert (record["source"], record["author"], record["published"]) == ("Local Wire", "Anna Petrenko", "2024-01-05")


def test_article_pages_a_site_refuses_in_robots_txt_are_not_fetched(server, tmp_path):
    server.routes["/robots.txt"] = "User-agent: *\nDisallow: /articles/el-fasher\n"
    report = fetch_sources([f"{server.base}/wire.xml"], tmp_path, settings=quick(max_bytes=100_000))
    (result,) = report.sources
    assert (result.articles, result.robots_refused) == (1, 1)
    assert "/articles/el-fasher" not in server.hits and server.hits["/articles/kharkiv"] == 1
    texts = {record["url"]: record["text"] for record in stored(tmp_path).values()}
    assert texts[f"{server.base}/articles/el-fasher"] == SYNDICATED_TEXT  # the feed's own text stays
    assert server.hits["/robots.txt"] == 1  # read once per host and round


def test_an_unreachable_robots_txt_means_no_article_pages_this_round(server, tmp_path):
    server.routes["/robots.txt"] = lambda handler: (503, {}, "busy")
    report = fetch_sources([f"{server.base}/wire.xml"], tmp_path, settings=quick(max_bytes=100_000, retries=0))
    (result,) = report.sources
    assert (result.status, result.articles, result.robots_refused) == ("fetched", 0, 2)
    assert not any(path.startswith("/articles/") for path in server.hits)
