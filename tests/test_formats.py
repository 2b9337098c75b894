"""Published formats, each recognised by content and read into documents with its provenance."""

import gzip
import json
from pathlib import Path

import pytest

from assistant.ingest.corpus import load_corpus

UCDP_CAR = Path("/work/shared/data/conflict-news/ucdp_ged_v23_1_central_african_republic.jsonl.gz")

RSS_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Kyiv Independent</title>
  <link>https://kyivindependent.com</link>
  <description>News from Ukraine</description>
  <copyright>© Kyiv Independent</copyright>
  <item>
    <title>Russian strike on Kharkiv kills 7</title>
    <link>https://kyivindependent.com/russian-strike-on-kharkiv-kills-7/?utm_source=rss</link>
    <guid isPermaLink="false">kyiv-123456</guid>
    <pubDate>Fri, 05 Jan 2024 23:30:00 -0500</pubDate>
    <dc:creator>Olena Harmash</dc:creator>
    <category>Kharkiv</category>
    <description><![CDATA[<p>A short teaser.</p>]]></description>
    <content:encoded><![CDATA[<p>A Russian missile strike on <b>Kharkiv</b> killed seven people on Friday, Governor Oleh Syniehubov said.</p>
<p>Rescuers were still searching the rubble.</p><script>track()</script>]]></content:encoded>
  </item>
  <item>
    <title>Evacuations continue in Kupiansk</title>
    <link>https://kyivindependent.com/evacuations-kupiansk/</link>
    <pubDate>Sat, 06 Jan 2024 08:00:00 +0000</pubDate>
  </item>
</channel>
</rss>
"""

ATOM_FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>UN News - Peace and Security</title>
  <id>tag:news.un.org,2024:peace</id>
  <updated>2024-02-01T12:00:00Z</updated>
  <entry>
    <title>Sudan: Fighting in El Fasher displaces thousands</title>
    <link rel="alternate" href="https://news.un.org/en/story/2024/02/1145678"/>
    <id>tag:news.un.org,2024:1145678</id>
    <published>2024-02-01T10:15:00Z</published>
    <author><name>UN News</name></author>
    <summary type="html">&lt;p&gt;Heavy fighting in El Fasher has displaced more than 20,000 people in a week, OCHA said.&lt;/p&gt;</summary>
  </entry>
</feed>
"""

RELIEFWEB = {
    "time": 21, "href": "https://api.reliefweb.int/v1/reports?appname=conflict-qa", "totalCount": 2, "count": 2,
    "data": [
        {"id": "4034567", "score": 1, "href": "https://api.reliefweb.int/v1/reports/4034567",
         "fields": {"id": 4034567, "title": "Sudan: Humanitarian Update (10 January 2024)",
                    "body": "Clashes in Wad Madani have displaced about 300,000 people since 15 December.\n\n"
                            "Humanitarian partners report shortages of fuel and medicine.",
                    "date": {"original": "2024-01-10T00:00:00+00:00", "created": "2024-01-11T08:12:00+00:00"},
                    "source": [{"name": "UN Office for the Coordination of Humanitarian Affairs", "shortname": "OCHA"}],
                    "country": [{"name": "South Sudan", "iso3": "ssd"}, {"name": "Sudan", "iso3": "sdn", "primary": True}],
                    "language": [{"code": "en", "name": "English"}],
                    "url": "https://reliefweb.int/node/4034567",
                    "url_alias": "https://reliefweb.int/report/sudan/sudan-humanitarian-update-10-january-2024"}},
        {"id": "4034600", "fields": {"id": 4034600, "title": "Rapport de situation, Bangui",
                                      "body-html": "<p>Des affrontements ont fait <strong>12 morts</strong> à Bangui.</p>",
                                      "date": {"created": "2024-01-12T09:00:00+00:00"},
                                      "source": [{"name": "MINUSCA"}], "country": [{"name": "Central African Republic"}],
                                      "url": "https://reliefweb.int/node/4034600"}},
    ],
}

GDELT = {"articles": [
    {"url": "https://www.reuters.com/world/africa/sudan-army-says-it-retook-omdurman-2024-03-12/",
     "url_mobile": "", "title": "Sudan army says it retook Omdurman state broadcaster",
     "seendate": "20240312T101500Z", "socialimage": "", "domain": "reuters.com",
     "language": "English", "sourcecountry": "United States"},
    {"url": "https://www.aljazeera.com/news/2024/3/12/sudan-omdurman", "title": "",
     "seendate": "20240312T110000Z", "domain": "aljazeera.com", "language": "English",
     "sourcecountry": "Qatar"},
]}

ACLED_CSV = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,"
    "assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,"
    "admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,"
    "tags,timestamp\n"
    'CAF9876,2024-01-12,2024,1,Political violence,Violence against civilians,Attack,3R: Return Reclamation '
    'and Rehabilitation,,2,Civilians (Central African Republic),,7,27,Civilian targeting,140,Middle Africa,'
    'Central African Republic,Ouham-Pende,Bocaranga,,Koui,6.9167,15.9333,1,Radio Ndeke Luka; Corbeaunews,'
    'National,"On 12 January 2024, 3R combatants attacked the village of Koui (Ouham-Pende), killing 4 '
    'civilians and burning several houses.",4,,1705420800\n'
    "CAF9877,2024-01-13,2024,2,Demonstrations,Protests,Peaceful protest,Protesters (Central African Republic),"
    ",6,,,0,60,,140,Middle Africa,Central African Republic,Bangui,Bangui,,Bangui,4.3612,18.5550,1,"
    "Oubangui Medias,National,,0,,1705420800\n"
)

UCDP_CSV = (
    "id,relid,year,type_of_violence,conflict_name,side_a,side_b,source_article,source_headline,"
    "where_description,adm_1,adm_2,country,date_prec,date_start,date_end,deaths_a,deaths_b,deaths_civilians,"
    "deaths_unknown,best,high,low\n"
    "451234,SDN-2023-1-1,2023,1,Sudan: Government,Government of Sudan,RSF,"
    "\"Reuters,2023-04-16,Sudan clashes kill dozens; Sudan Tribune,2023-04-17\",Sudan clashes kill dozens,"
    "Khartoum town,Khartoum state,,Sudan,1,2023-04-15,2023-04-15,2,5,5,0,12,15,10\n"
)


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def by_id(load):
    return {document.id: document for document in load.documents}


def test_rss_entries_cleaned_and_attributed_to_the_feed(tmp_path):
    load = load_corpus([write(tmp_path / "kyiv.xml", RSS_FEED)])
    assert load.problems == ()
    strike, evacuations = load.documents
    assert strike.text == ("A Russian missile strike on Kharkiv killed seven people on Friday, Governor "
                           "Oleh Syniehubov said.\nRescuers were still searching the rubble.")
    assert "track()" not in strike.text and "<" not in strike.text
    assert (strike.title, strike.source, strike.author, strike.published) == (
        "Russian strike on Kharkiv kills 7", "Kyiv Independent", "Olena Harmash", "2024-01-05")
    assert strike.publisher == "Kyiv Independent"
    assert strike.license == "© Kyiv Independent"
    assert strike.metadata["original_id"] == "kyiv-123456"
    assert strike.metadata["kind"] == "report" and strike.metadata["format"] == "rss"
    # An entry with only a title is kept as a headline, not passed off as an article.
    assert evacuations.text == "Evacuations continue in Kupiansk"
    assert evacuations.metadata["kind"] == "headline"


def test_feed_is_recognised_by_content_whatever_its_name(tmp_path):
    write(tmp_path / "a" / "feed.txt", ATOM_FEED)
    (document,) = load_corpus([tmp_path / "a"]).documents
    assert document.title == "Sudan: Fighting in El Fasher displaces thousands"
    assert document.text == ("Heavy fighting in El Fasher has displaced more than 20,000 people in a "
                             "week, OCHA said.")
    assert (document.source, document.published, document.metadata["format"]) == (
        "UN News - Peace and Security", "2024-02-01", "atom")
    assert document.url == "https://news.un.org/en/story/2024/02/1145678"


def test_reimporting_a_feed_keeps_the_same_ids(tmp_path):
    first = [d.id for d in load_corpus([write(tmp_path / "one.rss", RSS_FEED)]).documents]
    second = [d.id for d in load_corpus([write(tmp_path / "two" / "again.xml", RSS_FEED)]).documents]
    assert first == second and len(set(first)) == 2


def test_malformed_feed_is_one_problem_and_the_rest_loads(tmp_path):
    write(tmp_path / "broken.xml", "<rss version='2.0'><channel><title>X</title><item><title>oops")
    write(tmp_path / "ok.md", "# Fine\n\nShelling killed 3 people in Donetsk.")
    load = load_corpus([tmp_path])
    assert [d.id for d in load.documents] == ["ok.md"]
    (problem,) = load.problems
    assert str(problem).startswith(f"{tmp_path / 'broken.xml'}: malformed feed")


def test_reliefweb_reports(tmp_path):
    load = load_corpus([write(tmp_path / "reliefweb.json", json.dumps(RELIEFWEB))])
    assert load.problems == ()
    docs = by_id(load)
    update = docs["reliefweb-4034567"]
    assert update.text.startswith("Clashes in Wad Madani have displaced about 300,000 people")
    assert update.published == "2024-01-10"  # date.original, not the later date.created
    assert update.source == "UN Office for the Coordination of Humanitarian Affairs"
    assert update.url == "https://reliefweb.int/report/sudan/sudan-humanitarian-update-10-january-2024"
    assert update.metadata["countries"] == ["Sudan", "South Sudan"]
    bangui = docs["reliefweb-4034600"]
    assert bangui.text == "Des affrontements ont fait 12 morts à Bangui."
    assert bangui.published == "2024-01-12" and bangui.source == "MINUSCA"


def test_gdelt_article_list_keeps_headlines_and_skips_untitled(tmp_path):
    load = load_corpus([write(tmp_path / "gdelt.json", json.dumps(GDELT))])
    (document,) = load.documents
    assert document.text == "Sudan army says it retook Omdurman state broadcaster"
    assert (document.source, document.published) == ("reuters.com", "2024-03-12")
    assert document.metadata["kind"] == "headline"
    assert document.metadata["source_country"] == "United States"
    assert document.id.startswith("url-")
    (problem,) = load.problems
    assert problem.line == 2 and "without a title" in problem.reason


def test_acled_notes_are_quoted_as_acled_citing_its_sources(tmp_path):
    load = load_corpus([write(tmp_path / "export.csv", ACLED_CSV)])
    (event,) = load.documents
    assert event.id == "acled-CAF9876"
    assert event.text.startswith("On 12 January 2024, 3R combatants attacked the village of Koui")
    assert event.source == "ACLED" and event.publisher == "ACLED"
    assert [cited.name for cited in event.cites] == ["Radio Ndeke Luka", "Corbeaunews"]
    coded = event.metadata["event"]
    assert (coded["date_start"], coded["date_precision"], coded["country"], coded["admin1"], coded["place"]) == (
        "2024-01-12", 1, "Central African Republic", "Ouham-Pende", "Koui")
    assert coded["fatalities"] == {"reported": 4}
    assert event.published == "2024-01-16"  # the upload timestamp, not the event date
    (problem,) = load.problems
    assert problem.line == 3 and "CAF9877 without notes" in problem.reason


def test_ucdp_event_is_a_labelled_data_row_with_estimates(tmp_path):
    (event,) = load_corpus([write(tmp_path / "ged.csv", UCDP_CSV)]).documents
    assert event.id == "ucdp-ged-451234"
    assert event.metadata["kind"] == "coded-event"
    assert "data, not a quote" in event.title and event.source == "UCDP GED (coded data)"
    assert " · people killed: best 12 (low 10, high 15) · " in event.text
    assert " · sides: Government of Sudan vs RSF (Sudan: Government) · " in event.text
    assert " · place: Khartoum town, Khartoum state, Sudan · " in event.text
    assert "\n" not in event.text
    assert event.published is None
    assert event.metadata["event"]["fatalities"]["best"] == 12
    assert event.metadata["event"]["date_precision"] == 1
    assert [cited.name for cited in event.cites] == ["Reuters,2023-04-16,Sudan clashes kill dozens",
                                                            "Sudan Tribune,2023-04-17"]


def test_ucdp_api_json_and_geojson_shapes(tmp_path):
    row = {"id": 7, "date_start": "2020-05-01", "date_end": "2020-05-03", "date_prec": 2, "side_a": "A",
           "side_b": "B", "best": 3, "low": 2, "high": 4, "where_description": "Ndele", "country": "Central African Republic"}
    write(tmp_path / "api.json", json.dumps({"TotalCount": 1, "Result": [row]}))
    write(tmp_path / "geo.geojson.json", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": None, "properties": {**row, "id": 8}}]}))
    docs = by_id(load_corpus([tmp_path]))
    assert set(docs) == {"ucdp-ged-7", "ucdp-ged-8"}
    assert " · dates: 2020-05-01 to 2020-05-03 (within 2-6 days) · " in docs["ucdp-ged-7"].text


def test_shared_ucdp_car_file_loads_every_event():
    load = load_corpus([UCDP_CAR])
    assert load.problems == ()
    assert len(load.documents) == 1848
    assert len({d.id for d in load.documents}) == 1848
    with gzip.open(UCDP_CAR, "rt", encoding="utf-8") as handle:
        first = json.loads(handle.readline())
    document = load.documents[0]
    assert document.id == f"ucdp-ged-{first['id']}"
    fatalities = document.metadata["event"]["fatalities"]
    assert (fatalities["best"], fatalities["low"], fatalities["high"]) == (first["best"], first["low"], first["high"])
    assert all(d.metadata["event"]["country"] == "Central African Republic" for d in load.documents)


@pytest.mark.parametrize("name", ["data.json", "data.csv"])
def test_unrecognised_json_or_csv_is_reported(tmp_path, name):
    write(tmp_path / name, '{"hello": 1}' if name.endswith(".json") else "a,b\n1,2\n")
    load = load_corpus([tmp_path])
    assert load.documents == ()
    (problem,) = load.problems
    assert "not a recognised format" in problem.reason
