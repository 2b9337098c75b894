"""A polite HTTP client for fetching feeds and pages: one host at a time, small and bounded.

`PoliteClient.get` sends a User-Agent that names the tool, waits `host_delay_s` between two
requests to the same host, retries with exponential back-off on timeouts, connection
errors, 429 and 5xx (honouring a Retry-After of up to 60 s), follows at most 5 redirects,
refuses anything but http(s), and stops a response at `max_bytes` or after `timeout_s`
(also when a server drips bytes). Every failure is a `FetchError` with one line of reason.
`PoliteClient.allowed` reads a host's robots.txt (once per client) the way RFC 9309 says.
"""

from __future__ import annotations

import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class FetchError(Exception):
    """One source could not be fetched or read; the message is one line."""



@dataclass(frozen=True, kw_only=True)
class FetchSettings:
    """How politely and how far to fetch. Defaults suit public news feeds and APIs.

    - user_agent: names the tool, as feed publishers ask.
    - timeout_s: 20 s per response, connection to last byte.
    - max_bytes: 10 MB per response (a feed page is well under 1 MB).
    - retries: 2 more tries after a timeout, a connection error, 429 or 5xx, waiting
      backoff_s, then 2 x backoff_s (a Retry-After of up to 60 s is honoured instead).
    - host_delay_s: at least 1 s between two requests to the same host.
    - articles: download the page of entries that carry only a headline or a teaser,
      at most max_articles per source and round.
    """

    user_agent: str = "conflict-qa/0.1 (feed reader; +https://github.com/conflict-qa)"
    timeout_s: float = 20.0
    max_bytes: int = 10_000_000
    retries: int = 2
    backoff_s: float = 2.0
    host_delay_s: float = 1.0
    articles: bool = True
    max_articles: int = 30



@dataclass
class Response:
    url: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)



class PoliteClient:
    """An HTTP client that waits between requests to a host, retries, and caps size and time."""

    def __init__(self, settings: FetchSettings, *, sleep: Callable[[float], None] = time.sleep) -> None:
        import httpx

        self.settings = settings
        self._sleep = sleep
        self._last_request: dict[str, float] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._client = httpx.Client(
            follow_redirects=True, max_redirects=5, timeout=httpx.Timeout(settings.timeout_s),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        """The response to GET `url` (after redirects), or FetchError with one line of reason."""
        import httpx

        if urlsplit(url).scheme.lower() not in ("http", "https"):
            raise FetchError(f"not an http(s) URL: {url}")
        tries = self.settings.retries + 1
        for attempt in range(tries):
            self._wait_for_host(url)
            wait = None
            try:
                response = self._get_once(url, headers or {})
            except httpx.TooManyRedirects:
                raise FetchError("too many redirects") from None
            except (httpx.TimeoutException, _TooSlow):
                reason = "timed out"
            except httpx.TransportError as error:
                reason = f"connection failed ({type(error).__name__})"
            else:
                if response.status < 400:
                    return response
                reason = f"HTTP {response.status}"
                if response.status not in _RETRIED_STATUSES:
                    raise FetchError(reason)
                wait = _retry_after(response)
            if attempt + 1 == tries:
                raise FetchError(f"{reason} after {tries} tries" if tries > 1 else reason)
            self._sleep(wait if wait is not None else self.settings.backoff_s * 2 ** attempt)
        raise AssertionError("unreachable")

    def allowed(self, url: str) -> bool:
        """Whether the host's robots.txt lets this tool fetch `url`, read once per host and client.

        As RFC 9309 says: a robots.txt that is missing (any 4xx) allows everything; one that
        cannot be had (5xx, timeout, no connection) disallows everything for now.
        """
        import httpx

        parts = urlsplit(url)
        site = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        rules = self._robots.get(site)
        if rules is None:
            rules = self._robots[site] = urllib.robotparser.RobotFileParser(site + "/robots.txt")
            try:
                self._wait_for_host(site)
                response = self._get_once(site + "/robots.txt", {})
            except (FetchError, httpx.HTTPError, _TooSlow):
                rules.disallow_all = True
            else:
                if response.status >= 500:
                    rules.disallow_all = True
                elif response.status >= 400:
                    rules.allow_all = True
                else:
                    rules.parse(response.body.decode("utf-8", "replace").splitlines())
        return rules.can_fetch(self.settings.user_agent, url)

    def _wait_for_host(self, url: str) -> None:
        host = (urlsplit(url).hostname or "").lower()
        last = self._last_request.get(host)
        if last is not None:
            remaining = self.settings.host_delay_s - (time.monotonic() - last)
            if remaining > 0:
                self._sleep(remaining)
        self._last_request[host] = time.monotonic()

    def _get_once(self, url: str, headers: dict[str, str]) -> Response:
        deadline = time.monotonic() + self.settings.timeout_s
        with self._client.stream("GET", url, headers=headers) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.settings.max_bytes:
                raise FetchError(f"response larger than {self.settings.max_bytes:,} bytes")
            body = bytearray()
            for piece in response.iter_bytes():
                body += piece
                if len(body) > self.settings.max_bytes:
                    raise FetchError(f"response larger than {self.settings.max_bytes:,} bytes")
                if time.monotonic() > deadline:
                    raise _TooSlow()
            return Response(url=str(response.url), status=response.status_code, body=bytes(body),
                             headers={key.lower(): value for key, value in response.headers.items()})


_RETRIED_STATUSES = (429, 500, 502, 503, 504)


class _TooSlow(Exception):
    """A response still arriving after the timeout (a server that drips bytes)."""


def _retry_after(response: Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() and int(value) <= 60 else None
