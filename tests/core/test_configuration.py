"""Configuration in template.yaml and samconfig.toml: the public base URL is a per-stage
Parameter, no secret has a default (or is a Parameter at all), and the cursor key is one the API
generates in the table, where only its role may read or write it
(tests/template/test_iam_policies.py checks the partition's grants)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from devtools.template import load_template
from newsroom.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
PARAMETERS: dict[str, Any] = TEMPLATE["Parameters"]
STAGES = ("dev", "prod")


def _overrides(stage: str) -> dict[str, str]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    pairs = config[stage]["global"]["parameters"]["parameter_overrides"]
    return {key: value.strip('"') for key, _, value in (pair.partition("=") for pair in pairs)}


def _statements(function: str) -> list[dict[str, Any]]:
    policies = RESOURCES[function]["Properties"].get("Policies", [])
    return [s for p in policies if isinstance(p, dict) for s in p.get("Statement", [])]


def _functions() -> list[str]:
    return [n for n, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"]


def test_no_parameter_is_a_secret_with_a_default() -> None:
    for name, spec in PARAMETERS.items():
        assert not (spec.get("NoEcho") and "Default" in spec), f"{name} is a secret with a public default"
        # A secret is created by the stack (or read from a managed store), never passed in.
        assert not re.search(r"secret|password|token|key$", name, re.IGNORECASE), name


def test_the_cursor_key_is_the_tables_on_the_api_function_alone() -> None:
    """No secret in Secrets Manager ($0.40 a month, issue 18), none in the environment: the API
    function is told to keep its key in the table, and no other function is."""
    assert not [n for n, r in RESOURCES.items() if r["Type"].startswith("AWS::SecretsManager::")]
    for function in _functions():
        env = RESOURCES[function]["Properties"].get("Environment", {}).get("Variables", {})
        assert env.get("CURSOR_KEY_IN_TABLE") == ("true" if function == "ApiFunction" else None), function
        assert "CURSOR_SECRET" not in env
        assert not [s for s in _statements(function) if any(str(a).startswith("secretsmanager:") for a in _actions(s))]
    assert "CURSOR_SECRET" not in TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [str(a) for a in (action if isinstance(action, list) else [action])]


def test_the_public_base_url_is_a_parameter_the_api_reads() -> None:
    spec = PARAMETERS["PublicBaseUrl"]
    assert spec["Default"] == ""  # empty: API Gateway's requestContext domain and stage
    env = RESOURCES["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert env["PUBLIC_BASE_URL"] == {"Ref": "PublicBaseUrl"}
    assert Settings.from_env({"PUBLIC_BASE_URL": "https://news.example/"}).public_base_url == "https://news.example"
    assert Settings.from_env({"PUBLIC_BASE_URL": ""}).public_base_url is None


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_sets_the_public_base_url_and_every_string_passes_its_pattern(stage: str) -> None:
    overrides = _overrides(stage)
    assert "PublicBaseUrl" in overrides
    for name, value in overrides.items():
        pattern = PARAMETERS[name].get("AllowedPattern")
        if pattern:
            assert re.fullmatch(pattern, value), (stage, name, value)
    assert _overrides("prod")["PublicBaseUrl"].startswith("https://")


@pytest.mark.parametrize(
    "value", ["http://news.example", "https://news.example/", "https://news.example?x=1", "news.example", "https://a b"]
)
def test_a_public_base_url_that_would_make_bad_links_is_refused_by_the_template(value: str) -> None:
    assert not re.fullmatch(PARAMETERS["PublicBaseUrl"]["AllowedPattern"], value)


def test_the_cursor_key_is_read_from_the_table_only_where_the_template_says() -> None:
    assert Settings.from_env({}).cursor_key_in_table is False
    assert Settings.from_env({"CURSOR_SECRET": "local-key-0123456789"}).cursor_secret == b"local-key-0123456789"
    assert Settings.from_env({"CURSOR_KEY_IN_TABLE": "true"}).cursor_key_in_table is True


def test_an_aws_client_keeps_a_connection_for_every_fetch_thread() -> None:
    """A fetch worker's threads (FetchConcurrency, up to its MaxValue) share one client; past
    botocore's default pool of 10, urllib3 discards connections ("Connection pool is full")."""
    from newsroom.core.config import client_config

    assert client_config().max_pool_connections >= int(PARAMETERS["FetchConcurrency"]["MaxValue"])


def test_the_functions_clients_send_a_fixed_user_agent_and_only_dynamodb_s_go_unvalidated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """botocore's per-request User-Agent rebuild and validation were a third of its work in the
    processor (`make bench`): every client the functions build sends a fixed User-Agent, and the
    DynamoDB client, where nearly all the calls are, sends without validation (a request a default
    client refuses before sending is sent; the in-memory DynamoDB still refuses it:
    `tests/store/test_memory_dynamodb.py`). SQS and S3 keep validating (`config.client_config`)."""
    import boto3
    from botocore.awsrequest import AWSResponse
    from botocore.exceptions import ParamValidationError

    from newsroom.core.config import client_config
    from newsroom.wiring import clients

    class _Empty:
        def stream(self, **_: Any) -> Any:
            yield b""

    sent: list[Any] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        sent.append(request)
        return AWSResponse(request.url, 200, {"content-length": "0"}, _Empty())

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # the session these clients make is theirs
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    clients.reset()
    try:
        dynamodb, sqs, s3 = clients.dynamodb(), clients.sqs(), clients.s3()
        for client in (dynamodb, sqs, s3):
            client.meta.events.register("before-send", answer)
        dynamodb.get_item(TableName="t", Key={"PK": {"S": "x"}}, ConsistentRead="not a boolean")
        sqs.send_message(QueueUrl="http://127.0.0.1:9/000000000000/q", MessageBody="m")
        s3.put_object(Bucket="b", Key="k", Body=b"x")
        for refused in (
            lambda: sqs.send_message(QueueUrl="http://127.0.0.1:9/000000000000/q", MessageBody=7),
            lambda: s3.put_object(Bucket="b", Key="k", Body=b"x", ContentLength="one"),
        ):
            with pytest.raises(ParamValidationError):
                refused()
    finally:
        clients.reset()
    assert len(sent) == 3  # the DynamoDB request of the wrong type among them
    for request in sent:
        user_agent = request.headers["User-Agent"]
        user_agent = user_agent.decode() if isinstance(user_agent, bytes) else user_agent
        assert user_agent.startswith(client_config().user_agent) and "ua/2" not in user_agent


def test_without_the_variable_the_fetch_worker_polls_the_template_s_default_at_once() -> None:
    """Local runs set no FETCH_CONCURRENCY: they poll as many at once as a deployed stack."""
    assert Settings.from_env({}).fetch_concurrency == int(PARAMETERS["FetchConcurrency"]["Default"])
