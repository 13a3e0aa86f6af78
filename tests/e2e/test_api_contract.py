"""The API's contract: the committed OpenAPI document, the new routes and filters, HTTP caching."""

from __future__ import annotations

import base64
import gzip
import importlib.util
import json
import subprocess
import sys
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from newsroom.serve.api import Api
from newsroom.serve.routes import ROUTES, parse_since

from .conftest import Stack

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT_PATH = ROOT / "functions" / "api" / "openapi.json"
DOCUMENT = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_openapi", ROOT / "scripts" / "gen_openapi.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def body_of(resp: dict[str, Any]) -> str:
    raw = resp["body"] or ""
    if resp.get("isBase64Encoded"):
        data = base64.b64decode(raw)
        return gzip.decompress(data).decode() if data[:2] == b"\x1f\x8b" else data.decode()
    return str(raw)


def conforms(resp: dict[str, Any], path: str, status: str = "200") -> Any:
    """The response's body, after checking it against the document's schema for that response."""
    responses = DOCUMENT["paths"][path]["get"]["responses"]
    assert status in responses, f"{path} does not document {status}"
    response = responses[status]
    if "$ref" in response:
        response = DOCUMENT["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    (media_type, content), *_ = response["content"].items()
    assert resp["headers"]["Content-Type"].split(";")[0] == media_type
    for name, header in response.get("headers", {}).items():
        if header.get("required"):
            assert name in resp["headers"], f"{path} {status} lacks {name}"
    text = body_of(resp)
    if not media_type.endswith("json"):
        return text
    doc = json.loads(text)
    schema = {**content["schema"], "components": DOCUMENT["components"]}
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator, format_checker=jsonschema.FormatChecker())
    return doc


def problem(resp: dict[str, Any], status: int) -> dict[str, Any]:
    assert resp["statusCode"] == status
    assert resp["headers"]["Content-Type"] == "application/problem+json"
    assert resp["headers"]["Cache-Control"] == "no-store"
    doc = json.loads(resp["body"])
    assert doc["status"] == status and doc["title"] and doc["detail"] and doc["type"] == "about:blank"
    return doc


# --- the document ---------------------------------------------------------------------------


def test_committed_openapi_document_is_what_the_code_generates() -> None:
    gen = generator()
    assert gen.render_document() == DOCUMENT_PATH.read_text(encoding="utf-8"), (
        "functions/api/openapi.json is stale: run python scripts/gen_openapi.py"
    )
    assert gen.main(["--check"]) == 0


def test_generator_check_fails_on_a_stale_document(tmp_path: Path) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text(DOCUMENT_PATH.read_text(encoding="utf-8").replace('"Price ticker"', '"Prices"', 1))
    assert generator().main(["--check", "--output", str(stale)]) == 1


def test_document_is_valid_openapi_3_1_and_describes_every_route() -> None:
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")
    api = Api(lambda: None)  # type: ignore[arg-type,return-value]
    registered = {route for (route, _method) in _router_routes(api)}
    documented = {path.replace("{", "<").replace("}", ">") for path in DOCUMENT["paths"]}
    assert registered == documented
    assert all(set(item) == {"get"} for item in DOCUMENT["paths"].values())
    for path, item in DOCUMENT["paths"].items():
        op = item["get"]
        assert op["operationId"] and op["summary"] and op["description"], path
        assert "200" in op["responses"] and "500" in op["responses"], path
    listing = {p["name"] for p in DOCUMENT["paths"]["/articles"]["get"]["parameters"]}
    assert {"limit", "cursor", "category", "coin", "source", "since"} <= listing
    for feed in ("/feed.json", "/feed.rss", "/feed.atom"):
        params = {p["name"]: p for p in DOCUMENT["paths"][feed]["get"]["parameters"]}
        assert params["limit"]["schema"]["maximum"] == 100 and params["limit"]["schema"]["minimum"] == 1
        assert "400" in DOCUMENT["paths"][feed]["get"]["responses"]
    problem_schema = DOCUMENT["components"]["schemas"]["Problem"]
    assert set(problem_schema["required"]) == {"type", "title", "status", "detail"}
    assert "application/problem+json" in DOCUMENT["components"]["responses"]["BadRequest"]["content"]


def _router_routes(api: Api) -> list[tuple[str, str]]:
    # Powertools keeps a router's routes as {(rule, methods, cors, compress, cache_control, ...): fn}.
    return [(key[0], key[1][0] if isinstance(key[1], tuple) else key[1]) for key in api.router._routes]


def test_openapi_json_is_served_from_the_packaged_file(loaded: Stack) -> None:
    resp = loaded.get("/openapi.json")
    assert resp["statusCode"] == 200
    assert resp["headers"]["Content-Type"] == "application/json"
    assert json.loads(resp["body"]) == DOCUMENT
    assert resp["headers"]["Cache-Control"] == "public, max-age=3600"
    assert loaded.get("/openapi.json", {"If-None-Match": resp["headers"]["ETag"]})["statusCode"] == 304


def test_every_route_answers_as_documented(loaded: Stack) -> None:
    article_id = json.loads(loaded.get("/articles?limit=1")["body"])["items"][0]["id"]
    event_id = json.loads(loaded.get("/events?limit=1")["body"])["items"][0]["id"]
    for spec in ROUTES:
        path = spec.path.replace("{article_id}", article_id).replace("{event_id}", event_id)
        resp = loaded.get(path)
        assert resp["statusCode"] == 200, path
        conforms(resp, spec.path)
    conforms(loaded.get("/articles?limit=0"), "/articles", "400")
    conforms(loaded.get("/articles/ffffffffffffffffffff"), "/articles/{article_id}", "404")
    conforms(loaded.get("/events?order=hot"), "/events", "400")
    conforms(loaded.get("/events/ffffffffffffffffffff"), "/events/{event_id}", "404")
    conforms(loaded.get("/feed.json?collapse=story"), "/feed.json", "400")


def test_importing_the_handler_builds_no_tracer_and_no_pydantic() -> None:
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; import app; "
        "heavy = sorted(m for m in ('pydantic', 'aws_xray_sdk', 'boto3') if m in sys.modules); "
        "assert not heavy, heavy"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code, str(ROOT / "functions" / "api"), str(ROOT / "shared")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- /sources -------------------------------------------------------------------------------


def test_sources_lists_each_source_with_its_health(loaded: Stack) -> None:
    resp = loaded.get("/sources")
    doc = conforms(resp, "/sources")
    by_id = {s["id"]: s for s in doc["items"]}
    assert set(by_id) == {"defiliban", "cryptowire", "blockledger", "gone-gazette"}
    gone = by_id["gone-gazette"]["health"]
    assert gone["status"] == "failing" and gone["consecutive_failures"] == 1
    assert gone["last_error"].startswith("http-404") and gone["last_success"] is None
    ok = by_id["defiliban"]
    assert ok["health"]["status"] == "ok" and ok["health"]["last_success"] and ok["health"]["last_error"] is None
    assert ok["name"] == "DeFi Liban" and ok["homepage"].startswith("http") and ok["role"] == "original"
    assert by_id["cryptowire"]["role"] == "aggregator"
    assert resp["headers"]["Cache-Control"] == "public, max-age=60"


def test_sources_before_any_poll_are_unknown(stack: Stack) -> None:
    doc = conforms(stack.get("/sources"), "/sources")
    assert {s["health"]["status"] for s in doc["items"]} == {"unknown"}
    assert all(s["health"]["consecutive_failures"] == 0 for s in doc["items"])


# --- since ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-05-31", datetime(2026, 5, 31, tzinfo=UTC)),
        ("2026-05-31T08:00:00Z", datetime(2026, 5, 31, 8, tzinfo=UTC)),
        ("2026-05-31t08:00:00z", datetime(2026, 5, 31, 8, tzinfo=UTC)),
        ("2026-05-31T10:30:00+02:30", datetime(2026, 5, 31, 8, tzinfo=UTC)),
        ("2026-05-31T08:00:00.000Z", datetime(2026, 5, 31, 8, tzinfo=UTC)),
        ("2026-05-31T08:00:00.25Z", datetime(2026, 5, 31, 8, 0, 1, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("0001-01-01T00:00:00+01:00", datetime(1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59-01:00", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_since_reads_rfc3339(raw: str, expected: datetime) -> None:
    assert parse_since(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["yesterday", "2026-13-01", "2026-02-30", "2026-05-31T25:00:00Z", "2026-05-31T08:00:00", "2026-05-31 08:00:00Z",
     "2026-05-31T08:00:00+24:00", "20260531", "2026-05-31T08:00Z", "١٢٣٤-05-31"],
)  # fmt: skip
def test_since_refuses_what_is_not_rfc3339(raw: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked through the API below
        parse_since(raw)


def _published(loaded: Stack) -> list[str]:
    return [a["published"] for a in json.loads(loaded.get("/articles?limit=100")["body"])["items"]]


def test_since_filters_lists_and_feeds_by_publication_time(loaded: Stack) -> None:
    published = _published(loaded)
    assert len(published) == 6 and len(set(published)) > 2
    cut = sorted(published)[len(published) // 2]  # an exact publication time: inclusive
    expected = [p for p in published if p >= cut]
    got = json.loads(loaded.get(f"/articles?since={cut}")["body"])["items"]
    assert [a["published"] for a in got] == expected
    feed = json.loads(body_of(loaded.get(f"/feed.json?since={cut}")))
    assert [i["date_published"] for i in feed["items"]] == expected
    assert feed["feed_url"].endswith(f"/feed.json?since={cut.replace(':', '%3A')}")
    day = cut[:10]
    assert len(json.loads(loaded.get(f"/articles?since={day}")["body"])["items"]) == sum(
        p >= f"{day}T00:00:00Z" for p in published
    )
    assert json.loads(loaded.get("/articles?since=2999-01-01")["body"])["items"] == []
    # Years before 1000 still sort before 2026 (strftime would write "999-...").
    assert len(json.loads(loaded.get("/articles?since=0999-01-01")["body"])["items"]) == 6
    assert len(json.loads(loaded.get("/articles?since=0001-01-01T00:00:00%2B01:00")["body"])["items"]) == 6
    rss = body_of(loaded.get(f"/feed.rss?since={cut}&category=policy"))
    assert rss.count("<item>") == sum(1 for a in _items(loaded, "category=policy") if a["published"] >= cut)


def _items(loaded: Stack, query: str) -> list[dict[str, Any]]:
    return list(json.loads(loaded.get(f"/articles?{query}&limit=100")["body"])["items"])


def test_since_pages_with_cursors_bound_to_it(loaded: Stack) -> None:
    published = _published(loaded)
    cut = sorted(published)[1]
    expected = [p for p in published if p >= cut]
    seen: list[str] = []
    path = f"/articles?since={cut}&limit=2"
    while True:
        page = json.loads(loaded.get(path)["body"])
        seen.extend(a["published"] for a in page["items"])
        if not page["next_cursor"]:
            break
        assert page["next_url"].startswith("http://127.0.0.1:3000/articles?since=")
        path = page["next_url"].removeprefix("http://127.0.0.1:3000")
    assert seen == expected
    cursor = json.loads(loaded.get(f"/articles?since={cut}&limit=2")["body"])["next_cursor"]
    # A cursor from another `since` (or none) would start outside the key range: refused, never a 500.
    assert "different filter" in problem(loaded.get(f"/articles?limit=2&cursor={cursor}"), 400)["detail"]
    assert "different filter" in problem(loaded.get(f"/articles?since=2000-01-01&cursor={cursor}"), 400)["detail"]


@pytest.mark.parametrize("path", ["/articles?since=yesterday", "/feed.atom?since=2026-02-30", "/feed.json?since="])
def test_invalid_since_is_a_400_problem(loaded: Stack, path: str) -> None:
    assert "since" in problem(loaded.get(path), 400)["detail"]


def test_empty_parameters_are_refused_rather_than_ignored(loaded: Stack) -> None:
    for name in ("limit", "cursor", "category", "coin", "source"):
        assert name in problem(loaded.get(f"/articles?{name}="), 400)["detail"]


# --- HTTP caching, CORS, compression --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "cache_control"),
    [
        ("/prices", "public, max-age=30"),
        ("/articles", "public, max-age=60"),
        ("/feed.rss", "public, max-age=300"),
        ("/health", "no-store"),
        ("/articles?limit=0", "no-store"),
        ("/nope", "no-store"),
    ],
)
def test_cache_control_suits_each_route(loaded: Stack, path: str, cache_control: str) -> None:
    assert loaded.get(path)["headers"]["Cache-Control"] == cache_control


def test_a_story_in_an_event_is_cached_briefly(loaded: Stack) -> None:
    """Every processed story joins an event, which may grow: 300 s, not the route's hour
    (a story with no event keeps the hour: tests/e2e/test_api_events.py)."""
    item = json.loads(loaded.get("/articles?limit=1")["body"])["items"][0]
    resp = loaded.get(f"/articles/{item['id']}")
    assert json.loads(resp["body"])["event"] is not None
    assert resp["headers"]["Cache-Control"] == "public, max-age=300"
    assert resp["headers"]["ETag"]


@pytest.mark.parametrize("path", ["/feed.json", "/feed.rss", "/feed.atom", "/articles"])
def test_the_etag_is_the_only_validator(loaded: Stack, path: str) -> None:
    """No Last-Modified: no stored time moves with every change to a page (tests/e2e/test_api_caching.py)."""
    resp = loaded.get(path)
    assert "Last-Modified" not in resp["headers"]
    again = loaded.get(path, {"If-None-Match": resp["headers"]["ETag"]})
    assert again["statusCode"] == 304 and not again["body"]
    newest = max(a["updated"] for a in json.loads(loaded.get("/articles?limit=100")["body"])["items"])
    since = format_datetime(datetime.fromisoformat(newest.replace("Z", "+00:00")), usegmt=True)
    for ignored in (since, "not a date"):
        assert loaded.get(path, {"If-Modified-Since": ignored})["statusCode"] == 200
    assert loaded.get(path, {"If-Modified-Since": since, "If-None-Match": '"other"'})["statusCode"] == 200


@pytest.mark.parametrize("path", ["/feed.json", "/feed.rss", "/feed.atom"])
def test_feeds_are_gzipped_when_asked_with_their_own_etag(loaded: Stack, path: str) -> None:
    plain = loaded.get(path)
    zipped = loaded.get(path, {"Accept-Encoding": "gzip, deflate, br"})
    assert zipped["headers"]["Content-Encoding"] == "gzip" and zipped["isBase64Encoded"]
    raw = base64.b64decode(zipped["body"])
    assert raw[:2] == b"\x1f\x8b" and gzip.decompress(raw).decode() == plain["body"]
    assert len(raw) < len(plain["body"].encode())
    assert "Content-Encoding" not in plain["headers"]
    assert zipped["headers"]["Vary"] == plain["headers"]["Vary"] == "Accept-Encoding, Origin"
    # One strong validator per representation: gzip and identity bodies differ byte for byte.
    assert zipped["headers"]["ETag"] != plain["headers"]["ETag"]
    again = loaded.get(path, {"Accept-Encoding": "gzip", "If-None-Match": zipped["headers"]["ETag"]})
    assert again["statusCode"] == 304 and not again["body"]
    assert loaded.get(path, {"If-None-Match": zipped["headers"]["ETag"]})["statusCode"] == 200


def test_json_routes_are_compressed_by_the_function_too(loaded: Stack) -> None:
    # API Gateway compresses nothing (no MinimumCompressionSize): the function does, for every
    # route with a body worth it, and says so in Vary. /health is tiny and never cached.
    resp = loaded.get("/articles", {"Accept-Encoding": "gzip"})
    assert resp["headers"]["Content-Encoding"] == "gzip" and resp["headers"]["Vary"] == "Accept-Encoding, Origin"
    assert json.loads(gzip.decompress(base64.b64decode(resp["body"])))["items"]
    health = loaded.get("/health", {"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in health["headers"] and health["headers"]["Vary"] == "Origin"


def test_if_none_match_accepts_lists_weak_tags_and_star(loaded: Stack) -> None:
    # /articles, not /prices: the prices body carries `age_seconds`, so its ETag moves every
    # second and a slow machine turned this test of If-None-Match parsing into a race.
    etag = loaded.get("/articles")["headers"]["ETag"]
    for sent in (etag, f'"nope", {etag}', f"W/{etag}", "*"):
        resp = loaded.get("/articles", {"If-None-Match": sent})
        assert resp["statusCode"] == 304, sent
        assert resp["headers"]["ETag"] and resp["headers"]["Cache-Control"].startswith("public")
    assert loaded.get("/articles", {"If-None-Match": '"nope"'})["statusCode"] == 200


def test_cors_headers_for_browsers(loaded: Stack) -> None:
    resp = loaded.get("/feed.json", {"Origin": "https://front.example"})
    headers = resp["headers"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    exposed = {h.strip() for h in headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "Link"} <= exposed
    assert "Origin" in headers["Vary"]
    # Without an Origin there are no CORS headers: hence `Vary: Origin` on every response.
    assert "Access-Control-Allow-Origin" not in loaded.get("/feed.json")["headers"]
    bad = loaded.get("/articles?limit=0", {"Origin": "https://front.example"})
    assert bad["headers"]["Access-Control-Allow-Origin"] == "*" and bad["headers"]["Vary"] == "Origin"


def test_cors_preflight_is_answered(loaded: Stack) -> None:
    from devtools.lambda_local import api_event, invoke

    event = api_event(
        "OPTIONS",
        "/feed.json",
        {"Host": "127.0.0.1:3000", "Origin": "https://front.example", "Access-Control-Request-Method": "GET"},
    )
    resp = invoke(loaded.api, event, "ApiFunction")
    headers = {**(resp.get("headers") or {}), **{k: v[-1] for k, v in (resp.get("multiValueHeaders") or {}).items()}}
    assert resp["statusCode"] == 204
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Max-Age"] == "600"


def test_other_methods_are_405_problems(loaded: Stack) -> None:
    from devtools.lambda_local import api_event, invoke

    resp = invoke(loaded.api, api_event("DELETE", "/articles", {"Host": "127.0.0.1:3000"}), "ApiFunction")
    assert resp["statusCode"] == 405
    assert json.loads(resp["body"])["title"] == "Method Not Allowed"


def test_a_storage_failure_is_a_500_problem_not_a_crash(loaded: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsroom.wiring import clients as runtime

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("DynamoDB is down")

    monkeypatch.setattr(runtime.store(), "get_price_board", broken)
    doc = problem(loaded.get("/prices"), 500)
    assert "DynamoDB" not in doc["detail"]
