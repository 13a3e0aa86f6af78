"""Test-wide guards (no test reaches the internet, AWS calls never hit a real account), and the
time each suite took, printed beside its budget (tests/budgets.py) after every run."""

from __future__ import annotations

import gc
import ipaddress
import os
import socket
import time
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.budgets import LONGEST_FIRST, suite_of, summary

# Hypothesis (tests/fuzz): the "ci" profile is the default and what `make test` runs — derandomized,
# a fixed number of examples, no example database — and no per-example deadline. The same run
# draws the same inputs, but what else was collected changes them: a fuzz file run alone drew a
# 300,000-character link that the whole suite's run had not (measured 2026-12-03), so a failure
# prints its blob (`print_blob`) to reproduce it outside the run. No deadline, so a slow
# shared machine cannot turn a pass into a flaky failure; the invariants are about outputs, memory
# and bytes, never time. Locally, HYPOTHESIS_PROFILE=explore
# searches afresh with 1,000 examples per test; CI=true always runs the "ci" profile.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "explore", parent=settings.get_profile("ci"), derandomize=False, database=None, max_examples=1000
)
settings.load_profile("ci" if os.environ.get("CI") == "true" else os.environ.get("HYPOTHESIS_PROFILE", "ci"))

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "NewsroomTest")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "newsroom-test")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

_real_connect = socket.socket.connect
_real_create_connection = socket.create_connection


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
    else:
        return True  # AF_UNIX and friends never leave the machine
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise ConnectionRefusedError(f"tests may not reach the network: {address!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


# -- the garbage collector, tuned for a test run ------------------------------------------------
def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection built and collect less often, in each worker.

    A worker holds everything it imported and collected (pytest's items, Hypothesis,
    schemathesis, moto, botocore's models) for the whole run, and with CPython's default
    thresholds (2,000, 10, 10) every full collection walked it again: measured with
    `gc.callbacks` over `make unit` on the 2-core machine, 9.5 and 13.2 s of collection per worker,
    5.8 and 8.6 s of it full collections. `gc.freeze()` moves what exists now out of every later
    collection, and a young generation of 10,000 makes full collections a fifth as frequent:
    6.1 and 6.5 s, 0.9 and 1.4 s of it full. Cycles are still found, a little later; the tests
    that bound memory (tracemalloc peaks, tests/fuzz, tests/e2e/test_hostile_input.py) run under
    this setting. Lambda and `make bench` keep the interpreter's defaults.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


# -- time per suite, beside its budget (tests/budgets.py) -------------------------------------------
# Under xdist the controller receives every worker's reports, so it sees the whole run.
_suite_seconds: defaultdict[str, float] = defaultdict(float)
_suite_tests: defaultdict[str, int] = defaultdict(int)
_session_started = time.monotonic()


def pytest_sessionstart(session: pytest.Session) -> None:
    global _session_started
    _session_started = time.monotonic()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A stable sort by file: each file's tests stay together and in their order.
    rank = {path: n for n, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    suite = suite_of(report.nodeid)
    _suite_seconds[suite] += report.duration
    if report.when == "setup":
        _suite_tests[suite] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or not _suite_seconds:
        return
    wall = time.monotonic() - _session_started
    terminalreporter.write_sep("-", f"time per suite, summed over workers; {wall:.1f} s wall for the run")
    for line in summary(_suite_seconds, _suite_tests):
        terminalreporter.write_line(line)
