"""Which language a text is in, and which languages an embedding model understands.

Detection is py3langid (a maintained fork of langid.py: 140 languages, naive Bayes
over byte n-grams, no network). Its model takes about 3 s to load on this
machine, so it is loaded once, on first use, and `warm_up` can start that in a
background thread.

Short texts are where detectors go wrong, and a wrong "this is not English" on an
English question would refuse a fair question, so `question_language` only names
another language when the evidence is strong: the letters are in a script that
only other languages use (Cyrillic, Arabic, Hebrew, Han, ...), or, for Latin
script, py3langid gives another language a normalised probability of at least
`LATIN_QUESTION_CONFIDENCE` on a question of at least `LATIN_QUESTION_WORDS` words.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import Counter
from typing import Any

DETECTION_CHARS = 4000
"""Characters of a document given to the detector: its opening says the language, and
the cost stays flat however long the document is."""
LATIN_QUESTION_CONFIDENCE = 0.9
UNLIKELY_QUESTION_LANGUAGES = frozenset({"la", "eo", "vo", "grc", "hbo"})
"""Labels that on an English question mean Latin or invented words in it ("What are malum prohibitum
considerations?" is "Latin" at 0.9+), not a reader asking in that language."""
LATIN_DOCUMENT_CONFIDENCE = 0.9
"""A Latin-script document is labelled other than English only at this normalised probability:
on the conflict-news corpus (3,276 English items) py3langid's top label was another language for
22 short items (18 "Nigerian Pidgin" for items about Nigeria), all below 0.9."""
LATIN_QUESTION_WORDS = 3

LANGUAGE_NAMES = {
    "af": "Afrikaans", "am": "Amharic", "ar": "Arabic", "ary": "Arabic", "arz": "Arabic",
    "az": "Azerbaijani", "be": "Belarusian", "bg": "Bulgarian", "bn": "Bengali", "bs": "Bosnian",
    "ca": "Catalan", "cs": "Czech", "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "eo": "Esperanto", "es": "Spanish", "et": "Estonian", "eu": "Basque",
    "fa": "Persian", "fi": "Finnish", "fr": "French", "ga": "Irish", "gl": "Galician",
    "gu": "Gujarati", "ha": "Hausa", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
    "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian", "is": "Icelandic", "it": "Italian",
    "ja": "Japanese", "ka": "Georgian", "kk": "Kazakh", "km": "Khmer", "kn": "Kannada",
    "ko": "Korean", "ku": "Kurdish", "ky": "Kyrgyz", "la": "Latin", "lt": "Lithuanian",
    "lv": "Latvian", "mk": "Macedonian", "ml": "Malayalam", "mn": "Mongolian", "mr": "Marathi",
    "ms": "Malay", "mt": "Maltese", "my": "Burmese", "ne": "Nepali", "nl": "Dutch",
    "nn": "Norwegian", "no": "Norwegian", "pa": "Punjabi", "pl": "Polish", "ps": "Pashto",
    "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sdh": "Kurdish", "si": "Sinhala",
    "sk": "Slovak", "sl": "Slovenian", "so": "Somali", "sq": "Albanian", "sr": "Serbian",
    "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "tg": "Tajik", "th": "Thai",
    "tk": "Turkmen", "tl": "Tagalog", "tr": "Turkish", "ug": "Uyghur", "uk": "Ukrainian",
    "ur": "Urdu", "uz": "Uzbek", "uzs": "Uzbek", "vi": "Vietnamese", "wuu": "Chinese",
    "yo": "Yoruba", "yue": "Chinese", "zh": "Chinese", "zu": "Zulu",
}
"""English names of py3langid's codes (the common ones; others are shown as the code)."""

CANONICAL_CODES = {"ary": "ar", "arz": "ar", "wuu": "zh", "yue": "zh", "uzs": "uz", "nn": "no", "sdh": "ku"}
"""py3langid labels folded into the language a reader would name (Egyptian Arabic is Arabic)."""

ALL_LANGUAGES = "all"

ENGLISH_ONLY_MODELS = (
    "all-minilm-l6-v2", "all-minilm-l12-v2", "all-mpnet-base-v2", "all-distilroberta-v1",
    "multi-qa-minilm-l6-cos-v1", "multi-qa-mpnet-base-dot-v1", "bge-small-en", "bge-base-en",
    "bge-large-en", "gte-small", "gte-base", "e5-small-v2", "e5-base-v2", "potion-base", "m2v_base_output",
)
"""Models known to be trained on English only (matched against the end of the model name,
lowercased); sentence-transformers' own model cards say so for the all-*/multi-qa-* family."""

MULTILINGUAL_MARKERS = ("multilingual", "labse", "xlm", "bge-m3", "distiluse-base-multilingual", "potion-multilingual")
"""Parts of a model name that mark a multilingual model (e.g. paraphrase-multilingual-MiniLM-L12-v2)."""

_IDENTIFIER: Any = None
_IDENTIFIER_LOCK = threading.Lock()


def _identifier() -> Any:
    global _IDENTIFIER
    with _IDENTIFIER_LOCK:
        if _IDENTIFIER is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _IDENTIFIER = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _IDENTIFIER


def warm_up() -> None:
    """Load the detector in a background thread, so the first question does not wait for it."""
    threading.Thread(target=_identifier, name="language-detector", daemon=True).start()


def language_name(code: str | None) -> str:
    """'uk' -> 'Ukrainian'; an unknown code is returned as it is."""
    return LANGUAGE_NAMES.get(code or "", code or "unknown")


def dominant_script(text: str) -> str | None:
    """The Unicode script of most letters in `text` (LATIN, CYRILLIC, ARABIC, HEBREW, CJK, ...)."""
    scripts: Counter[str] = Counter()
    for character in text:
        if character.isalpha():
            name = unicodedata.name(character, "")
            if name:
                scripts[name.split(" ", 1)[0]] += 1
    return scripts.most_common(1)[0][0] if scripts else None


_SCRIPT_LANGUAGE = {"HEBREW": "he", "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko", "THAI": "th",
                    "GEORGIAN": "ka", "ARMENIAN": "hy", "GREEK": "el"}
"""Scripts that name their language outright; the others (Cyrillic, Arabic, Han, ...) go to the detector."""


def detect_language(text: str) -> str | None:
    """The language of `text` as an ISO 639 code ('en', 'uk', 'ar', 'zh', ...), or None without letters.

    Only the first `DETECTION_CHARS` characters are read.
    """
    sample = text[:DETECTION_CHARS]
    script = dominant_script(sample)
    if script is None:
        return None
    if script in _SCRIPT_LANGUAGE:
        return _SCRIPT_LANGUAGE[script]
    code, probability = _identifier().classify(sample)
    if script == "CJK":
        return "ja" if code == "ja" else "zh"
    if script == "LATIN" and code != "en" and probability < LATIN_DOCUMENT_CONFIDENCE:
        return "en"
    return CANONICAL_CODES.get(code, code)


def question_language(question: str) -> str | None:
    """The question's language when it is surely not English, else None (English or unsure)."""
    script = dominant_script(question)
    if script is None:
        return None
    if script != "LATIN":
        return detect_language(question)
    if len(question.split()) < LATIN_QUESTION_WORDS:
        return None
    code, probability = _identifier().classify(question)
    if code == "en" or code in UNLIKELY_QUESTION_LANGUAGES or probability < LATIN_QUESTION_CONFIDENCE:
        return None
    return CANONICAL_CODES.get(code, code)


def parse_languages(value: str | None) -> frozenset[str] | None:
    """'en,fr' -> {'en', 'fr'}; 'all' or empty -> None (any language)."""
    codes = frozenset(part.strip().lower() for part in (value or "").split(",") if part.strip())
    return None if not codes or ALL_LANGUAGES in codes else codes


def model_languages(model_name: str) -> frozenset[str] | None:
    """The languages a model is known to cover: {'en'} for English-only models, None for any.

    A model this table does not know is taken to cover any language (a question is then
    answered as well as the model can); say otherwise with `--model-languages`.
    """
    name = model_name.strip().rstrip("/").lower()
    if any(marker in name for marker in MULTILINGUAL_MARKERS):
        return None
    if any(name.endswith(known) or name.rsplit("/", 1)[-1].startswith(known) for known in ENGLISH_ONLY_MODELS):
        return frozenset({"en"})
    return None


def uncovered_question_language(question: str, covered: frozenset[str] | None) -> str | None:
    """The question's language when the model does not cover it, else None."""
    if covered is None:
        return None
    language = question_language(question)
    if language is None or language in covered:
        return None
    return language


def language_advice(language: str, model_name: str) -> str:
    """The message for a question in a language the model does not cover."""
    return (f"The question looks like {language_name(language)}, which the embedding model "
            f"'{model_name}' does not cover: ask in English, or rebuild the index with a multilingual "
            "model (conflict-qa build --full --model paraphrase-multilingual-MiniLM-L12-v2).")
