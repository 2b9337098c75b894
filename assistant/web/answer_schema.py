"""The answer JSON explained for /docs: every field, and an example response made by the real encoder.

The example is `citations.answer_to_json` applied to one quote of the seed JURIST
article (corpus/jurist-2023-12-belgorod-cluster-munitions.md), so the page can never
show a shape the API does not return.
"""

from __future__ import annotations

import json

from assistant.answers.citations import answer_to_json
from assistant.answers.figures import find_figures
from assistant.records import Answer, Quote

ANSWER_FIELDS = (
    ("question", "string", "The question as asked (cleaned of surrounding space)."),
    ("answered", "boolean", "True when quotes answer it; false: the corpus does not answer, see message."),
    ("message", "string | null", "Why there are no quotes (only when answered is false)."),
    ("quotes", "array", "Verbatim sentences answering the question, best first (fields below)."),
    ("nearest", "array", "When not answered: the closest sentences, which do NOT answer (same fields)."),
    ("nearest_label", "string | null", "The label to show above nearest."),
    ("sources", "array", "Each cited document once: marker(s), outlet, title, date, link."),
    ("comparison", "array", "Casualty figures grouped by outlet and date, when quotes come from several."),
    ("comparison_note", "string | null", "Caution to show with comparison: figures may be different events."),
    ("elapsed_ms", "number", "Time the server took to answer."),
    ("page", "int", "The page of quotes (parameter page, default 1); markers continue from the earlier pages."),
    ("more", "boolean", "True when page + 1 has further quotes that pass the same tests; false: "
                        "none left (a page past the last has no quotes and says so in message)."),
    ("sort", "string", "The order asked for: 'relevance' (default), 'date' (newest first), 'date-asc'."),
)
QUOTE_FIELDS = (
    ("text", "string", "The quoted words: exactly document.text[start:end]."),
    ("doc_id, start, end", "string, int, int", "The stored document and the character offsets of the quote."),
    ("title, source, published", "string", "The document's title, outlet(s) and ISO publication date."),
    ("url, link", "string | null", "The original article; link adds a text fragment highlighting the sentence."),
    ("context_before, context_after", "string", "The sentences around the quote, for attribution."),
    ("figures", "array", "Casualty figures in the quote: value, category, text, offsets into text."),
    ("also_in", "array", "Other documents with the same wording within 3 days."),
    ("marker", "int", "The citation number shown as [marker]."),
    ("score", "number", "Ranking score (higher is better); not a probability."),
)

_SEED_TEXT = ("Russia accused Ukraine on Saturday of using internationally prohibited cluster munitions in "
              "strikes on the city of Belgorod in Russia. The country’s Permanent Representative the UN "
              "Security Council called the strikes “indiscriminate” and said they killed 18 people, including "
              "three children, in addition to injuring 108 others.")


def example_response() -> dict:
    """The JSON /api/ask returns for "How many people were killed in Belgorod?" on the seed article."""
    start = _SEED_TEXT.index("The country’s")
    text = _SEED_TEXT[start:]
    quote = Quote(text=text, doc_id="jurist-2023-12-belgorod-cluster-munitions",
                  title="Russia accuses Ukraine of using cluster munitions in Belgorod strikes", source="JURIST",
                  url=("https://jurist.org/news/2023/12/"
                       "russia-accuses-ukraine-of-using-cluster-munitions-in-belgorod-strikes"),
                  published="2023-12-31", start=start, end=len(_SEED_TEXT), score=2.91,
                  context_before=_SEED_TEXT[:start].strip(), figures=find_figures(text), marker=1)
    return answer_to_json(Answer(question="How many people were killed in Belgorod?", answered=True,
                                 quotes=(quote,), elapsed_ms=212.4))


def answer_schema_html(esc) -> str:
    """The /docs section: the answer fields, the quote fields and the example response."""
    def table(rows):
        body = "".join(f"<tr><td><code>{esc(name)}</code></td><td>{esc(kind)}</td><td>{esc(meaning)}</td></tr>"
                       for name, kind, meaning in rows)
        return f"<table><tr><th>field</th><th>type</th><th>meaning</th></tr>{body}</table>"
    example = json.dumps(example_response(), ensure_ascii=False, indent=2)
    return ('<section id="answer-schema"><h2>The answer (200 response of /api/ask)</h2>'
            f"{table(ANSWER_FIELDS)}<h3>Each quote</h3>{table(QUOTE_FIELDS)}"
            f'<h3>Example response</h3><pre class="example" tabindex="0" aria-label="Example response">{esc(example)}</pre></section>')
