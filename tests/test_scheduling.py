"""The lists that steer `make test`'s workers (tests/conftest.py) name tests that exist: a
renamed module or test would otherwise drop out of its group or its early start unnoticed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SLOW_FIRST, XDIST_GROUPS, slow_rank

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("entry", [*XDIST_GROUPS, *SLOW_FIRST])
def test_each_entry_names_an_existing_module_or_test(entry: str) -> None:
    module, _, test = entry.partition("::")
    source = ROOT / module
    assert source.is_file(), f"{module} is gone"
    if test:
        assert f"def {test}(" in source.read_text(), f"{test} is not in {module}"


def test_listed_tests_rank_in_list_order_and_the_rest_after() -> None:
    assert slow_rank(SLOW_FIRST[0] + "::test_x[sqlite]") == 0
    assert slow_rank(SLOW_FIRST[1] + "::test_x") == 1
    assert slow_rank("tests/server/test_api.py::test_x") == len(SLOW_FIRST)
    # A module whose name begins like a listed one's is not that module.
    assert slow_rank(SLOW_FIRST[0].replace(".py", "_more.py") + "::test_x") == len(SLOW_FIRST)
