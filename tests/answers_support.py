"""Shared, built-once indexes for the answer tests (retrieval, answer, service, evaluation).

Plain functions with a cache rather than fixtures, because the web helper owns
conftest.py: test modules wrap them in their own fixtures. Each index is built
once per test session in a temporary folder, with one loaded model.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from assistant.records import Document

ROOT = Path(__file__).resolve().parent.parent
_WORK = Path(tempfile.mkdtemp(prefix="conflict-qa-answers-"))
atexit.register(shutil.rmtree, _WORK, ignore_errors=True)

NEWS = (
    Document(id="gaza-school-0118", title="Gaza war > Airstrike on a school", source="Reuters; Al Jazeera",
             url="https://example.org/gaza-school-18", published="2025-01-18",
             text="An Israeli airstrike on a school sheltering displaced families in Gaza City killed 12 people, "
                  "the civil defence agency said. The army said it targeted a command centre."),
    Document(id="gaza-school-0120", title="Gaza war > Airstrike on a school", source="AP",
             url="https://example.org/gaza-school-20", published="2025-01-20",
             text="An Israeli airstrike on a school sheltering displaced families in Gaza City killed at least "
                  "15 people, medics said. Rescuers searched the rubble for survivors."),
    Document(id="sumy-reuters", title="Russian invasion of Ukraine > Sumy strikes", source="Reuters",
             url="https://example.org/sumy-reuters", published="2025-03-02",
             text="A Russian missile strike on the city of Sumy killed nine people and wounded 30 others. "
                  "Ukraine's president called for more air defence."),
    Document(id="sumy-ap", title="Russian invasion of Ukraine > Sumy strikes", source="AP",
             url="https://example.org/sumy-ap", published="2025-03-02",
             text="A Russian missile strike on the city of Sumy killed nine people and wounded 30 others. "
                  "Emergency services said the search had ended."),
    Document(id="port-sudan", title="Sudanese civil war > Port Sudan drone strikes", source="BBC News",
             url="https://example.org/port-sudan", published="2025-05-06",
             text="Drone attacks on Port Sudan set the city's main fuel depot on fire. "
                  "The army blamed the Rapid Support Forces for the attack."),
    Document(id="goma", title="Kivu conflict > Fall of Goma", source="France 24", url=None,
             published="2025-01-27",
             text="M23 rebels backed by Rwanda entered the centre of Goma, the largest city in eastern Congo. "
                  "He said the rebels had taken the airport."),
)


@lru_cache(maxsize=1)
def embedder():
    from assistant.index.embedding import load_embedder
    from assistant.settings import DEFAULT_MODEL

    return load_embedder(DEFAULT_MODEL)


def build(name: str, documents) -> Path:
    from assistant.index.build import build_index
    from assistant.settings import Settings

    index_dir = _WORK / name
    build_index(tuple(documents), settings=Settings(index_dir=index_dir), embedder=embedder())
    return index_dir


@lru_cache(maxsize=None)
def seed_service():
    """A QAService over the seed JURIST article alone (corpus/ also ships the 3,276-item archive)."""
    from assistant.ingest.corpus import load_corpus
    from assistant.service import QAService
    from assistant.settings import Settings

    documents = load_corpus([ROOT / "corpus" / "jurist-2023-12-belgorod-cluster-munitions.md"]).documents
    return QAService(Settings(index_dir=build("seed", documents)), embedder=embedder())


@lru_cache(maxsize=None)
def news_service():
    """A QAService over the six short `NEWS` reports (several outlets and dates, one duplicate)."""
    from assistant.service import QAService
    from assistant.settings import Settings

    return QAService(Settings(index_dir=build("news", NEWS)), embedder=embedder())
