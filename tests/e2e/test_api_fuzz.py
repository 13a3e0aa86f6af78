"""Schemathesis fuzzes the local API from the committed OpenAPI document.

The API is the real handler behind `devtools.local_run.make_api_server` (HTTP on 127.0.0.1)
over the moto-backed stack with the sample stories loaded. Every operation gets at least 50
generated requests (operations without parameters have fewer distinct ones, and Hypothesis
stops when it has tried them all), valid and invalid alike, derandomized so CI sees the same
requests every run. Checks: no 5xx, every status, content type, header and body as the
document says, and invalid input rejected with a 4xx.
"""

from __future__ import annotations

import threading
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

from devtools.local_run import make_api_server

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

schema = schemathesis.openapi.from_path(DOCUMENT)


@pytest.fixture
def base_url(loaded: Stack, request: pytest.FixtureRequest) -> Iterator[str]:
    requests: Counter[str] = Counter()

    def count_and_handle(event: dict[str, Any], context: Any) -> Any:
        requests[event["httpMethod"]] += 1
        return loaded.api.lambda_handler(event, context)

    server = make_api_server(0, SimpleNamespace(lambda_handler=count_and_handle))
    # Schemathesis also sends methods the document does not list (TRACE, PATCH, ...). The dev
    # server knows only a few verbs and answers the rest with its own 501; hand every verb to
    # the handler, which answers a 405 problem, as the Lambda would behind an ANY route.
    handler: Any = server.RequestHandlerClass

    def any_verb(self: Any, name: str) -> Any:
        if name.startswith("do_"):
            return self.do_GET
        raise AttributeError(name)

    handler.__getattr__ = any_verb
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
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
