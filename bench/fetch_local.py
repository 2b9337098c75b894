"""Fetch throughput over loopback: F feeds of E entries each, served on 127.0.0.1, read into a corpus.

    PYTHONPATH=$PWD .venv/bin/python bench/fetch_local.py               # 10 feeds x 50 entries
    PYTHONPATH=$PWD .venv/bin/python bench/fetch_local.py --feeds 20 --entries 100 --json

Round 1 fetches and stores every entry (full content, no article pages); round 2 is the
same feeds again, answered 304 Not Modified (ETag). Half the entries of each feed repeat
the previous feed's links, so deduplication is exercised. The index is not built (that is
`conflict-qa build`'s cost, measured elsewhere). Prints seconds per round and entries/s.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from assistant.ingest.feeds import FetchedStore, FetchSettings, fetch_sources

PARAGRAPH = ("Shelling of the district overnight killed {n} people and wounded many more, regional "
             "officials said on Friday, adding that rescue teams were still at work in the morning.")


def feed_xml(base: str, feed: int, entries: int) -> bytes:
    items = []
    for entry in range(entries):
        story = feed * entries // 2 + entry  # half of each feed overlaps the previous one
        items.append(f"<item><title>Story {story}</title><link>{base}/story/{story}</link>"
                     f"<pubDate>Fri, 05 Jan 2024 10:00:00 +0000</pubDate>"
                     f"<description>{PARAGRAPH.format(n=story)}</description>"
                     f"<content:encoded><![CDATA[<p>{PARAGRAPH.format(n=story)}</p><p>Story {story} "
                     f"continues with a second paragraph of reporting.</p>]]></content:encoded></item>")
    return (f'<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>Feed {feed}</title>{''.join(items)}</channel></rss>").encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    feeds: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def do_GET(self) -> None:
            body = feeds.get(self.path)
            if body is None:
                self.send_error(404)
                return
            if self.headers.get("If-None-Match") == '"1"':
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", '"1"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    for feed in range(args.feeds):
        feeds[f"/feed/{feed}.xml"] = feed_xml(base, feed, args.entries)
    urls = [f"{base}/feed/{feed}.xml" for feed in range(args.feeds)]
    settings = FetchSettings(host_delay_s=0.0, articles=False)
    with tempfile.TemporaryDirectory() as corpus:
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            report = fetch_sources(urls, Path(corpus), settings=settings)
            timings.append((time.perf_counter() - started, report))
        stored = len(FetchedStore(Path(corpus)).records)
    server.shutdown()
    first, second = timings
    result = {
        "feeds": args.feeds, "entries_per_feed": args.entries, "stored_records": stored,
        "round1_seconds": round(first[0], 3), "round1_entries_per_second": round(args.feeds * args.entries / first[0], 1),
        "round2_seconds": round(second[0], 3),
        "round2_not_modified": sum(1 for r in second[1].sources if r.status == "not-modified"),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.feeds} feeds x {args.entries} entries -> {stored} stored records (dedup of overlapping links)")
        print(f"round 1 (200 OK, parse + store): {result['round1_seconds']} s, "
              f"{result['round1_entries_per_second']} entries/s")
        print(f"round 2 (304 Not Modified):     {result['round2_seconds']} s, "
              f"{result['round2_not_modified']}/{args.feeds} sources not modified")


if __name__ == "__main__":
    main()
