"""The time-per-suite report: a suite over its budget, or with none, is flagged, never failed."""

from __future__ import annotations

from tests.budgets import suite_of, summary


def test_a_test_belongs_to_its_top_level_folder() -> None:
    assert suite_of("tests/e2e/test_pipeline.py::test_x[/prices]") == "tests/e2e"
    assert suite_of("tests/process/deep/test_y.py::test_y") == "tests/process"
    assert suite_of("tests/test_architecture.py::test_z") == "tests"


def test_suites_over_budget_or_without_one_are_flagged_slowest_first() -> None:
    lines = summary(
        {"tests/fast": 1.0, "tests/slow": 12.5, "tests/new": 2.0},
        {"tests/fast": 3, "tests/slow": 2, "tests/new": 1},
        {"tests/fast": 5.0, "tests/slow": 10.0},
    )

    assert [line.split()[0] for line in lines[1:]] == ["tests/slow", "tests/new", "tests/fast", "total"]
    assert lines[1].endswith("OVER BUDGET by 2.5 s")
    assert lines[2].endswith("no budget in tests/budgets.py")
    assert "OVER" not in lines[3] and "no budget" not in lines[3]
    assert lines[4].split() == ["total", "6", "15.5"]
