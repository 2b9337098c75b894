"""Country and event-date filters over the coded fields that feeds and data sets carry.

A document's countries are its `countries` metadata (ReliefWeb, ACLED, UCDP) and its
coded `event.country`; its event dates are the coded `event.date_start`..`date_end`
(ACLED, UCDP), else its publication date, the latest day a report's events can be on.
A document with no country, or no date at all, is excluded as soon as that filter is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np


def event_mask(documents: Sequence[Any], *, countries: Sequence[str] = (),
               event_since: dt.date | None = None, event_until: dt.date | None = None) -> np.ndarray:
    """True for each document that is about one of `countries` (case-insensitive, any of) and
    whose event dates overlap [event_since, event_until] (both ends included)."""
    wanted = {country.strip().casefold() for country in countries if country.strip()}
    mask = np.ones(len(documents), dtype=bool)
    for position, document in enumerate(documents):
        metadata = document.metadata
        event = metadata.get("event") if isinstance(metadata.get("event"), dict) else {}
        if wanted:
            names = [*(metadata.get("countries") or []), event.get("country")]
            if not any(isinstance(name, str) and name.casefold() in wanted for name in names):
                mask[position] = False
                continue
        if event_since is not None or event_until is not None:
            start = _day(event.get("date_start")) or _day(document.published)
            end = _day(event.get("date_end")) or start
            if start is None or (event_since is not None and end < event_since) or (
                    event_until is not None and start > event_until):
                mask[position] = False
    return mask


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
