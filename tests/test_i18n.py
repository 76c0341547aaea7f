"""The translation layer: every language has every word, with the same placeholders; every
key the dashboard uses exists; the server formats money and moments per language."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gameops import i18n
from gameops.i18n.formatting import moment, money

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "src" / "gameops" / "server" / "web"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# t("key"), tParts("key", ...), t('key') in templates; keys are dotted words.
USED = re.compile(r"""\bt(?:Parts)?\(\s*["']([a-z_]+\.[A-Za-z0-9_.]+)["']""")


def _placeholders(entry: i18n.Entry) -> set[str]:
    texts = entry.values() if isinstance(entry, dict) else [entry]
    return {name for text in texts for name in PLACEHOLDER.findall(text)} - {"count"}


def test_there_is_english_and_at_least_one_more_language() -> None:
    assert i18n.DEFAULT == "en" and "en" in i18n.LANGUAGES and len(i18n.LANGUAGES) >= 2


@pytest.mark.parametrize("language", [code for code in i18n.LANGUAGES if code != "en"])
def test_every_language_is_complete_with_the_same_placeholders(language: str) -> None:
    english, other = i18n.catalogue("en"), i18n.catalogue(language)
    assert sorted(set(english) - set(other)) == [], "missing"
    assert sorted(set(other) - set(english)) == [], "not in English"
    for key, entry in english.items():
        assert _placeholders(other[key]) == _placeholders(entry), key
        assert isinstance(other[key], dict) == isinstance(entry, dict), key
        assert other[key] != "", key


def test_every_key_the_dashboard_uses_has_words() -> None:
    sources = [*WEB.glob("static/js/**/*.js"), *WEB.glob("templates/*.html")]
    used = {key for path in sources for key in USED.findall(path.read_text("utf-8"))}
    assert len(used) > 150  # the pattern still finds them
    assert sorted(used - set(i18n.catalogue("en"))) == []


def test_every_word_the_agent_shows_exists() -> None:
    agent = ROOT / "src" / "gameops" / "agent"
    used = {
        key
        for path in agent.glob("*.py")
        for key in re.findall(r"\"(overlay\.[a-z_]+)\"", path.read_text("utf-8"))
    }
    assert len(used) >= 15
    assert sorted(used - set(i18n.catalogue("en"))) == []
    words = i18n.words_in("de", only="overlay.")
    assert words("overlay.minutes", count=2) == "2 Minuten"
    with pytest.raises(KeyError):
        words("floor.start")  # the agent keeps only its own words


def test_the_catalogues_are_served_to_the_browser() -> None:
    served = json.loads((ROOT / "src/gameops/i18n/de.json").read_text("utf-8"))
    assert served == i18n.catalogue("de")
    assert i18n.translate("de", "floor.count", count=1) == "1 Platz"
    assert i18n.translate("de", "floor.count", count=3) == "3 Plätze"
    assert i18n.translate("en", "error.too_long", duration="24 hours") == (
        "A session can be at most 24 hours."
    )


def test_money_and_moments_per_language_on_the_server() -> None:
    assert money(1250, "EUR", "de") == "12,50\xa0€"
    assert money(1250, "USD", "en") == "$12.50"
    assert money(500, "JPY", "en") == "¥500"  # no minor digits
    at = datetime(2026, 11, 30, 17, 5, tzinfo=UTC)
    assert moment(at, "Europe/Berlin", "de") == "30.11.2026, 18:05:00"
    assert moment(at, "America/New_York", "en") == "Nov 30, 2026, 12:05:00\u202fPM"
