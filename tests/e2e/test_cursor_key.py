"""The cursor key comes from the stack's own secret (Secrets Manager, moto here), read once per
execution environment and only when a request pages; with no secret configured (the local run's
CURSOR_SECRET, tests) the environment's key is used, so nothing needs an AWS account."""

from __future__ import annotations

import json

import boto3
import pytest

from devtools.stack import TEST_CURSOR_SECRET
from devtools.template import create_cursor_secret, resource_properties
from newsroom.store.cursor import CursorCodec
from newsroom.wiring import clients as runtime
from tests.e2e.conftest import Stack


def _use_secret(monkeypatch: pytest.MonkeyPatch, arn: str) -> None:
    monkeypatch.setenv("CURSOR_SECRET_ARN", arn)
    runtime.reset()  # a new execution environment


def _page(stack: Stack, path: str) -> dict[str, object]:
    response = stack.get(path)
    assert response["statusCode"] == 200, response["body"]
    return dict(json.loads(str(response["body"])))


def test_cursors_are_signed_with_the_stacks_generated_secret(loaded: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = create_cursor_secret(secrets)
    key = secrets.get_secret_value(SecretId=arn)["SecretString"]
    generate = resource_properties("CursorKeySecret")["GenerateSecretString"]
    assert len(key) == generate["PasswordLength"] and key.isalnum()
    _use_secret(monkeypatch, arn)

    first = _page(loaded, "/articles?limit=2")
    cursor = str(first["next_cursor"])
    assert CursorCodec(key.encode()).decode("all", cursor)  # the secret's key signed it
    with pytest.raises(ValueError, match="not issued by this API"):
        CursorCodec(TEST_CURSOR_SECRET.encode()).decode("all", cursor)  # not the environment's
    second = _page(loaded, f"/articles?limit=2&cursor={cursor}")
    assert {a["id"] for a in second["items"]}.isdisjoint(a["id"] for a in first["items"])  # type: ignore[union-attr]
    sources = _page(loaded, "/sources?limit=1")
    assert sources["next_cursor"]

    # Read once per execution environment: with the secret gone, this one still pages...
    secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    assert _page(loaded, f"/articles?limit=2&cursor={cursor}")["items"] == second["items"]
    # ...and a forged cursor (signed with the environment's key) is still a 400.
    forged = CursorCodec(TEST_CURSOR_SECRET.encode()).encode("all", "9999")
    refused = loaded.get(f"/articles?limit=2&cursor={forged}")
    assert refused["statusCode"] == 400
    # A new environment has to read it again (and cannot: the secret is gone).
    runtime.reset()
    with pytest.raises(Exception, match=r"ResourceNotFound|can.t find"):
        runtime.settings().cursor_key()


def test_a_request_that_does_not_page_never_reads_the_secret(loaded: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fetch and process functions build the same store and have no secret to read; on the
    API, a story or a first page without a next page costs no Secrets Manager call."""
    _use_secret(monkeypatch, "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf")
    story = json.loads(str(loaded.get("/articles?limit=100")["body"]))
    assert story["next_cursor"] is None  # every story fits: nothing was signed
    assert loaded.get(f"/articles/{story['items'][0]['id']}")["statusCode"] == 200
    assert loaded.get("/prices")["statusCode"] == 200


def test_without_a_secret_the_environments_key_signs_cursors(loaded: Stack) -> None:
    """The local run and the tests: CURSOR_SECRET (or the local default), no AWS account."""
    assert runtime.settings().cursor_secret_arn is None
    cursor = str(_page(loaded, "/articles?limit=2")["next_cursor"])
    assert CursorCodec(TEST_CURSOR_SECRET.encode()).decode("all", cursor)
