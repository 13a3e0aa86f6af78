"""Schemathesis fuzzes the local API from the committed OpenAPI document.

The API is the real handler behind the local API Gateway (`devtools.apigw`, HTTP on 127.0.0.1,
configured from template.yaml) over the moto-backed stack with the sample stories loaded. Every
operation gets at least 50 generated requests (operations without parameters have fewer distinct
ones, and Hypothesis stops when it has tried them all), valid and invalid alike, derandomized so CI sees the same
requests every run. Checks: no 5xx, every status, content type, header and body as the
document says, and invalid input rejected with a 4xx.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devtools import apigw

from .conftest import Stack

DOCUMENT = Path(__file__).resolve().parents[2] / "functions" / "api" / "openapi.json"
EXAMPLES_PER_OPERATION = 50
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

# The API is served on the stage's path (/v1), as API Gateway serves it; naming that path as the
# server lets schemathesis match each response to the operation it sent (its checks compare paths).
schema = schemathesis.openapi.from_dict(
    {**json.loads(DOCUMENT.read_text(encoding="utf-8")), "servers": [{"url": f"/{apigw.gateway_config().stage}"}]}
)


@pytest.fixture
def base_url(loaded: Stack, request: pytest.FixtureRequest) -> Iterator[str]:
    requests: Counter[str] = Counter()

    def count_and_handle(event: dict[str, Any], context: Any) -> Any:
        requests[event["httpMethod"]] += 1
        return loaded.api.lambda_handler(event, context)

    served = apigw.serve_module(SimpleNamespace(lambda_handler=count_and_handle)).start()
    try:
        yield served.base_url  # with the stage path, as `servers` names it
    finally:
        served.stop()
    # Every operation with parameters (all but /health) really got its 50 generated requests.
    if "/health" not in request.node.name:
        assert requests["GET"] >= EXAMPLES_PER_OPERATION, dict(requests)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, checks=CHECKS)
