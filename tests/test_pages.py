"""The source viewer says when a fetched report was fetched, from where, and where else it was seen."""

from assistant.records import Document
from assistant.web.pages import source_page


def fetched_document(**metadata) -> Document:
    return Document(id="url-1", text="Shelling killed 3 people in Donetsk.", title="Donetsk shelling",
                    source="Local Wire", url="https://wire.example/donetsk", published="2024-01-05",
                    metadata=metadata)


def test_fetched_report_shows_when_and_from_which_feed():
    page = source_page(fetched_document(
        fetched="2024-01-05T20:15:00Z", fetched_from="https://wire.example/feed.xml",
        seen_in=[{"feed": "https://wire.example/feed.xml", "url": "https://wire.example/donetsk"},
                 {"feed": "https://partner.example/rss", "url": "https://partner.example/copy"},
                 {"feed": "x", "url": "javascript:alert(1)"}]), None, None)
    assert ('Fetched 2024-01-05 20:15:00 UTC from <a href="https://wire.example/feed.xml"' in page)
    assert 'Also seen at: <a href="https://partner.example/copy"' in page
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page  # shown as text, not a link


def test_hand_made_documents_show_no_fetch_line_and_coded_events_are_labelled():
    assert "Fetched" not in source_page(fetched_document(), None, None)
    page = source_page(fetched_document(kind="coded-event"), None, None)
    assert "coded event from a data set, not a report" in page
