"""The dashboard's and overlay's words, one JSON catalogue per language (``en.json`` is the
reference: every other catalogue has exactly its keys), and locale-aware money and time
formatting on the server through Babel."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
DEFAULT = "en"
LANGUAGES: tuple[str, ...] = tuple(sorted(p.stem for p in HERE.glob("*.json")))
NAMES = {"en": "English", "de": "Deutsch"}


@cache
def catalogue(language: str) -> dict[str, str]:
    """The catalogue of ``language`` (one of ``LANGUAGES``)."""
    if language not in LANGUAGES:
        raise KeyError(language)
    words: dict[str, str] = json.loads((HERE / f"{language}.json").read_text("utf-8"))
    return words


def translate(language: str, key: str, **values: object) -> str:
    """``key`` in ``language`` (English when it has none), ``{name}`` filled from ``values``."""
    text = catalogue(language).get(key) or catalogue(DEFAULT)[key]
    return text.format(**values) if values else text
