"""Reading evaluation sets: SQuAD JSON (v1.1 and v2.0) and question JSONL files.

A SQuAD file gives both a corpus (one `Document` per paragraph, the article
title as its source) and questions with gold answers. A JSONL file gives only
questions, asked against an existing index; an empty `answers` list means the
corpus should not answer and the assistant should abstain.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from assistant.records import Document


class EvalDataError(ValueError):
    """An evaluation file that cannot be read; the message is one line."""


@dataclass(frozen=True, kw_only=True)
class EvalQuestion:
    """One question with its gold answers; no answers means "should abstain".

    `doc_id` is the paragraph the question was written on (SQuAD only), and
    `article` the index of its article in the file (used for tuning/holdout halves).
    `record` is the corpus item a JSONL question was written from (its `record`
    field), whose topic (`evaluation.topic_of`) the extra quotes are compared with.
    """

    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None = None
    article: int = 0
    record: str | None = None


@dataclass(frozen=True, kw_only=True)
class SquadSet:
    """A SQuAD file as documents (paragraphs) plus questions."""

    documents: tuple[Document, ...]
    questions: tuple[EvalQuestion, ...]


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def is_squad_file(path: Path) -> bool:
    """True for `.json`/`.json.gz` files (SQuAD), False for JSONL question files."""
    name = path.name.lower()
    return name.endswith(".json") or name.endswith(".json.gz")


def paragraph_id(title: str, context: str) -> str:
    """Deterministic document id of a SQuAD paragraph: `squad-` + 16 hex of SHA-256(title, text)."""
    digest = hashlib.sha256(f"{title}\n{context}".encode("utf-8")).hexdigest()
    return f"squad-{digest[:16]}"


def load_squad(path: Path) -> SquadSet:
    """Documents and questions of a SQuAD v1.1/v2.0 JSON file (optionally gzipped).

    Titles lose their underscores ("Super_Bowl_50" -> "Super Bowl 50") and
    become both `title` and `source`. v2.0 questions marked `is_impossible`
    get no answers. Paragraphs appearing twice become one document.
    """
    try:
        with _open_text(path) as handle:
            payload = json.load(handle)
        articles = payload["data"]
    except FileNotFoundError:
        raise EvalDataError(f"{path}: no such file") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise EvalDataError(f"{path}: not a SQuAD JSON file ({error})") from None
    documents: dict[str, Document] = {}
    questions: list[EvalQuestion] = []
    for article_index, article in enumerate(articles):
        title = str(article.get("title", f"article {article_index}")).replace("_", " ")
        for paragraph in article.get("paragraphs", []):
            context = paragraph["context"]
            doc_id = paragraph_id(title, context)
            documents.setdefault(doc_id, Document(
                id=doc_id, text=context, title=title, source=title,
                origin=f"{path.name}#{article_index}",
            ))
            for qa in paragraph.get("qas", []):
                answers = () if qa.get("is_impossible") else tuple(
                    dict.fromkeys(answer["text"] for answer in qa.get("answers", []))
                )
                questions.append(EvalQuestion(
                    id=str(qa.get("id", len(questions))), question=qa["question"],
                    answers=answers, doc_id=doc_id, article=article_index,
                ))
    return SquadSet(documents=tuple(documents.values()), questions=tuple(questions))


def load_question_file(path: Path) -> tuple[EvalQuestion, ...]:
    """Questions of a JSONL file: `{"question": ..., "answers": [...]}` per line.

    Blank lines and lines starting with `#` are skipped. A missing `answers`
    key is an error (write `[]` for questions that should be declined).
    """
    questions: list[EvalQuestion] = []
    try:
        with _open_text(path) as handle:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                try:
                    record = json.loads(line)
                    question = record["question"]
                    answers = record["answers"]
                except (ValueError, KeyError, TypeError):
                    raise EvalDataError(
                        f"{path}:{line_number}: expected {{\"question\": ..., \"answers\": [...]}}"
                    ) from None
                if not isinstance(question, str) or not isinstance(answers, list):
                    raise EvalDataError(f"{path}:{line_number}: question must be text, answers a list")
                questions.append(EvalQuestion(
                    id=str(record.get("id", line_number)), question=question,
                    answers=tuple(str(answer) for answer in answers), article=line_number,
                    record=str(record["record"]) if record.get("record") else None,
                ))
    except FileNotFoundError:
        raise EvalDataError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise EvalDataError(f"{path}: cannot read ({error})") from None
    return tuple(questions)
