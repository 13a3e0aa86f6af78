"""devtools.apigw: the local REST API Gateway follows AWS's documented Lambda-proxy rules.

Each test names the rule (the AWS page is cited where the gateway implements it). The handler
here is a stand-in that records its events, so each rule is seen on its own; the real API
function goes through the same gateway in tests/e2e/test_api_gateway.py.
"""

from __future__ import annotations

import base64
import gzip
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from devtools import apigw
from devtools.apigw import Gateway, GatewayConfig, HttpRequest, Route
from devtools.template import TEMPLATE

HTML = "<!doctype html><title>x</title>" + "<p>story</p>" * 200


def config(**changes: Any) -> GatewayConfig:
    base = GatewayConfig(
        api_id="NewsApi",
        function_id="ApiFunction",
        stage="v1",
        routes=(Route("GET", "/"), Route("GET", "/{proxy+}")),
        function_timeout_seconds=10,
    )
    return replace(base, **changes)


class Recorder:
    """A Lambda handler that answers `result` (or calls it with the event) and keeps the events."""

    def __init__(self, result: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.result = result if result is not None else {"statusCode": 200, "headers": {}, "body": "ok"}

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        return self.result(event) if callable(self.result) else self.result


def gzipped_result(text: str, content_type: str = "text/html; charset=utf-8") -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": content_type, "Content-Encoding": "gzip"},
        "body": base64.b64encode(gzip.compress(text.encode())).decode(),
        "isBase64Encoded": True,
    }


def get(gateway: Gateway, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b"") -> Any:
    return gateway.handle(HttpRequest("GET", target, [("Host", "127.0.0.1:3000"), *(headers or [])], body))


# --- configuration from template.yaml --------------------------------------------------------


def test_the_gateway_is_configured_from_template_yaml() -> None:
    cfg = apigw.gateway_config()
    assert cfg.stage == "v1"
    assert cfg.binary_media_types == ("*/*",)
    assert cfg.minimum_compression_size is None  # compression is the function's (README, API)
    assert set(cfg.routes) == {
        Route("GET", "/"),
        Route("GET", "/{proxy+}"),
        Route("GET", "/websub/{source}/{token}"),
        Route("POST", "/websub/{source}/{token}"),
    }
    assert cfg.function_id == "ApiFunction" and cfg.function_timeout_seconds == 10
    # The WebSub callback is its own function behind the same API (issue 19).
    assert {r.function_id for r in cfg.routes if r.resource.startswith("/websub/")} == {"WebSubCallbackFunction"}
    assert cfg.timeout_of("WebSubCallbackFunction") == 20
    # The quotas as AWS states them: 10 MB payload, 29 s integration timeout, Lambda's 6 MB.
    assert cfg.payload_limit_bytes == 10 * 1024 * 1024
    assert cfg.integration_timeout_seconds == 29
    assert cfg.lambda_payload_limit_bytes == 6 * 1024 * 1024


def test_a_template_change_is_seen(tmp_path: Path) -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    text = text.replace("      StageName: v1\n", "      StageName: prod\n      MinimumCompressionSize: 2048\n")
    text = text.replace('        - "*/*"\n', "        - image~1png\n        - application/octet-stream\n")
    text = text.replace(
        "            Path: /{proxy+}\n            Method: GET", "            Path: /{proxy+}\n            Method: ANY"
    )
    changed = tmp_path / "template.yaml"
    changed.write_text(text, encoding="utf-8")
    cfg = apigw.gateway_config(path=changed)
    assert cfg.stage == "prod" and cfg.minimum_compression_size == 2048
    assert cfg.binary_media_types == ("image/png", "application/octet-stream")  # SAM's ~1 is "/"
    assert Route("ANY", "/{proxy+}") in cfg.routes
    apigw.gateway_config()  # and the real template is read again afresh


# --- routes, stage and the 403 ----------------------------------------------------------------


def test_the_stage_prefix_is_required_and_stripped() -> None:
    handler = Recorder()
    gateway = Gateway(config(), handler)
    assert get(gateway, "/v1/articles?limit=2").status == 200
    event = handler.events[-1]
    assert event["path"] == "/articles" and event["resource"] == "/{proxy+}"
    assert event["pathParameters"] == {"proxy": "articles"}
    assert event["requestContext"]["stage"] == "v1"
    assert event["requestContext"]["path"] == "/v1/articles"
    assert event["requestContext"]["domainName"] == "127.0.0.1:3000"
    assert get(gateway, "/v1").status == 200 and handler.events[-1]["resource"] == "/"
    assert handler.events[-1]["pathParameters"] is None
    # Without the stage there is no such resource on the execute-api host.
    missing = get(gateway, "/articles")
    assert missing.status == 403 and json.loads(missing.body) == {"message": "Missing Authentication Token"}
    assert len(handler.events) == 2


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"])
def test_a_method_the_api_does_not_define_is_api_gateways_403(method: str) -> None:
    handler = Recorder()
    gateway = Gateway(config(), handler)
    resp = gateway.handle(HttpRequest(method, "/v1/articles", [("Host", "x")], b""))
    assert resp.status == 403
    assert json.loads(resp.body) == {"message": "Missing Authentication Token"}
    assert resp.header("x-amzn-ErrorType") == "MissingAuthenticationTokenException"
    assert handler.events == []  # the function never runs


def test_a_greedy_path_needs_a_segment_and_an_any_route_takes_every_method() -> None:
    handler = Recorder()
    gateway = Gateway(config(routes=(Route("ANY", "/{proxy+}"),)), handler)
    assert get(gateway, "/v1/").status == 403  # `/{proxy+}` does not match the root
    assert get(gateway, "/v1/a//b").status == 403  # nor an empty segment
    assert gateway.handle(HttpRequest("POST", "/v1/a/b", [], b"x")).status == 200
    assert handler.events[-1]["pathParameters"] == {"proxy": "a/b"}


# --- the event: multi-value headers and query strings, request bodies --------------------------


def test_repeated_headers_and_query_parameters_keep_every_value() -> None:
    handler = Recorder()
    gateway = Gateway(config(), handler)
    get(gateway, "/v1/feed.rss?coin=BTC&coin=ETH&empty=&q=a%20b", [("X-Tag", "one"), ("X-Tag", "two")])
    event = handler.events[-1]
    assert event["queryStringParameters"] == {"coin": "ETH", "empty": "", "q": "a b"}
    assert event["multiValueQueryStringParameters"] == {"coin": ["BTC", "ETH"], "empty": [""], "q": ["a b"]}
    assert event["headers"]["X-Tag"] == "two"
    assert event["multiValueHeaders"]["X-Tag"] == ["one", "two"]
    # The edge's own forwarding headers: a client cannot choose the scheme the function sees.
    get(gateway, "/v1/", [("X-Forwarded-Proto", "javascript"), ("X-Forwarded-For", "10.0.0.9")])
    event = handler.events[-1]
    assert event["headers"]["X-Forwarded-Proto"] == "https"
    assert event["headers"]["X-Forwarded-For"] == "10.0.0.9, 127.0.0.1"
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None


def test_request_bodies_arrive_base64_when_their_type_is_a_binary_media_type() -> None:
    handler = Recorder()
    routes = (Route("ANY", "/{proxy+}"),)
    star = Gateway(config(routes=routes, binary_media_types=("*/*",)), handler)
    star.handle(HttpRequest("POST", "/v1/x", [("Content-Type", "application/json")], b'{"a": 1}'))
    assert handler.events[-1]["isBase64Encoded"] is True
    assert base64.b64decode(handler.events[-1]["body"]) == b'{"a": 1}'
    plain = Gateway(config(routes=routes, binary_media_types=("image/png",)), handler)
    plain.handle(HttpRequest("POST", "/v1/x", [("Content-Type", "application/json")], b'{"a": 1}'))
    assert handler.events[-1]["isBase64Encoded"] is False and handler.events[-1]["body"] == '{"a": 1}'


# --- the response: base64 and binary media types ----------------------------------------------


@pytest.mark.parametrize(
    ("binary_media_types", "accept", "decoded"),
    [
        # Only the first Accept type counts: a browser's text/html first defeats a narrow list.
        (("application/octet-stream",), "application/octet-stream, text/html", True),
        (("application/octet-stream",), "text/html, application/octet-stream", False),
        (("text/*",), "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ((), "text/html", False),
        (("*/*",), "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        (("*/*",), None, True),  # no Accept, but the response's Content-Type matches */*
    ],
)
def test_base64_is_decoded_only_when_the_binary_media_types_match(
    binary_media_types: tuple[str, ...], accept: str | None, decoded: bool
) -> None:
    gateway = Gateway(config(binary_media_types=binary_media_types), Recorder(gzipped_result(HTML)))
    resp = get(gateway, "/v1/", [("Accept", accept)] if accept else [])
    assert resp.header("Content-Encoding") == "gzip"
    if decoded:
        assert gzip.decompress(resp.body).decode() == HTML
    else:
        # The function's base64 text, labelled gzip: what every reader got before BinaryMediaTypes.
        assert gzip.decompress(base64.b64decode(resp.body)).decode() == HTML


def test_the_response_content_type_alone_can_make_it_binary() -> None:
    result = gzipped_result(HTML, content_type="application/octet-stream")
    gateway = Gateway(config(binary_media_types=("application/octet-stream",)), Recorder(result))
    resp = get(gateway, "/v1/", [("Accept", "text/html")])
    assert gzip.decompress(resp.body).decode() == HTML


def test_headers_and_multi_value_headers_merge_with_the_multi_values_winning() -> None:
    result = {
        "statusCode": "201",
        "headers": {"X-One": "single", "X-Both": "from-headers"},
        "multiValueHeaders": {"X-Both": ["a", "b"], "Set-Cookie": ["c=1", "d=2"]},
        "body": "done",
    }
    resp = get(Gateway(config(), Recorder(result)), "/v1/")
    assert resp.status == 201 and resp.body == b"done"
    names = [(k, v) for k, v in resp.headers if k.startswith(("X-", "Set-"))]
    assert names == [
        ("X-One", "single"),
        ("X-Both", "a"),
        ("X-Both", "b"),
        ("Set-Cookie", "c=1"),
        ("Set-Cookie", "d=2"),
    ]


@pytest.mark.parametrize("result", [None, "text", {"body": "no status"}, {"statusCode": 200, "body": 5}])
def test_a_malformed_proxy_response_is_a_502(result: Any) -> None:
    resp = get(Gateway(config(), Recorder(lambda event: result)), "/v1/")
    assert resp.status == 502 and json.loads(resp.body) == {"message": "Internal server error"}


def test_a_function_error_is_a_502() -> None:
    def boom(event: dict[str, Any]) -> Any:
        raise RuntimeError("handler failed")

    assert get(Gateway(config(), Recorder(boom)), "/v1/").status == 502


# --- MinimumCompressionSize ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_encoding", "size", "coding"),
    [
        ("gzip", 2000, "gzip"),
        ("gzip, deflate, br", 2000, "gzip"),
        ("deflate", 2000, "deflate"),
        ("identity", 2000, None),
        ("gzip;q=0", 2000, None),
        (None, 2000, None),  # no header: API Gateway does not compress
        ("gzip", 1023, None),  # under minimumCompressionSize
        ("gzip", 1024, "gzip"),  # "greater than or equal to"
    ],
)
def test_minimum_compression_size_compresses_what_the_client_accepts(
    accept_encoding: str | None, size: int, coding: str | None
) -> None:
    text = "x" * size
    result = {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": text}
    gateway = Gateway(config(minimum_compression_size=1024), Recorder(result))
    resp = get(gateway, "/v1/", [("Accept-Encoding", accept_encoding)] if accept_encoding else [])
    assert resp.header("Content-Encoding") == coding
    if coding == "gzip":
        assert gzip.decompress(resp.body).decode() == text
    elif coding == "deflate":
        import zlib

        assert zlib.decompress(resp.body).decode() == text
    else:
        assert resp.body.decode() == text


def test_an_already_encoded_response_is_not_compressed_again() -> None:
    gateway = Gateway(config(binary_media_types=("*/*",), minimum_compression_size=0), Recorder(gzipped_result(HTML)))
    resp = get(gateway, "/v1/", [("Accept-Encoding", "gzip")])
    assert gzip.decompress(resp.body).decode() == HTML  # one layer of gzip, not two


def test_without_minimum_compression_size_nothing_is_compressed_by_the_gateway() -> None:
    result = {"statusCode": 200, "headers": {}, "body": "y" * 50_000}
    resp = get(Gateway(config(), Recorder(result)), "/v1/", [("Accept-Encoding", "gzip")])
    assert resp.header("Content-Encoding") is None and resp.body == b"y" * 50_000


# --- limits ---------------------------------------------------------------------------------------


def test_a_request_payload_over_10_mb_is_refused_with_413() -> None:
    handler = Recorder()
    gateway = Gateway(config(lambda_payload_limit_bytes=64 * 1024 * 1024), handler)
    over = get(gateway, "/v1/", body=b"a" * (10 * 1024 * 1024 + 1))
    assert over.status == 413 and json.loads(over.body) == {"message": "Request Too Long"}
    assert handler.events == []
    assert get(gateway, "/v1/", body=b"a" * (10 * 1024 * 1024)).status == 200


def test_a_lambda_response_over_6_mb_is_a_502() -> None:
    def sized(n: int) -> dict[str, Any]:
        return {"statusCode": 200, "headers": {}, "body": "z" * n}

    envelope = len(json.dumps(sized(0)))
    limit = 6 * 1024 * 1024
    assert get(Gateway(config(), Recorder(sized(limit - envelope))), "/v1/").status == 200
    too_big = get(Gateway(config(), Recorder(sized(limit - envelope + 1))), "/v1/")
    assert too_big.status == 502 and json.loads(too_big.body) == {"message": "Internal server error"}


def test_the_integration_timeout_is_a_504_and_the_function_timeout_a_502() -> None:
    def slow(event: dict[str, Any]) -> Any:
        time.sleep(0.5)
        return {"statusCode": 200, "body": "late"}

    # Scaled down from 29 s and the function's 10 s so the test takes a second, not half a minute.
    integration = Gateway(config(integration_timeout_seconds=0.1, function_timeout_seconds=5), Recorder(slow))
    resp = get(integration, "/v1/")
    assert resp.status == 504 and json.loads(resp.body) == {"message": "Endpoint request timed out"}
    function = Gateway(config(integration_timeout_seconds=5, function_timeout_seconds=0.1), Recorder(slow))
    assert get(function, "/v1/").status == 502
    patient = Gateway(config(integration_timeout_seconds=5, function_timeout_seconds=5), Recorder(slow))
    assert get(patient, "/v1/").body == b"late"


# --- over HTTP: malformed requests get a 400 --------------------------------------------------


@pytest.fixture
def served() -> Iterator[apigw.ServedGateway]:
    running = apigw.make_server(Gateway(config(), Recorder())).start()
    try:
        yield running
    finally:
        running.stop()


def raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(data)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /v1/\r\n\r\n",  # HTTP/0.9
        b"GET /v1/ HTTP/1.1 extra\r\n\r\n",
        b"GET /v1/ FOO/1.1\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\r\n\r\n",  # a TLS ClientHello on the plain port
        b"GET v1/articles HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET http://example.test/v1/ HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET /v1/ HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    ],
)
def test_a_malformed_request_gets_a_400_not_a_dropped_connection(
    served: apigw.ServedGateway, request_bytes: bytes
) -> None:
    answer = raw_exchange(served.port, request_bytes)
    assert answer.startswith(b"HTTP/1."), answer[:80]
    assert answer.split(b" ", 2)[1] == b"400", answer[:80]


def test_the_http_server_serves_the_stage(served: apigw.ServedGateway) -> None:
    answer = raw_exchange(served.port, b"GET /v1/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(b"\r\n\r\nok")
    assert served.base_url.endswith("/v1")
    big = raw_exchange(served.port, b"POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 10485761\r\n\r\n")
    assert big.split(b" ", 2)[1] == b"413"


def test_the_callback_route_reaches_its_own_function_with_the_body_base64() -> None:
    api, callback = (
        Recorder(lambda event: {"statusCode": 200, "body": "api"}),
        Recorder(lambda event: {"statusCode": 202, "body": "cb"}),
    )
    gateway = Gateway(apigw.gateway_config(), api, handlers={"WebSubCallbackFunction": callback})
    body = b"<rss>\xc3\xa9</rss>"
    request = HttpRequest("POST", "/v1/websub/src/tok", [("Host", "h"), ("Content-Type", "application/rss+xml")], body)
    resp = gateway.handle(request)
    assert resp.status == 202 and not api.events
    (event,) = callback.events
    assert event["pathParameters"] == {"source": "src", "token": "tok"}
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == body  # BinaryMediaTypes */*
    assert get(gateway, "/v1/websub/src/tok?hub.mode=subscribe").status == 202
    assert get(gateway, "/v1/sources").status == 200 and len(api.events) == 1
    # A method the template does not declare is API Gateway's own 403.
    put = HttpRequest("PUT", "/v1/websub/src/tok", [("Host", "h")], b"")
    assert gateway.handle(put).status == 403
