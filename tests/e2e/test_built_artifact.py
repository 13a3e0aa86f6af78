"""The deploy artifact itself works: `sam build`, then every function's handler run from the build.

Each function runs in its own CPython 3.13 process started with `-I -S -B`, its path only the
function's build folder, the built layer's `python/` and a folder with what the Lambda runtime
provides (boto3 and its dependencies, copied from this venv's pinned distributions), with the
environment resolved from the built template, against moto in server mode and the sample feeds
on 127.0.0.1. A package missing from shared/requirements.txt fails here, not in production.

Needs aws-sam-cli (`make sam` puts it in .venv-sam; `make test` does that first). Without it the
tests skip, except under CI, where they fail. The arm64 wheel check is a `make lint` step
(scripts/check_arm64_wheels.py), since it asks the package index and tests never leave the machine.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import artifact

ROOT = Path(__file__).resolve().parents[2]
SEED_SENTENCE = "Digital assets under custody in Hong Kong jumped 180%"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def python313() -> Path:
    found = artifact.find_python313()
    if found is None:
        pytest.fail("no CPython 3.13 found: the Lambda runtime's version is needed to run the artifact")
    return found


@pytest.fixture(scope="session")
def built_template(python313: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    sam = artifact.find_sam()
    if sam is None:
        if os.environ.get("CI"):
            pytest.fail("aws-sam-cli is missing: `make sam` installs it into .venv-sam")
        pytest.skip("aws-sam-cli is not installed (`make sam`); `make test` installs it")
    return artifact.sam_build(sam, python313, tmp_path_factory.mktemp("artifact") / "build", architecture="x86_64")


@pytest.fixture(scope="module")
def stack(
    built_template: Path, python313: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[artifact.ArtifactStack]:
    with artifact.ArtifactStack(
        None, python313, tmp_path_factory.mktemp("stack"), built_template=built_template
    ) as running:
        yield running


@pytest.fixture(scope="module")
def runs(stack: artifact.ArtifactStack) -> dict[str, artifact.Run]:
    return {run.logical_id: run for run in stack.run_all()}


def _json_lines(run: artifact.Run) -> list[dict[str, object]]:
    parsed = []
    for line in run.log_lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"{run.logical_id} wrote a log line that is not JSON: {line[:200]!r}")
    return parsed


def test_every_function_of_the_built_template_runs_without_error(
    runs: dict[str, artifact.Run], built_template: Path
) -> None:
    declared = set(artifact.functions(artifact.load_template(built_template)))
    assert declared == set(runs)
    assert len(declared) >= 4
    for run in runs.values():
        errors = [i["error"] for i in run.invocations if i["error"]]
        assert not errors, f"{run.logical_id}: {errors}\n{run.stderr[-3000:]}"


def test_code_comes_only_from_the_function_the_layer_and_the_runtime(
    runs: dict[str, artifact.Run], stack: artifact.ArtifactStack
) -> None:
    for run in runs.values():
        allowed = (
            str(stack.specs[run.logical_id].code_dir),
            str(stack.layer),
            str(stack.runtime_dir),
            run.stdlib,
        )
        strays = [m for m in run.modules if not m.startswith(allowed)]
        assert not strays, f"{run.logical_id} imported from outside the artifact: {strays[:5]}"
        assert any(m.startswith(str(stack.layer) + "/newsroom/") for m in run.modules)
        assert not any("site-packages" in m for m in run.modules), "a venv's packages leaked in"


def test_the_pipeline_works_from_the_artifact(runs: dict[str, artifact.Run], stack: artifact.ArtifactStack) -> None:
    first, second = runs["FetchFeedsFunction"].results
    assert first["entries"] > 0 and first["failed"] == 1  # the sample "gone" source is recorded, not fatal
    assert second["entries"] == 0 and second["not_modified"] == first["sources"] - first["failed"]

    for result in runs["ProcessArticlesFunction"].results:
        assert result == {"batchItemFailures": []}
    stored = stack.dynamodb.query(
        TableName=stack.resources.table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "LIST#all"}},
    )["Items"]
    assert len(stored) >= 2

    priced = runs["FetchPricesFunction"].results
    assert priced[0]["stored"] == 6 and priced[0]["price_age_seconds"] is not None

    names = sorted(p.stem for p in (ROOT / "events").glob("api_*.json"))
    api = dict(zip(names, runs["ApiFunction"].results, strict=True))
    assert api["api_bad_limit"]["statusCode"] == 400
    for name in ("api_get_articles", "api_get_feed_json", "api_get_feed_rss", "api_get_feed_atom", "api_get_prices"):
        assert api[name]["statusCode"] == 200, (name, api[name].get("body", "")[:300])
    articles = json.loads(api["api_get_articles"]["body"])
    assert articles["items"], articles


def test_logs_are_json_with_metrics_and_no_article_bodies(runs: dict[str, artifact.Run]) -> None:
    for run in runs.values():
        lines = _json_lines(run)
        if run.logical_id != "ApiFunction":  # a healthy API request may log nothing at INFO
            assert lines, f"{run.logical_id} logged nothing"
        assert not any(SEED_SENTENCE in line for line in run.log_lines), f"{run.logical_id} logged an article body"

    fetch = _json_lines(runs["FetchFeedsFunction"])
    failed = [line for line in fetch if line.get("message") == "source failed"]
    assert failed and failed[0]["source_id"] == "gone-gazette" and failed[0]["level"] == "WARNING"
    assert all("correlation_id" in line for line in fetch if "message" in line)
    emf = [line for line in fetch if "_aws" in line]
    names = {m["Name"] for line in emf for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}  # type: ignore[index]
    assert "PollFailurePercent" in names
    # Counts are log fields of the same line unless DetailedMetrics (issue 18).
    assert not {"SourcesPolled", "SourcesFailed", "SourcesNotModified", "EntriesFetched"} & names
    assert all("SourcesNotModified" in line and "EntriesFetched" in line for line in emf)
    # One PollFailurePercent value per polled source, 100 for a failure: what CloudWatch averages
    # for SourcesFailingAlarm is the share failing.
    for line in emf:
        values = line["PollFailurePercent"]
        values = values if isinstance(values, list) else [values]
        assert len(values) == line["SourcesPolled"]
        assert sum(values) == 100 * line["SourcesFailed"]
    assert all(line["SourcesFailed"] == 1 for line in emf)  # the sample "gone" source, each round

    prices = [line for line in _json_lines(runs["FetchPricesFunction"]) if "_aws" in line]
    assert any("PriceAgeSeconds" in line for line in prices)


def test_tracing_sends_segments_from_the_artifact(runs: dict[str, artifact.Run], stack: artifact.ArtifactStack) -> None:
    assert stack.specs["FetchFeedsFunction"].environment["POWERTOOLS_TRACE_DISABLED"] == "false"
    segments = [json.loads(d.split(b"\n", 1)[1]) for d in stack.xray.drain() if b"\n" in d]
    names = {s.get("name") for s in segments}
    assert "## lambda_handler" in names, names
