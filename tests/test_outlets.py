"""Outlet names: one outlet per spelling family, "X via Y" for both, numbered duplicates folded."""

from __future__ import annotations

import json
from collections import defaultdict
from importlib import resources
from pathlib import Path

import pytest

from assistant.ingest.outlets import (
    cited_outlets, corpus_credits, display_name, document_outlets, outlet_choices, outlet_key, outlet_keys,
    outlets_named, publisher_name, read_aliases, split_outlets,
)
from assistant.records import CitedReport, Document

SHARED_NEWS = Path("/work/shared/data/conflict-news/conflict_news.jsonl.gz")


def doc(doc_id: str, *, source: str = "Reuters", publisher: str = "", cites: tuple[CitedReport, ...] = (),
        license: str | None = None) -> Document:
    return Document(id=doc_id, text="Text.", title="T", source=source, publisher=publisher or source,
                    cites=cites, license=license)


@pytest.mark.parametrize("source, outlets", [
    ("Reuters; Al Jazeera", ("Reuters", "Al Jazeera")),
    ("AP", ("AP",)),
    (" BBC News ;  ", ("BBC News",)),
])
def test_split_outlets(source, outlets):
    assert split_outlets(source) == outlets


@pytest.mark.parametrize("variants, shown", [
    (["France24", "France 24", "france 24", "FRANCE-24"], "France 24"),
    (["Al-Arabiya", "Al Arabiya", "al arabiya"], "Al Arabiya"),
    (["The Times of Israel", "Times of Israel"], "Times of Israel"),
    (["El Tiempo in Spanish", "El Tiempo"], "El Tiempo"),
    (["Türkiye Today", "Turkiye Today"], "Türkiye Today"),
])
def test_spelling_variants_are_one_outlet(variants, shown):
    assert {display_name(name) for name in variants} == {shown}
    assert len({outlet_keys([name]) for name in variants}) == 1  # one outlet for the source filter


def test_x_via_y_is_shown_normalised_and_counts_for_both():
    assert display_name("AFP via Al-Arabiya") == display_name("AFP via Al Arabiya") == "AFP via Al Arabiya"
    assert outlets_named("AFP via Al-Arabiya") == ("AFP", "Al Arabiya")
    assert outlets_named("AllAfrica in French via RFI") == ("AllAfrica", "RFI")


def test_numbered_duplicates_fold_into_their_outlet_with_both_links():
    cites = (CitedReport(name="SOHR", url="https://syriahr.com/a"),
             CitedReport(name="SOHR 2", url="https://syriahr.com/b"),
             CitedReport(name="Channel 12", url="https://mako.co.il/c"))
    outlets = cited_outlets(cites)
    assert [(o.name, o.urls) for o in outlets] == [
        ("SOHR", ("https://syriahr.com/a", "https://syriahr.com/b")),
        ("Channel 12", ("https://mako.co.il/c",)),  # a number that is part of the name stays
    ]
    assert document_outlets(doc("d", source="SOHR; SOHR 2", publisher="Wikipedia Portal:Current events",
                                cites=cites[:2])) == ("Wikipedia, Portal:Current events", "SOHR")


def test_a_document_counts_for_its_publisher_and_every_cited_outlet():
    item = doc("w", source="AFP via Al-Arabiya; France24", publisher="Wikipedia Portal:Current events",
               cites=(CitedReport(name="AFP via Al-Arabiya", url="https://a.example"),
                      CitedReport(name="France24", url="https://f.example")))
    assert document_outlets(item) == ("Wikipedia, Portal:Current events", "AFP", "Al Arabiya", "France 24")
    assert outlet_keys(["al-arabiya"]) <= {outlet_key(o) for o in document_outlets(item)}


def test_source_choices_list_each_outlet_once():
    documents = [doc("a", source="France24"), doc("b", source="France 24"),
                 doc("c", source="AP", cites=(CitedReport(name="AFP via Al Arabiya"),))]
    assert outlet_choices(documents) == ("AFP", "Al Arabiya", "AP", "France 24")


def test_the_alias_table_is_readable_package_data_a_user_can_extend():
    shipped = json.loads(resources.files("assistant.ingest").joinpath("outlet_aliases.json").read_text())
    assert "France 24" in shipped["outlets"]
    extended = dict(shipped, outlets={**shipped["outlets"], "Kyiv Independent": ["KI", "Kyiv Indy"]})
    aliases = read_aliases(json.dumps(extended))
    assert display_name("Kyiv Indy", aliases) == display_name("KI", aliases) == "Kyiv Independent"
    assert display_name("Kyiv Indy") == "Kyiv Indy"  # the shipped table does not know it


def test_publisher_is_shown_from_the_table_and_credits_count_documents():
    assert publisher_name("Wikipedia Portal:Current events") == "Wikipedia, Portal:Current events"
    documents = [doc("a", publisher="Wikipedia Portal:Current events", license="CC BY-SA 4.0"),
                 doc("b", publisher="Wikipedia, Portal:Current events", license="CC BY-SA 4.0"),
                 doc("c", source="Wikinews", license="CC BY 2.5"), doc("d", source="JURIST")]
    credits = [(c.publisher, c.license, c.documents) for c in corpus_credits(documents)]
    assert credits == [("Wikipedia, Portal:Current events", "CC BY-SA 4.0", 2),
                       ("JURIST", None, 1), ("Wikinews", "CC BY 2.5", 1)]


@pytest.mark.skipif(not SHARED_NEWS.exists(), reason="shared conflict-news data not on this machine")
def test_every_outlet_of_the_shared_corpus_has_one_shown_name():
    from assistant.ingest.corpus import load_corpus

    shown: dict[str, set[str]] = defaultdict(set)
    for document in load_corpus([SHARED_NEWS]).documents:
        for outlet in document_outlets(document):
            shown[outlet_key(outlet)].add(outlet)
    assert [names for names in shown.values() if len(names) > 1] == []
    assert not any(" via " in name or name.endswith(" 2") for names in shown.values() for name in names)
