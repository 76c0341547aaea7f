"""The dashboard's and overlay's words, one JSON catalogue per language (``en.json`` is the
reference: every other catalogue has exactly its keys), and locale-aware money and time
formatting on the server through Babel."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache, partial
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
    return _fill(catalogue(language).get(key) or catalogue(DEFAULT)[key], values)


def _fill(entry: Entry, values: dict[str, object]) -> str:
    if isinstance(entry, dict):  # en and de: "one" for exactly 1, else "other"
        entry = entry["one"] if values.get("count") == 1 and "one" in entry else entry["other"]
    return entry.format(**values) if values else entry


Words = Callable[..., str]  # words(key, **values) in one language


def words_in(language: str, only: str = "") -> Words:
    """``translate`` bound to ``language`` (English for a language with no catalogue). With
    ``only`` (a key prefix such as ``"overlay."``), just those words are kept in memory:
    the PC agent needs a few dozen of the dashboard's hundreds."""
    code = language if language in LANGUAGES else DEFAULT
    if not only:
        return partial(translate, code)
    kept = [_only(name, only) for name in dict.fromkeys((code, DEFAULT))]

    def words(key: str, /, **values: object) -> str:
        entry = next((found[key] for found in kept if key in found), None)
        if entry is None:
            raise KeyError(key)
        return _fill(entry, values)

    return words


def _only(language: str, prefix: str) -> dict[str, Entry]:
    words: dict[str, Entry] = json.loads((HERE / f"{language}.json").read_text("utf-8"))
    return {key: entry for key, entry in words.items() if key.startswith(prefix)}
