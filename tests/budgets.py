"""Time budgets of the test suites, one per folder under tests/ (and "tests" for its own files).

A suite's time is what its tests spent in setup, call and teardown, summed over the workers of
one `make unit` run (`pytest -n 2 --dist loadfile`) on the project's 2-core machine; session-
and module-scoped fixtures count once, in the test that set them up. tests/conftest.py prints
every suite's time beside its budget after each run and flags the suites over it. Budgets are
reported, never asserted: a machine shared with other work is slower on some runs, and a test
that fails on time would fail for reasons that are not the code's. A change that makes a suite
slower for a reason raises its budget here, in the same commit, and says why.
"""

from __future__ import annotations

# Set from the suites' times in the four measured runs at the end of issue 15's work (README,
# Tests; 2026-12-03, `e5d30ef`), about 15 % above the slowest of them (those runs summed 229–247 s
# over both workers; the budgets sum to 310 s). A budget far above what a suite takes would hide
# its growth.
BUDGETS: dict[str, float] = {
    # 295 tests: the races on moto, schemathesis, the worst-case pages, and `sam build`, reused while
    # nothing it reads changed (a fresh clone builds: about 15 s more)
    "tests/e2e": 150,
    "tests/fuzz": 30,  # Hypothesis's fixed example counts over the whole pipeline, the naughty strings
    # The golden record, about 5 s; the pairwise rule against its reference, about 7 s; issue 16's
    # exactness tests, each new code against the old over the corpus: the term scanner's word
    # table about 5 s, the footer scan about 4 s, the build's limits and size bound about 5 s.
    "tests/process": 38,
    # the fast path's differential test over the corpus, about 9 s; the plain-URL shortcut against the
    # join over the corpus's URLs and generated ones, the root's base and language, Atom, about 9 s more
    "tests/fetch": 30,
    "tests/browser": 16,  # one built site per worker, Chromium, the Nu checker
    "tests/store": 14,  # the contract suite, half of it on moto; its size-limit tests store
    # incompressible text since documents are compressed (issue 18): ~1 s more for the 16 MB read
    "tests/core": 13,  # `make cost` in a subprocess, about 4 s
    "tests/websub": 7,
    "tests/devtools": 6,
    "tests/benchmarks": 4,  # the event evaluation over the labelled corpus feeds, about 2 s
    "tests/prices": 4,
    "tests/sources": 3,
    "tests": 2,
    "tests/template": 1,
    "tests/serve": 1,
}

# The longest test files, longest first. `--dist loadfile` hands whole files to the workers in
# collection order, so tests/conftest.py collects these first: a long file collected last would
# run alone at the end while the other worker idles.
LONGEST_FIRST: tuple[str, ...] = (
    "tests/e2e/test_built_artifact.py",
    "tests/e2e/test_local_run.py",
    "tests/fuzz/test_fuzz_feeds.py",
    "tests/e2e/test_delivery_race.py",
    "tests/e2e/test_api_gateway.py",
    "tests/e2e/test_cluster_race.py",
    "tests/e2e/test_hostile_input.py",
    "tests/e2e/test_faults.py",
)


def suite_of(nodeid: str) -> str:
    """The suite a test belongs to: its top-level folder ("tests/e2e"), or "tests" for tests/'s own files."""
    parts = nodeid.split("::", 1)[0].split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


def summary(seconds: dict[str, float], tests: dict[str, int], budgets: dict[str, float] = BUDGETS) -> list[str]:
    """One line per suite that ran, slowest first: its tests, its time, its budget, and whether it
    went over (a suite with no budget here is flagged too, so a new folder gets one)."""
    lines = [f"{'suite':<16} {'tests':>6} {'time (s)':>9} {'budget (s)':>11}"]
    for suite in sorted(seconds, key=lambda s: (-seconds[s], s)):
        budget = budgets.get(suite)
        if budget is None:
            verdict = "  no budget in tests/budgets.py"
        elif seconds[suite] > budget:
            verdict = f"  OVER BUDGET by {seconds[suite] - budget:.1f} s"
        else:
            verdict = ""
        shown = "-" if budget is None else f"{budget:.0f}"
        lines.append(f"{suite:<16} {tests.get(suite, 0):>6} {seconds[suite]:>9.1f} {shown:>11}{verdict}")
    lines.append(f"{'total':<16} {sum(tests.values()):>6} {sum(seconds.values()):>9.1f}")
    return lines
