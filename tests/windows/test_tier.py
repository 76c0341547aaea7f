"""The Windows tier's own rules: without Wine it skips with the reason, except on CI
(CI=true), where a missing Wine is a failure; a prepared Windows Python is reused."""

from __future__ import annotations

import pytest

from tests.windows import wine


def test_without_wine_the_tier_skips_locally_and_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"Wine missing \(apt-get install wine64\)"):
        wine.require_wine()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Wine missing"):
        wine.require_wine()


def test_the_prepared_windows_python_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second prepare with the same inputs runs no pip: it reads the stamp."""
    prepare = wine.prepare_module()
    layout = prepare.prepare()  # build/windows, as the tier and .ci/run use it
    assert layout.python_exe.is_file() and (layout.home / "DLLs" / "_tkinter.pyd").is_file()
    assert (layout.site_packages / "win32" / "win32api.pyd").is_file()  # pywin32, unpacked

    def no_pip(*args: str) -> None:
        raise AssertionError(f"pip {args} ran for a cached preparation")

    monkeypatch.setattr(prepare, "_pip", no_pip)
    assert prepare.prepare() == layout
