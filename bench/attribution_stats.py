"""Attribution over a corpus: publishers, licenses, cited outlets before and after normalisation.

    PYTHONPATH=$PWD .venv/bin/python bench/attribution_stats.py [CORPUS ...]

Default corpus: the shared conflict-news archive. Prints how many documents name a
publisher other than their source, how many cite reports, how many have a page that
holds their words (where a text-fragment link may point), and how many distinct outlet
names the citations use as given and after `assistant.ingest.outlets` folds spellings.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from assistant.ingest.corpus import load_corpus
from assistant.ingest.outlets import cited_outlets, corpus_credits, outlet_choices, outlets_named

DEFAULT = Path("/work/shared/data/conflict-news/conflict_news.jsonl.gz")


def main(paths: list[Path]) -> None:
    documents = load_corpus(paths or [DEFAULT]).documents
    given = Counter(cite.name for document in documents for cite in document.cites)
    cited = {outlet for document in documents for report in cited_outlets(document.cites)
             for outlet in outlets_named(report.name)}
    print(f"documents:                              {len(documents):,}")
    print(f"published by someone other than source: {sum(d.publisher != d.source for d in documents):,}")
    print(f"citing at least one report:             {sum(bool(d.cites) for d in documents):,}")
    print(f"citing more than one outlet:            {sum(len(d.cites) > 1 for d in documents):,}")
    print(f"with a page holding the words:          {sum(bool(d.attribution.publisher_url) for d in documents):,}")
    print(f"  of which the url field is that page:  "
          f"{sum(d.attribution.publisher_url == d.url for d in documents):,}")
    print(f"cited outlet names as given:            {len(given):,}")
    print(f"outlets after normalisation (picker):   {len(outlet_choices(documents)):,}")
    print(f"cited outlets after normalisation:      {len(cited):,}")
    print("credits:")
    for credit in corpus_credits(documents):
        print(f"  {credit.documents:6,}  {credit.publisher}: {credit.license or 'license not stated'}")


if __name__ == "__main__":
    main([Path(arg) for arg in sys.argv[1:]])
