"""Running it for real: stage configuration, alarms, observability helpers and article retention."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Metrics
from moto import mock_aws

from devtools.artifact import Resolver, load_template
from devtools.counting import attribute_size, item_size, read_units, write_units
from devtools.template import create_table
from newsroom.core import observability
from newsroom.store.dynamo import DynamoStore
from tests.store.test_stories import article

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
STAGES = ("dev", "prod")


def _overrides(stage: str) -> dict[str, str]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    pairs = config[stage]["global"]["parameters"]["parameter_overrides"]
    result = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        result[key] = value.strip('"')
    return result


@pytest.mark.parametrize("stage", STAGES)
def test_every_tunable_parameter_is_set_per_stage_within_its_rules(stage: str) -> None:
    overrides = _overrides(stage)
    parameters: dict[str, Any] = TEMPLATE["Parameters"]
    assert set(overrides) <= set(parameters), f"unknown parameters: {set(overrides) - set(parameters)}"
    # No secret is a Parameter (the stack generates the cursor key), so every one is set here.
    missing = set(parameters) - set(overrides)
    assert not missing, f"{stage} does not set {sorted(missing)}"
    for name, value in overrides.items():
        spec = parameters[name]
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], (name, value)
        if spec["Type"] == "Number":
            number = float(value)
            assert number >= float(spec.get("MinValue", number)), (name, value)
            assert number <= float(spec.get("MaxValue", number)), (name, value)


def test_prod_polls_every_five_minutes_and_alarms_a_person() -> None:
    prod = _overrides("prod")
    assert prod["FetchSchedule"] == "rate(5 minutes)"
    assert "@" in prod["AlarmEmail"]
    assert _overrides("dev")["AlarmEmail"] == ""


def _alarms() -> dict[str, dict[str, Any]]:
    return {
        name: res["Properties"]
        for name, res in TEMPLATE["Resources"].items()
        if res["Type"] == "AWS::CloudWatch::Alarm"
    }


# The alarms that exist only with DetailedMetrics=true, and the always-on alarm that catches what
# each would have caught (issue 18: the always-on set fits the free tier's 10 alarm metrics).
BACKED_UP = {
    "FetchFeedsErrorsAlarm": ("FetchDeadLetterQueueAlarm", "SourcesFailingAlarm"),
    "FetchFeedsThrottlesAlarm": ("FetchDeadLetterQueueAlarm",),
    "FetchPricesErrorsAlarm": ("PricesStaleAlarm",),
    "FetchPricesThrottlesAlarm": ("PricesStaleAlarm",),
    "ProcessArticlesThrottlesAlarm": ("DeadLetterQueueAlarm", "NoArticleStoredAlarm"),
    "DispatchSourcesThrottlesAlarm": ("NoArticleStoredAlarm",),
    # Issue 19 adds the WebSub callback function; the always-on set was already at 10 metrics.
    # A failing or throttled callback leaves its hub's deliveries unacknowledged: the hub falls
    # silent to us, polling returns to its normal rhythm, and a stall still raises NoArticleStoredAlarm.
    "WebSubCallbackErrorsAlarm": ("NoArticleStoredAlarm",),
    "WebSubCallbackThrottlesAlarm": ("NoArticleStoredAlarm",),
}


def _alarm_metrics(props: dict[str, Any]) -> int:
    return sum(1 for m in props.get("Metrics", []) if "MetricStat" in m) or 1


def test_the_always_on_alarms_fit_the_free_tier_and_every_detailed_one_is_backed_up() -> None:
    resources = TEMPLATE["Resources"]
    alarms = {n: r for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    detailed = {n for n, r in alarms.items() if r.get("Condition") == "DetailedAlarms"}
    assert detailed == set(BACKED_UP)
    always = {n: r for n, r in alarms.items() if n not in detailed}
    assert not any("Condition" in r for r in always.values())
    # CloudWatch's always-free tier: 10 alarm metrics (a metric-math alarm counts each metric).
    assert sum(_alarm_metrics(r["Properties"]) for r in always.values()) <= 10
    for name, backups in BACKED_UP.items():
        assert all(b in always for b in backups), name
    # The user-facing API and the dispatcher (nothing downstream notices it for hours) stay.
    assert {"ApiErrorsAlarm", "ApiThrottlesAlarm", "DispatchSourcesErrorsAlarm", "ProcessArticlesErrorsAlarm"} <= set(
        always
    )
    condition = TEMPLATE["Conditions"]["DetailedAlarms"]
    assert condition == {"Fn::Equals": [{"Ref": "DetailedMetrics"}, "true"]}


def _always_on_metric_names(app: Path) -> set[str]:
    """The custom metrics a handler emits whatever DetailedMetrics says: direct `add_metric` calls
    and `observability.count` / `measure` without `detailed=True` (read from its source, every
    branch, so a metric emitted only on a rare path is counted too)."""
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(app.read_text())):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        call = node.func.attr
        keywords = {k.arg: k.value for k in node.keywords}
        if call == "add_metric":
            name = keywords.get("name", node.args[0] if node.args else None)
        elif call in ("count", "measure") and isinstance(node.func.value, ast.Name):
            if node.func.value.id != "observability":
                continue
            detailed = keywords.get("detailed")
            if isinstance(detailed, ast.Constant) and detailed.value is True:
                continue
            name = node.args[1]
        else:
            continue
        # An always-on metric's name is a literal: a computed one could be a new metric per value.
        assert isinstance(name, ast.Constant), f"{app}: line {node.lineno} emits a metric whose name is computed"
        names.add(str(name.value))
    return names


def test_every_always_on_custom_metric_is_one_an_always_on_alarm_watches() -> None:
    # Each custom metric is $0.30 a month whatever it records (CloudWatch pricing): one that no
    # always-on alarm reads is a log field unless DetailedMetrics (issue 18). `make cost` counts
    # the metrics its measured run emitted, and the dispatcher is not in that run, so this reads
    # every handler's source instead.
    emitted = {app.parent.name: _always_on_metric_names(app) for app in sorted((ROOT / "functions").glob("*/app.py"))}
    assert emitted["fetch_feeds"] and emitted["process_articles"]  # the scan sees the calls it must
    watched = {
        name
        for res in TEMPLATE["Resources"].values()
        if res["Type"] == "AWS::CloudWatch::Alarm" and "Condition" not in res
        for name in _custom_metrics_of(res["Properties"])
    }
    assert {"ArticlesStored", "PriceAgeSeconds", "PollFailurePercent"} <= watched
    unwatched = {f: sorted(names - watched) for f, names in emitted.items() if names - watched}
    assert not unwatched, f"always-on custom metrics no always-on alarm reads: {unwatched}"
    # The layer emits none of its own: every metric goes through a handler's `observability` call.
    for path in sorted((ROOT / "shared" / "newsroom").rglob("*.py")):
        text = path.read_text()
        if path.name != "observability.py":
            assert "add_metric" not in text and "single_metric" not in text, path
    for app in sorted((ROOT / "functions").glob("*/app.py")):
        assert not _unguarded_single_metrics(app), app


def _unguarded_single_metrics(app: Path) -> list[int]:
    """Lines of `single_metric(...)` calls not under `if observability.detailed_metrics():`."""
    import ast

    def guarded(test: ast.expr) -> bool:
        return (
            isinstance(test, ast.Call)
            and isinstance(test.func, ast.Attribute)
            and test.func.attr == "detailed_metrics"
            and isinstance(test.func.value, ast.Name)
            and test.func.value.id == "observability"
        )

    lines: list[int] = []

    def visit(node: ast.AST, under_guard: bool) -> None:
        call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "single_metric"
        if call and not under_guard:
            lines.append(node.lineno)
        if isinstance(node, ast.If) and guarded(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, under_guard)
            visit(node.test, under_guard)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, under_guard)

    visit(ast.parse(app.read_text()), False)
    return lines


def _custom_metrics_of(props: dict[str, Any]) -> set[str]:
    stats = [props] + [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
    return {s["MetricName"] for s in stats if "MetricName" in s and not str(s.get("Namespace", "")).startswith("AWS/")}


def test_the_alarms_the_issue_asks_for_exist_and_notify_the_topic() -> None:
    alarms = _alarms()
    assert alarms["DeadLetterQueueAlarm"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    functions = [n for n, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::Serverless::Function"]
    for function in functions:
        watched = {
            a["MetricName"]
            for a in alarms.values()
            if a.get("Namespace") == "AWS/Lambda" and a["Dimensions"][0]["Value"] == {"Ref": function}
        }
        assert watched == {"Errors", "Throttles"}, function  # with DetailedMetrics=true
    assert alarms["NoArticleStoredAlarm"]["TreatMissingData"] == "breaching"
    assert alarms["PricesStaleAlarm"]["MetricName"] == "PriceAgeSeconds"
    failing = alarms["SourcesFailingAlarm"]
    # A value per polled source (100 failed, 0 not): the Average is the share failing.
    assert (failing["MetricName"], failing["Statistic"]) == ("PollFailurePercent", "Average")
    assert failing["Threshold"] == {"Ref": "SourceFailureAlarmPercent"} and failing["EvaluationPeriods"] == 3
    for props in alarms.values():
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize(("email", "subscribed"), [("", False), ("ops@example.com", True)])
def test_the_email_subscription_exists_only_when_an_address_is_given(email: str, subscribed: bool) -> None:
    resolver = Resolver(TEMPLATE, parameters={"AlarmEmail": email}, resources={})
    assert resolver.condition("HasAlarmEmail") is subscribed
    assert TEMPLATE["Resources"]["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"


@pytest.mark.parametrize(("mode", "disabled"), [("Active", "false"), ("PassThrough", "true")])
def test_tracing_mode_decides_whether_a_tracer_is_ever_created(mode: str, disabled: str) -> None:
    resolver = Resolver(TEMPLATE, parameters={"TracingMode": mode}, resources={})
    env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert resolver.value(env["POWERTOOLS_TRACE_DISABLED"]) == disabled


def test_tracer_is_lazy_and_absent_when_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    observability.tracer.cache_clear()
    calls: list[int] = []

    @observability.capture_lambda_handler
    def handler(event: Any, context: Any) -> int:
        calls.append(1)
        return 7

    assert handler({}, None) == 7 and calls == [1]
    assert observability.tracer() is None
    observability.tracer.cache_clear()


def test_redact_drops_query_strings_and_caps_length() -> None:
    text = "http-404: HTTP 404 from https://feeds.example/rss?token=s3cret&x=1 (after 2 tries)"
    assert observability.redact(text) == "http-404: HTTP 404 from https://feeds.example/rss?… (after 2 tries)"
    assert len(observability.redact("x" * 1000)) == 300


def test_entry_key_is_stable_and_distinguishes_sources() -> None:
    a = observability.entry_key("defiliban", "https://defiliban.io/?p=1", "https://defiliban.io/a")
    assert a == observability.entry_key("defiliban", "https://defiliban.io/?p=1", "https://other.example/")
    assert a != observability.entry_key("cryptowire", "https://defiliban.io/?p=1", "https://defiliban.io/a")
    assert observability.entry_key("s", None, "https://x/") == observability.entry_key("s", "", "https://x/")


@pytest.mark.parametrize(("detailed", "as_metric"), [("false", False), ("true", True)])
def test_detailed_metrics_are_log_fields_unless_switched_on(
    monkeypatch: pytest.MonkeyPatch, detailed: str, as_metric: bool
) -> None:
    monkeypatch.setenv("DETAILED_METRICS", detailed)
    metrics = Metrics(namespace="Test", service="t")
    observability.count(metrics, "SourcesPolled", 3)
    observability.count(metrics, "NearDuplicates", 2, detailed=True)
    blob = metrics.serialize_metric_set()
    names = {m["Name"] for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert "SourcesPolled" in names
    assert ("NearDuplicates" in names) is as_metric
    assert blob["NearDuplicates"] in (2, 2.0, [2.0])
    metrics.clear_metrics()


def test_capacity_units_follow_dynamodb_rules() -> None:
    assert attribute_size({"S": "héllo"}) == 6
    assert attribute_size({"N": "12345"}) == 4
    assert item_size({"PK": {"S": "ART#1"}, "n": {"N": "1"}}) == 2 + 5 + 1 + 2
    assert write_units({"doc": {"S": "x" * 1021}}) == 1
    assert write_units({"doc": {"S": "x" * 1022}}) == 2
    assert read_units(4096, consistent=True) == 1 and read_units(4097, consistent=True) == 2
    assert read_units(100, consistent=False) == 0.5


# -- retention -------------------------------------------------------------------------------------


@pytest.fixture
def short_store() -> Iterator[DynamoStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        yield DynamoStore(client, "t", b"secret", retention=timedelta(days=30))


def test_expired_stories_are_invisible_to_every_read(short_store: DynamoStore) -> None:
    now = datetime.now(UTC)
    day = timedelta(days=1)
    fresh = article(1, published=now - day, updated=now - day, first_seen=now - day)
    old = article(2, published=now - 20 * day, updated=now - 20 * day, first_seen=now - 20 * day)
    for a in (fresh, old):
        short_store.create_article(a, guid=None)
    # Fifteen days on, the one first seen 20 days ago is past its 30 days; TTL has not run yet.
    short_store._clock = lambda: (now + 15 * day).timestamp()
    assert short_store.get_article(old.id) is None
    assert short_store.get_article(fresh.id) is not None
    assert [a.id for a in short_store.get_articles([old.id, fresh.id])] == [fresh.id]
    page = short_store.list_articles("all", limit=1, cursor=None)
    assert [a.id for a in page.items] == [fresh.id]
    after = short_store.list_articles("all", limit=5, cursor=page.next_cursor) if page.next_cursor else None
    assert after is None or not after.items
    # The item is still in the table until TTL removes it; a new story can take its place.
    short_store.create_article(old, guid=None)


def test_stories_carry_their_expiry_for_dynamodb_ttl(short_store: DynamoStore) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    a = article(3, published=now, updated=now)
    short_store.create_article(a, guid=None)
    client = short_store._db
    story = client.get_item(TableName="t", Key={"PK": {"S": f"ART#{a.id}"}, "SK": {"S": "ART"}})["Item"]
    assert int(story["expires_at"]["N"]) == int((now + timedelta(days=30)).timestamp())
    listing = client.query(
        TableName="t", KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "LIST#all"}}
    )["Items"]
    assert listing and all(i["expires_at"] == story["expires_at"] for i in listing)
    ttl = TEMPLATE["Resources"]["NewsTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}


def test_make_cost_measures_a_run_and_prints_every_scale(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    out = tmp_path / "cost.json"
    result = subprocess.run(
        [sys.executable, "-m", "devtools.cost", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    for sources in (100, 1000, 10000):
        built = figures[f"{sources}:as built, REST API direct"]
        cdn = figures[f"{sources}:as built + CloudFront"]
        assert 0 < cdn["total"] < built["total"]
        assert built["DynamoDB"] > 0 and built["Lambda"] > 0 and built["SQS"] > 0
    # A new entry's write units, by item family (issue 18): the families add up to what is priced.
    families = figures["story_writes"]
    assert {"story", "story listing", "GUID claim", "story count", "event lookup"} <= families.keys()
    entry = next(line for line in result.stdout.splitlines() if line.strip().startswith("entry processed, new"))
    assert sum(families.values()) == pytest.approx(float(entry.split()[-3]))
    # More sources cost more: the model scales with what was measured.
    assert figures["10000:as built, REST API direct"]["total"] > figures["100:as built, REST API direct"]["total"]
    assert "poll answered 304" in result.stdout and "entry processed, new" in result.stdout
    # Polls are priced by each feed's rhythm (issue 18), not every source at 5 minutes.
    assert "polls a source a day (the default interval alone" in result.stdout
    assert "p95 rhythm" in result.stdout and "busy wire" in result.stdout  # the freshness table
    # Both capacity modes, priced at every scale, with the cheapest named.
    for sources in (100, 1000, 10000):
        capacity = figures[f"{sources}:capacity"]
        assert capacity["on demand"] > 0 and capacity["provisioned, burst credit"] > 0
        assert capacity["peak_rcu"] >= capacity["credit_rcu"] >= 1
    assert figures["1000:capacity"]["provisioned, burst credit after free tier"] < figures["1000:capacity"]["on demand"]
    assert "cheapest" in result.stdout
    # The idle stack (issue 18, point 5): the schedules, the pollers and the alarms, no traffic.
    idle = figures["idle"]
    from devtools.cost import PRICES, ROUNDS_PER_MONTH, Assumptions, alarm_metrics

    pollers = 2 * Assumptions().idle_sqs_requests_per_queue * PRICES["sqs_request"]
    assert idle["SQS"] == pytest.approx(pollers, rel=0.01)
    assert idle["CW"] == pytest.approx(0.30 + alarm_metrics() * PRICES["alarm_metric"])
    # No secret since issue 18's stop of 2026-12-03: the cursor key is a table item. The line
    # stays, counted from template.yaml (it was left out at first, found by review).
    from devtools.cost import secrets

    assert secrets() == 0
    assert idle["SM"] == 0.0
    for sources in (100, 1000, 10000):
        assert figures[f"{sources}:as built + CloudFront"]["SM"] == 0.0
    # Secrets Manager has no always-free allowance: the free-tier total keeps the secret.
    from devtools.cost import Unit, free_tier_total

    bill = {"DynamoDB": 0.0, "API": 0.0, "SM": 0.40}
    assert free_tier_total(Unit(), bill, custom_metrics=3, alarms=9) == pytest.approx(0.40)
    assert idle["DynamoDB"] >= ROUNDS_PER_MONTH * PRICES["dynamodb_write_unit"]  # the dispatch clock
    assert idle["provisioned"] > idle["on_demand"] + 0.80  # the minimum capacity and its 8 alarms
    assert idle["on_demand"] < figures["100:as built + CloudFront"]["total"]
    assert "Idle: a deployed stack with no sources and no requests" in result.stdout
    # Each line of the bill says what was measured and what was assumed.
    for line in ("Lambda", "DynamoDB", "SQS", "Logs", "API", "CloudWatch", "SM"):
        assert any(row.split()[:2] == [line, "measured:"] for row in result.stdout.splitlines()), line


def test_an_idle_stack_publishes_only_the_price_refresh_s_metric() -> None:
    # `make cost` prices an idle stack's custom metrics as IDLE_METRICS: what the price refresh
    # (the only handler a stack with no sources and no requests still runs on a schedule besides
    # the dispatcher) publishes whatever DetailedMetrics says; the dispatcher publishes none.
    from devtools.cost import IDLE_METRICS

    assert _always_on_metric_names(ROOT / "functions/fetch_prices/app.py") == set(IDLE_METRICS)
    assert _always_on_metric_names(ROOT / "functions/dispatch_sources/app.py") == set()


def _s3_statements(function: str) -> list[dict[str, Any]]:
    policies = TEMPLATE["Resources"][function]["Properties"].get("Policies", [])
    statements = [s for p in policies if isinstance(p, dict) for s in p.get("Statement", [])]
    return [s for s in statements if any(str(a).startswith("s3:") for a in _as_list(s["Action"]))]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_entry_bucket_is_private_outlives_every_message_and_is_reached_least_privilege() -> None:
    resources = TEMPLATE["Resources"]
    bucket = resources["EntryBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    [expiry] = [r for r in bucket["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r]
    assert expiry["Prefix"] == "entries/"
    longest_message_life = max(
        int(resources[q]["Properties"]["MessageRetentionPeriod"]) for q in ("ArticleQueue", "ArticleDeadLetterQueue")
    )
    assert expiry["ExpirationInDays"] * 86_400 > longest_message_life  # a DLQ replay still finds its entry
    [deny] = resources["EntryBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    # The fetch worker only writes entries, the processor only reads them; nobody else touches S3.
    # Issue 19: the WebSub callback queues pushed entries exactly as the fetch worker queues polled
    # ones (`queue.send_entries`, oversize entries as claim checks), so it too only writes entries.
    allowed = {name: _s3_statements(name) for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert [s["Action"] for s in allowed.pop("FetchFeedsFunction")] == ["s3:PutObject"]
    assert [s["Action"] for s in allowed.pop("WebSubCallbackFunction")] == ["s3:PutObject"]
    assert [s["Action"] for s in allowed.pop("ProcessArticlesFunction")] == ["s3:GetObject"]
    assert not any(allowed.values())
    for name in ("FetchFeedsFunction", "WebSubCallbackFunction", "ProcessArticlesFunction"):
        [statement] = _s3_statements(name)
        assert statement["Resource"] == {"Fn::Sub": "${EntryBucket.Arn}/entries/*"}
        assert resources[name]["Properties"]["Environment"]["Variables"]["ENTRY_BUCKET"] == {"Ref": "EntryBucket"}


@pytest.mark.parametrize(
    ("env", "contact"),
    [
        ({"CRAWLER_CONTACT_URL": "https://news.example/bot"}, "https://news.example/bot"),
        ({"SITE_URL": "https://news.example/"}, "https://news.example/crawler"),
        # Not a URL, or one that would break the User-Agent's comment: the site's page instead.
        (
            {"CRAWLER_CONTACT_URL": "mailto:ops@news.example", "SITE_URL": "https://news.example"},
            "https://news.example/crawler",
        ),
        (
            {"CRAWLER_CONTACT_URL": "https://x.example/a (b)", "SITE_URL": "https://news.example"},
            "https://news.example/crawler",
        ),
    ],
)
def test_every_fetch_names_the_operators_contact_page(env: dict[str, str], contact: str) -> None:
    from newsroom.core.config import Settings
    from newsroom.wiring.handlers import fetch_policy

    policy = fetch_policy(Settings.from_env(env))
    assert policy.user_agent == f"NewsroomBot/1.0 (+{contact})"


def test_the_template_passes_the_contact_page_to_every_function() -> None:
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["CRAWLER_CONTACT_URL"] == {"Ref": "CrawlerContactUrl"}


def test_the_layer_pins_its_whole_tree_at_the_locked_versions() -> None:
    """`sam build` reads shared/requirements.txt alone: every package the layer pulls in must be
    pinned there, at the version the tests ran with (scripts/pin_layer.py, run by `make lock`)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "scripts/pin_layer.py", "--check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    layer = (ROOT / "shared" / "requirements.txt").read_text()
    pins = [line for line in layer.splitlines() if line and not line.startswith("#")]
    assert all("==" in line for line in pins), "an unpinned layer requirement"
    for package in ("boto3==", "botocore==", "lxml_html_clean==", "charset-normalizer=="):
        assert any(line.startswith(package) for line in pins), package


def test_poll_failure_percent_scores_a_failed_source_100_and_a_skipped_one_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # SourcesFailingAlarm averages PollFailurePercent: one value per source the round reported,
    # 100 for status "error" (what `summarize` counts as failed). A source skipped because it is
    # gone or disabled carries its reason in `error` and is no failure (found by review: a first
    # version scored every report with an error message).
    import json

    from devtools.lambda_local import invoke, load_handler_module
    from newsroom.fetch.poll import SourceReport

    monkeypatch.setenv("DETAILED_METRICS", "false")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Test")
    app = load_handler_module("fetch_feeds")
    reports = [
        SourceReport("a", "ok", entries=2),
        SourceReport("b", "error", error="http-500: HTTP 500"),
        SourceReport("c", "skipped", error="gone: HTTP 410"),
        SourceReport("d", "not-modified"),
    ]
    monkeypatch.setattr(app.service, "fetch_feeds", lambda: reports)
    # The module's Metrics outlive a test: invocations under POWERTOOLS_METRICS_DISABLED (the
    # stacks of other tests in this process) leave their values unflushed.
    app.metrics.clear_metrics()
    capsys.readouterr()
    summary = invoke(app, {"id": "schedule"}, "FetchFeedsFunction")
    assert summary["failed"] == 1 and summary["sources"] == 4
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [record] = records
    assert sorted(record["PollFailurePercent"]) == [0.0, 0.0, 0.0, 100.0]
    names = {m["Name"] for d in record["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert names == {"PollFailurePercent"}
