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


# An entry is a text, or plural forms ({"one": ..., "other": ...}) picked by ``count``.
Entry = str | dict[str, str]


@cache
def catalogue(language: str) -> dict[str, Entry]:
    """The catalogue of ``language`` (one of ``LANGUAGES``)."""
    if language not in LANGUAGES:
        raise KeyError(language)
    words: dict[str, Entry] = json.loads((HERE / f"{language}.json").read_text("utf-8"))
    return words


def translate(language: str, key: str, /, **values: object) -> str:
    """``key`` in ``language`` (English when it has none), ``{name}`` filled from ``values``."""
    entry = catalogue(language).get(key) or catalogue(DEFAULT)[key]
    if isinstance(entry, dict):  # en and de: "one" for exactly 1, else "other"
        entry = entry["one"] if values.get("count") == 1 and "one" in entry else entry["other"]
    return entry.format(**values) if values else entry
