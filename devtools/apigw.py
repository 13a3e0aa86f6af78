"""A local REST API Gateway in front of the API function: the Lambda proxy integration as AWS
documents it, configured from template.yaml itself.

`make run`, the end-to-end tests over HTTP and the browser tests serve through it, so what a
client receives locally is what it would receive from the deployed stage: the stage prefix
(`/v1`), the routes the template declares (anything else is API Gateway's own 403), the
request event with its multi-value headers and query strings, the base64 decision for the
function's response, `MinimumCompressionSize`, and the payload and time limits. Each rule
cites the AWS page it comes from.

Read from the template on every `gateway_config()` call (no copy to drift): the Api resource's
`StageName`, `BinaryMediaTypes` and `MinimumCompressionSize` (Globals.Api merged in), the
functions' `Api` events on that API (path and method) and each function's `Timeout`. The API
function (the one behind the greedy `/{proxy+}`) is the gateway's `handler`; another function's
routes (the WebSub callback's) are served by the handler given for it in `handlers`.

Not modelled: authorizers, API keys and usage plans, throttling (stage `MethodSettings`),
caching, request validation and mapping templates (a proxy integration has none), custom
domains and base path mappings, the 10,240-byte limit on the request line and headers, and
the exact URL decoding API Gateway applies to `path`. SAM CLI's `sam local start-api` is no
substitute: it matches the whole `Accept` header against the binary media types (API Gateway
judges only the first type), models none of the limits, and needs Docker to run a function.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from devtools.template import TEMPLATE, load_template
from newsroom.serve.caching import coding_weights

# "Quotas for configuring and running a REST API in API Gateway"
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html):
# payload size 10 MB, integration timeout 50 ms to 29 seconds (the default maximum).
PAYLOAD_LIMIT_BYTES = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_SECONDS = 29.0
# "Lambda quotas" (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html) and the
# Invoke API (https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html): a synchronous
# invocation's payload is at most 6 MB, request and response alike. A bigger response is an
# invocation error, which API Gateway answers with 502.
LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024
# "Payload compression for REST APIs" (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-enable-compression.html):
# the content codings API Gateway supports.
SUPPORTED_CODINGS = ("gzip", "deflate", "identity")

_ERROR_TYPES = {
    403: "MissingAuthenticationTokenException",
    413: "RequestTooLongException",
    502: "InternalServerErrorException",
    504: "IntegrationTimeoutException",
}


# --- configuration from template.yaml --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    """One method on one resource, as an `Api` event declares it (`/{proxy+}`, `GET`)."""

    method: str
    resource: str
    # The template's logical id of the function behind it ("": the gateway's main handler).
    function_id: str = field(default="", compare=False)

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters when `path` is on this resource, else None."""
        wanted = [s for s in self.resource.split("/") if s]
        given = path.split("/")[1:] if path != "/" else []
        params: dict[str, str] = {}
        for i, segment in enumerate(wanted):
            if segment.startswith("{") and segment.endswith("+}"):
                rest = given[i:]
                # A greedy variable takes one or more segments, never an empty one.
                if not rest or any(not s for s in rest):
                    return None
                params[segment[1:-2]] = "/".join(rest)
                return params
            if i >= len(given) or not given[i]:
                return None
            if segment.startswith("{") and segment.endswith("}"):
                params[segment[1:-1]] = given[i]
            elif segment != given[i]:
                return None
        return params if len(given) == len(wanted) else None

    @property
    def specificity(self) -> tuple[int, int]:
        """API Gateway prefers a literal resource over a variable one, and both over a greedy one."""
        greedy = self.resource.endswith("+}")
        literal = sum(1 for s in self.resource.split("/") if s and not s.startswith("{"))
        return (0 if greedy else 1, literal)


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    api_id: str
    function_id: str
    stage: str
    routes: tuple[Route, ...]
    binary_media_types: tuple[str, ...] = ()
    minimum_compression_size: int | None = None
    function_timeout_seconds: float = 3.0
    integration_timeout_seconds: float = INTEGRATION_TIMEOUT_SECONDS
    payload_limit_bytes: int = PAYLOAD_LIMIT_BYTES
    lambda_payload_limit_bytes: int = LAMBDA_SYNC_PAYLOAD_BYTES
    # The `Timeout` of each other function behind the API (the main one's is above).
    other_timeouts: Mapping[str, float] = field(default_factory=dict)

    def timeout_of(self, function_id: str) -> float:
        if not function_id or function_id == self.function_id:
            return self.function_timeout_seconds
        return self.other_timeouts.get(function_id, self.function_timeout_seconds)


def _resolve(value: Any, template: Mapping[str, Any]) -> Any:
    """A `!Ref` to a parameter as its default; anything else as written."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        parameter = template.get("Parameters", {}).get(value["Ref"])
        if parameter is None:
            raise ValueError(f"cannot resolve !Ref {value['Ref']} locally")
        return parameter.get("Default")
    if isinstance(value, list):
        return [_resolve(v, template) for v in value]
    return value


def gateway_config(api_id: str = "NewsApi", path: Path = TEMPLATE) -> GatewayConfig:
    """The gateway `api_id` describes in the template at `path`, read afresh."""
    template = load_template(path)
    resources: Mapping[str, Any] = template["Resources"]
    api = resources[api_id]
    if api["Type"] != "AWS::Serverless::Api":
        raise ValueError(f"{api_id} is not an AWS::Serverless::Api")
    props = {**template.get("Globals", {}).get("Api", {}), **api.get("Properties", {})}
    routes: list[Route] = []
    functions: list[str] = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") != "Api" or event.get("Properties", {}).get("RestApiId") != {"Ref": api_id}:
                continue
            method, resource = str(event["Properties"]["Method"]).upper(), str(event["Properties"]["Path"])
            routes.append(Route(method, resource, logical_id))
            if logical_id not in functions:
                functions.append(logical_id)
    greedy = [r.function_id for r in routes if r.resource.endswith("+}")]
    if not functions or len(set(greedy)) > 1:
        raise ValueError(f"{api_id} must front one main function (the greedy route's); found {functions}")
    main = greedy[0] if greedy else functions[0]
    default_timeout = template.get("Globals", {}).get("Function", {}).get("Timeout", 3)

    def timeout_of(logical_id: str) -> float:
        function = resources[logical_id].get("Properties", {})
        return float(_resolve(function.get("Timeout", default_timeout), template))

    minimum = _resolve(props.get("MinimumCompressionSize"), template)
    # SAM writes "/" in a media type as "~1" (a JSON-pointer escape) and accepts both spellings.
    binary = tuple(str(t).replace("~1", "/") for t in _resolve(props.get("BinaryMediaTypes") or [], template))
    return GatewayConfig(
        api_id=api_id,
        function_id=main,
        stage=str(_resolve(props["StageName"], template)),
        routes=tuple(routes),
        binary_media_types=binary,
        minimum_compression_size=int(minimum) if minimum is not None else None,
        function_timeout_seconds=timeout_of(main),
        other_timeouts={f: timeout_of(f) for f in functions if f != main},
    )


# --- the rules -------------------------------------------------------------------------------


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _media_type_matches(media_type: str, pattern: str) -> bool:
    if not media_type or "/" not in media_type:
        return False
    kind, _, sub = media_type.partition("/")
    want_kind, _, want_sub = pattern.lower().partition("/")
    return want_kind in ("*", kind) and want_sub in ("*", sub)


def first_accept_type(accept: str | None) -> str:
    """The first media type of an `Accept` header, the only one API Gateway looks at."""
    return _media_type((accept or "").split(",", 1)[0])


def is_binary(config: GatewayConfig, accept: str | None, content_type: str | None) -> bool:
    """Whether API Gateway treats the response as binary, i.e. decodes the function's base64.

    "Binary media types for REST APIs" (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html):
    the API's `binaryMediaTypes` are matched against the response's `Content-Type` or the
    request's `Accept`, and "API Gateway uses the first Accept header from clients to determine
    if a response should return binary media"; hence the advice to use `*/*` for browsers.
    """
    candidates = (first_accept_type(accept), _media_type(content_type))
    return any(_media_type_matches(c, p) for c in candidates if c for p in config.binary_media_types)


def gateway_coding(accept_encoding: str | None) -> str | None:
    """The coding API Gateway compresses with for this `Accept-Encoding`, or None.

    "Receive an API response with a compressed payload" (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-receive-response-with-compressed-payload.html):
    without the header API Gateway does not compress; it uses a supported coding the client
    names. q=0 means "not acceptable" (RFC 9110 §12.5.3), which is honoured here.
    """
    if not accept_encoding:
        return None
    weights = coding_weights(accept_encoding)
    for coding in ("gzip", "deflate"):
        if weights.get(coding, 0.0) > 0:
            return coding
    return None


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    target: str  # the request-target as sent: path and query
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[-1] if values else None


def _gateway_error(status: int, message: str) -> HttpResponse:
    body = json.dumps({"message": message}).encode()
    headers = (
        ("Content-Type", "application/json"),
        ("x-amzn-ErrorType", _ERROR_TYPES[status]),
        ("x-amzn-RequestId", str(uuid.uuid4())),
    )
    return HttpResponse(status, headers, body)


def _multi(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """The single- and multi-value forms of repeated names.

    "Set up a proxy integration with a proxy resource" / input format
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format):
    `headers` and `queryStringParameters` hold the last value of a repeated name, the
    `multiValue…` fields every value in order.
    """
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return (single or None), (multi or None)


class Gateway:
    """The REST API stage in front of its Lambda handlers (called in-process): `handler` for the
    main function, `handlers` by logical id for the others (a route whose function has no
    handler here fails as an integration error, a 502)."""

    def __init__(
        self,
        config: GatewayConfig,
        handler: Callable[[dict[str, Any], Any], Any],
        context_factory: Callable[[], Any] | None = None,
        handlers: Mapping[str, Callable[[dict[str, Any], Any], Any]] | None = None,
    ) -> None:
        self.config = config
        self.handler = handler
        self.handlers = dict(handlers or {})
        self.context_factory = context_factory or _default_context(config.function_id)
        # What the edge reports in X-Forwarded-*: https on 443 in AWS; the local server sets its own.
        self.scheme = "https"
        self.port = 443

    # -- request --------------------------------------------------------------------------

    def _route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        found = []
        for route in self.config.routes:
            params = route.match(path)
            if params is not None and route.method in (method, "ANY"):
                found.append((route, params))
        if not found:
            return None
        # A method declared on the resource beats ANY; a more specific resource beats a greedy one.
        return max(found, key=lambda rp: (rp[0].specificity, rp[0].method != "ANY"))

    def event(self, request: HttpRequest, route: Route, params: dict[str, str], path: str) -> dict[str, Any]:
        _, _, query = request.target.partition("?")
        # The stage's edge adds these (the scheme and port are its own, whatever a client sent).
        sent = [(k, v) for k, v in request.headers if k.lower() not in ("x-forwarded-proto", "x-forwarded-port")]
        forwarded_for = ", ".join([*(v for k, v in sent if k.lower() == "x-forwarded-for"), request.source_ip])
        sent = [(k, v) for k, v in sent if k.lower() != "x-forwarded-for"]
        sent += [
            ("X-Forwarded-For", forwarded_for),
            ("X-Forwarded-Port", str(self.port)),
            ("X-Forwarded-Proto", self.scheme),
            ("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"),
        ]
        headers, multi_headers = _multi(sent)
        query_single, query_multi = _multi(parse_qsl(query, keep_blank_values=True))
        host = (headers or {}).get("Host") or next((v for k, v in request.headers if k.lower() == "host"), "")
        content_type = next((v for k, v in request.headers if k.lower() == "content-type"), None)
        # Binary media types decide request bodies too: a matching Content-Type arrives base64
        # ("Binary media types for REST APIs", as above); `*/*` makes every body base64.
        binary_body = any(_media_type_matches(_media_type(content_type), p) for p in self.config.binary_media_types)
        body: str | None = None
        if request.body:
            body = base64.b64encode(request.body).decode() if binary_body else request.body.decode("utf-8", "replace")
        now = time.time()
        return {
            "resource": route.resource,
            "path": path,
            "httpMethod": request.method,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query_single,
            "multiValueQueryStringParameters": query_multi,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "local",
                "resourcePath": route.resource,
                "httpMethod": request.method,
                "path": f"/{self.config.stage}{path}",
                "stage": self.config.stage,
                "domainName": host,
                "domainPrefix": host.split(".", 1)[0],
                "requestId": str(uuid.uuid4()),
                "extendedRequestId": str(uuid.uuid4()),
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "requestTimeEpoch": int(now * 1000),
                "identity": {
                    "sourceIp": request.source_ip,
                    "userAgent": (headers or {}).get("User-Agent"),
                },
                "accountId": "123456789012",
                "apiId": "local",
                "protocol": "HTTP/1.1",
            },
            "body": body,
            "isBase64Encoded": bool(body) and binary_body,
        }

    # -- invocation -----------------------------------------------------------------------

    def _handler_for(self, function_id: str) -> Callable[[dict[str, Any], Any], Any] | None:
        if not function_id or function_id == self.config.function_id:
            return self.handler
        return self.handlers.get(function_id)

    def _invoke(self, event: dict[str, Any], function_id: str = "") -> tuple[str, Any]:
        """("ok", result), ("error", exc), ("function-timeout", None) or ("integration-timeout", None)."""
        outcome: dict[str, Any] = {}
        handler = self._handler_for(function_id)
        if handler is None:
            return "error", LookupError(f"no handler for {function_id}")

        def run() -> None:
            try:
                outcome["result"] = handler(event, self.context_factory())
            except BaseException as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=run, daemon=True, name="apigw-invoke")
        worker.start()
        cfg = self.config
        timeout = cfg.timeout_of(function_id)
        worker.join(min(timeout, cfg.integration_timeout_seconds))
        if worker.is_alive():
            # The function's own Timeout ends the invocation as an error (502); API Gateway's
            # integration timeout, when it is the shorter, answers 504 instead.
            if cfg.integration_timeout_seconds <= timeout:
                return "integration-timeout", None
            return "function-timeout", None
        if "error" in outcome:
            return "error", outcome["error"]
        return "ok", outcome.get("result")

    # -- the whole exchange ----------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse:
        raw_path = request.target.partition("?")[0]
        prefix = f"/{self.config.stage}"
        if raw_path != prefix and not raw_path.startswith(prefix + "/"):
            # No stage in the URL: the stage's invoke URL is https://{api}.execute-api.{region}.amazonaws.com/{stage}.
            return _gateway_error(403, "Missing Authentication Token")
        path = raw_path[len(prefix) :] or "/"
        found = self._route(request.method.upper(), path)
        if found is None:
            # "How do I troubleshoot Missing Authentication Token errors"
            # (https://repost.aws/knowledge-center/api-gateway-authentication-token-errors): a
            # request to a method or resource the API does not define is API Gateway's own 403,
            # before any integration runs.
            return _gateway_error(403, "Missing Authentication Token")
        if len(request.body) > self.config.payload_limit_bytes:
            return _gateway_error(413, "Request Too Long")
        route, params = found
        event = self.event(request, route, params, path)
        if len(json.dumps(event).encode()) > self.config.lambda_payload_limit_bytes:
            # The invocation request is bound by the same 6 MB (Lambda quotas, as above).
            return _gateway_error(413, "Request Too Long")
        status, result = self._invoke(event, route.function_id)
        if status == "integration-timeout":
            return _gateway_error(504, "Endpoint request timed out")
        if status != "ok":
            return _gateway_error(502, "Internal server error")
        # The response travels from Lambda as JSON; the 6 MB counts that serialization.
        try:
            payload_size = len(json.dumps(result).encode())
        except (TypeError, ValueError):
            return _gateway_error(502, "Internal server error")
        if payload_size > self.config.lambda_payload_limit_bytes:
            return _gateway_error(502, "Internal server error")
        return self._response(request, result)

    def _response(self, request: HttpRequest, result: Any) -> HttpResponse:
        """The client's response from the function's proxy result.

        Output format ("Set up Lambda proxy integrations", #api-gateway-simple-proxy-for-lambda-output-format,
        https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html):
        statusCode, headers, multiValueHeaders, body, isBase64Encoded; anything else is a
        malformed proxy response, a 502. When a name is in both header maps, only the
        multiValueHeaders values are sent.
        """
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int | str):
            return _gateway_error(502, "Internal server error")
        try:
            status = int(result["statusCode"])
        except ValueError:
            return _gateway_error(502, "Internal server error")
        body_text = result.get("body")
        if body_text is not None and not isinstance(body_text, str):
            return _gateway_error(502, "Internal server error")
        merged: list[tuple[str, str]] = []
        multi = result.get("multiValueHeaders") or {}
        for name, value in (result.get("headers") or {}).items():
            if name.lower() not in {m.lower() for m in multi}:
                merged.append((name, str(value)))
        for name, values in multi.items():
            merged.extend((name, str(v)) for v in values)
        request_headers = {k.lower(): v for k, v in request.headers}
        content_type = next((v for k, v in merged if k.lower() == "content-type"), None)
        body = (body_text or "").encode("utf-8")
        if (
            result.get("isBase64Encoded")
            and body_text
            and is_binary(self.config, request_headers.get("accept"), content_type)
        ):
            body = base64.b64decode(body_text)
        # Otherwise the base64 text itself is the body: what a client gets from a function that
        # encodes a response the API's binary media types do not cover.
        body, merged = self._compress(request_headers.get("accept-encoding"), body, merged)
        merged.append(("x-amzn-RequestId", str(uuid.uuid4())))
        return HttpResponse(status, tuple(merged), body)

    def _compress(
        self, accept_encoding: str | None, body: bytes, headers: list[tuple[str, str]]
    ) -> tuple[bytes, list[tuple[str, str]]]:
        """API Gateway's own compression, as "Receive an API response with a compressed payload"
        (as above) states its conditions: minimumCompressionSize set, a supported coding
        accepted, no Content-Encoding on the integration response, and a payload of at least
        minimumCompressionSize bytes. It neither touches ETag nor adds Vary."""
        minimum = self.config.minimum_compression_size
        if minimum is None or any(k.lower() == "content-encoding" for k, _ in headers) or len(body) < minimum:
            return body, headers
        coding = gateway_coding(accept_encoding)
        if coding is None:
            return body, headers
        packed = gzip.compress(body) if coding == "gzip" else zlib.compress(body)
        return packed, [*headers, ("Content-Encoding", coding)]


def _default_context(function_name: str) -> Callable[[], Any]:
    from devtools.lambda_local import FakeLambdaContext

    return lambda: FakeLambdaContext(function_name=function_name)


# --- HTTP on loopback ------------------------------------------------------------------------


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass
class ServedGateway:
    """A running local gateway: `base_url` ends with the stage (`http://127.0.0.1:3000/v1`)."""

    server: ThreadingHTTPServer
    gateway: Gateway
    thread: threading.Thread | None = field(default=None)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.gateway.config.stage}"

    def start(self) -> ServedGateway:
        # serve_forever checks for shutdown every poll_interval (0.5 s by default): every stop()
        # waited that long, 0.5 s a test for every test that starts a gateway.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True, name="apigw-http"
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def make_server(
    gateway: Gateway,
    port: int = 0,
    log: Callable[[str], None] | None = None,
) -> ServedGateway:
    """The gateway on http://127.0.0.1:`port`, one thread per connection."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "NewsroomLocalApiGateway/1.0"
        # Anything unparseable is answered in HTTP/1.x with a status line, never as HTTP/0.9
        # (a bare body, which a client cannot tell from a dropped connection).
        default_request_version = "HTTP/1.0"

        def log_message(self, format: str, *args: object) -> None:
            if log is not None:
                status = args[1] if len(args) > 1 else ""
                log(f"  {getattr(self, 'command', '-')} {getattr(self, 'path', '-')} -> {status}")

        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            words = self.requestline.split()
            if len(words) != 3:  # HTTP/0.9's "GET /": API Gateway speaks HTTP/1.1 and 2 only
                self.send_error(400, "Bad request syntax")
                return False
            if not _TOKEN.match(self.command) or not self.path.startswith("/"):
                self.send_error(400, "Bad request target; expected an absolute path")
                return False
            return True

        def _read_body(self) -> bytes | None:
            if self.headers.get("Transfer-Encoding"):
                self.send_error(411, "Length Required; send Content-Length")
                return None
            raw = self.headers.get_all("Content-Length") or []
            if not raw:
                return b""
            if len(set(raw)) != 1 or not raw[0].strip().isdigit():
                self.send_error(400, "Bad Content-Length")
                return None
            length = int(raw[0])
            if length > gateway.config.payload_limit_bytes:
                self._send(_gateway_error(413, "Request Too Long"))
                self.close_connection = True
                return None
            return self.rfile.read(length)

        def _send(self, response: HttpResponse) -> None:
            self.send_response(response.status)
            for key, value in response.headers:
                if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def _handle(self) -> None:
            body = self._read_body()
            if body is None:
                return
            request = HttpRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
            )
            self._send(gateway.handle(request))

        def __getattr__(self, name: str) -> Any:
            # Every method reaches the gateway, which answers the ones the API lacks with its 403.
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    gateway.scheme, gateway.port = "http", int(server.server_address[1])
    return ServedGateway(server=server, gateway=gateway)


def serve_module(
    api_module: Any,
    port: int = 0,
    *,
    config: GatewayConfig | None = None,
    log: Callable[[str], None] | None = None,
    others: Mapping[str, Any] | None = None,
) -> ServedGateway:
    """The template's API in front of a loaded `functions/api/app.py` module (and `others`: the
    other functions' loaded modules by logical id), not yet started."""
    cfg = config or gateway_config()
    handlers = {name: module.lambda_handler for name, module in (others or {}).items()}
    return make_server(Gateway(cfg, api_module.lambda_handler, handlers=handlers), port, log=log)
