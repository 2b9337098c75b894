"""Fixtures for the web tests: a tiny index, the app running on it, headless Chromium.

The app runs as a real subprocess (`python app.py`) on a free loopback port over
an index built in a temporary folder from the seed article plus a hostile
document whose title, outlet, url and text try to run script in the browser.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED_ARTICLE = ROOT / "corpus" / "jurist-2023-12-belgorod-cluster-munitions.md"
OUTPUT_DIR = ROOT / "test-output"
ALLOWED_API_ORIGIN = "http://allowed.example"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

HOSTILE_DOCUMENT = """---
id: hostile-kharkiv-report
title: <img src=x onerror=alert('title')> Kharkiv shelling <script>alert('title2')</script>
source: <b onmouseover=alert('outlet')>Hostile</b> Outlet
url: javascript:alert('url')
published: 2024-01-05
---
Officials in Kharkiv said <script>alert('body')</script> shelling killed 7 people on Friday <img src=x onerror=alert('img')>. A spokesman posted [a link](javascript:alert('md')) and $$\\alert{x}$$ on social media.
"""


@dataclass(frozen=True, kw_only=True)
class RunningApp:
    """The app under test: its base URL, the corpus and index folders it serves, and the one
    origin its CORS policy admits."""

    url: str
    corpus_dir: Path
    index_dir: Path
    allowed_api_origin: str = ALLOWED_API_ORIGIN

    def rebuild(self) -> None:
        """`conflict-qa build` over the corpus folder while the app keeps running."""
        build_index(self.corpus_dir, self.index_dir)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build_index(corpus_dir: Path, index_dir: Path) -> None:
    """`conflict-qa build` as a user runs it."""
    subprocess.run([sys.executable, "-m", "assistant", "build", "--corpus", str(corpus_dir),
                    "--index", str(index_dir)], cwd=ROOT, check=True, capture_output=True, timeout=300)


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=5) as response:
                if json.load(response).get("status") == "ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the app did not answer on {url} within {timeout:.0f} s")


@contextlib.contextmanager
def serve_app(index_dir: Path, log_path: Path, *extra: str) -> Iterator[str]:
    """`python app.py --index INDEX_DIR` on a free loopback port until the block ends; yields its URL."""
    port = free_port()
    log = open(log_path, "w")
    process = subprocess.Popen([sys.executable, "app.py", "--index", str(index_dir), "--port", str(port), *extra],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


SAMPLE_NEWS = ROOT / "tests" / "data" / "conflict_news_sample.jsonl"
"""Eleven real conflict-news items (publisher, cited outlets, licenses) beside the seed article."""


def seed_corpus_index(base: Path, add: Callable[[Path], object]) -> tuple[Path, Path]:
    """`base/corpus` holding the seed article and what `add(corpus_dir)` writes, indexed into `base/index`."""
    corpus_dir, index_dir = base / "corpus", base / "index"
    corpus_dir.mkdir()
    shutil.copy(SEED_ARTICLE, corpus_dir / SEED_ARTICLE.name)
    add(corpus_dir)
    build_index(corpus_dir, index_dir)
    return corpus_dir, index_dir


@pytest.fixture(scope="session")
def sample_news_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python app.py` over the seed article and SAMPLE_NEWS (read-only: nothing rebuilds it); its URL."""
    base = tmp_path_factory.mktemp("sample-news")
    _, index_dir = seed_corpus_index(base, lambda corpus_dir: shutil.copy(SAMPLE_NEWS, corpus_dir / SAMPLE_NEWS.name))
    with serve_app(index_dir, base / "app.log") as url:
        yield url


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """`python app.py` over a two-document index, CORS open to ALLOWED_API_ORIGIN only."""
    base = tmp_path_factory.mktemp("web")
    corpus_dir, index_dir = seed_corpus_index(
        base, lambda corpus_dir: (corpus_dir / "hostile.md").write_text(HOSTILE_DOCUMENT, encoding="utf-8"))
    with serve_app(index_dir, base / "app.log", "--api-origins", ALLOWED_API_ORIGIN) as url:
        yield RunningApp(url=url, corpus_dir=corpus_dir, index_dir=index_dir)


@pytest.fixture(scope="session")
def static_host(tmp_path_factory: pytest.TempPathFactory, app_server: RunningApp) -> Iterator[str]:
    """examples/embed.html, unedited, served by `python -m http.server` on another port (another
    origin); open it as `/embed.html?server=<app url>` to point it at the app under test."""
    folder = tmp_path_factory.mktemp("host")
    shutil.copy(ROOT / "examples" / "embed.html", folder / "embed.html")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                "--directory", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/embed.html", timeout=2).close()
            break
        except OSError:
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass(kw_only=True)
class WatchedPage:
    """A browser page, every URL it requested and every dialog (alert/confirm) that opened."""

    page: object
    requests: list[str]
    dialogs: list[str]

    def offsite_requests(self) -> list[str]:
        """Requests to anything but the loopback address (data:/blob: URLs never leave)."""
        from urllib.parse import urlsplit

        return [url for url in self.requests
                if urlsplit(url).scheme in ("http", "https", "ws", "wss")
                and urlsplit(url).hostname not in ("127.0.0.1", "localhost")]


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """test-output/ (gitignored): screenshots to look at after a run."""
    OUTPUT_DIR.mkdir(exist_ok=True)
    return OUTPUT_DIR


@pytest.fixture
def watched_page(browser: object) -> Iterator[WatchedPage]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watched = WatchedPage(page=page, requests=[], dialogs=[])
    context.on("request", lambda request: watched.requests.append(request.url))
    page.on("dialog", lambda dialog: (watched.dialogs.append(dialog.message), dialog.dismiss()))
    context.on("page", lambda popup: popup.on(
        "dialog", lambda dialog: (watched.dialogs.append(dialog.message), dialog.dismiss())))
    yield watched
    context.close()


AXE_CORE_VERSION = "4.14.1"
"""axe-core from the npm registry (Deque's accessibility engine), installed on first use into build/."""


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe.min.js, installed with `npm install axe-core@AXE_CORE_VERSION` into build/axe on first use."""
    folder = ROOT / "build" / "axe"
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        if shutil.which("npm") is None:
            pytest.fail("the accessibility tests need npm (Debian: apt-get install npm) to install axe-core")
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder),
                        f"axe-core@{AXE_CORE_VERSION}"], check=True, capture_output=True, timeout=300)
    return script.read_text(encoding="utf-8")
