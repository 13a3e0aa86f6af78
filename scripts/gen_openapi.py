"""Write the API's OpenAPI 3.1 document from the route table in `newsroom.serve.routes`.

    python scripts/gen_openapi.py           # rewrite functions/api/openapi.json
    python scripts/gen_openapi.py --check   # exit 1 when the committed document is stale

The document is generated here, offline, and shipped beside the API handler, which serves the
file as it is: building it per request (Powertools' `get_openapi_schema`) would pull pydantic
into every cold start. Paths, parameters, caching headers and which errors each route answers
come from `newsroom.serve.routes.ROUTES`, the same table the resolver registers; body schemas are
written here from `newsroom.serve.formats` and the JSON Feed schema in tests/schemas (written from the
spec). Every object schema closes `additionalProperties`, so a field added in code but not here
fails the fuzzing test (tests/e2e/test_api_fuzz.py) until the document says it.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "shared") not in sys.path:
    sys.path.insert(0, str(ROOT / "shared"))

from newsroom.core.models import Category, Kind, Rights, SourceRole  # noqa: E402
from newsroom.serve.formats.api_json import FULL_ONLY_FIELDS  # noqa: E402
from newsroom.serve.problems import PROBLEM_JSON  # noqa: E402
from newsroom.serve.routes import ROUTES, Param, RouteSpec  # noqa: E402

OUTPUT = ROOT / "functions" / "api" / "openapi.json"
JSON_FEED_SCHEMA = ROOT / "tests" / "schemas" / "jsonfeed-1.1.schema.json"
OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
        "additionalProperties": False,
    }


STRING: dict[str, Any] = {"type": "string"}
NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"]}
DATE_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}


def _article_schemas() -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": {"type": "string", "pattern": "^[0-9a-f]{20}$"},
        "url": {**STRING, "description": "The publisher's page for this story."},
        "canonical_url": STRING,
        "title": STRING,
        "standfirst": STRING,
        "category": {"type": "string", "enum": [c.value for c in Category]},
        "coins": {"type": "array", "items": STRING},
        "kind": {"type": "string", "enum": [k.value for k in Kind]},
        "kind_label": {**STRING, "description": "The kind as the article page shows it, e.g. NEWS."},
        "author": STRING,
        "desk": STRING,
        "byline": _object({"author": STRING, "desk": STRING}),
        "published": DATE_TIME,
        "updated": {**DATE_TIME, "description": "Changes only when the story does."},
        "published_display": {**STRING, "description": 'Formatted as the page shows it: "May 31, 2026".'},
        "published_estimated": {
            "type": "boolean",
            "description": "The feed gave no readable date (the time we first fetched the story stands in)"
            " or a date in the future (clamped to when we processed it).",
        },
        "reading_minutes": {"type": "integer", "minimum": 1},
        "reading_time": {**STRING, "description": '"4 min read".'},
        "word_count": {"type": "integer", "minimum": 0},
        "language": NULLABLE_STRING,
        "image": _object({"url": STRING, "alt": STRING, "caption": NULLABLE_STRING, "is_default": {"type": "boolean"}}),
        "content_html": {**STRING, "description": "Sanitized HTML body."},
        "content_text": STRING,
        "source": _object({"id": STRING, "name": STRING}),
        "attribution": {
            "description": "The original this story credits, when it was published first elsewhere.",
            "oneOf": [{"type": "null"}, _ref("Attribution")],
        },
        "credit": _object(
            {
                "line": {**STRING, "description": '"Read original article on defiliban.io".'},
                "domain": STRING,
                "url": STRING,
            }
        ),
        "copies": {
            "type": "array",
            "description": "Every other source seen publishing this story.",
            "items": _ref("Copy"),
        },
        "body_truncated": {"type": "boolean"},
        "excerpt_only": {
            "type": "boolean",
            "description": "The source grants an excerpt and a link only: the body is the standfirst.",
        },
        "event": {
            "description": "The event this story reports (GET /events/{id} has it whole); null when it has none.",
            "oneOf": [{"type": "null"}, _ref("EventRef")],
        },
        "also_reported_by": {
            "type": "array",
            "description": "The event's other reports (not this story), the earliest first.",
            "items": _ref("EventMember"),
        },
    }
    summary = {name: value for name, value in properties.items() if name not in FULL_ONLY_FIELDS}
    return {
        "Article": {**_object(properties), "description": "A story with its body and syndication."},
        "ArticleSummary": {**_object(summary), "description": "A story without its body and copies."},
        "Attribution": _object(
            {
                "original_url": NULLABLE_STRING,
                "original_domain": STRING,
                "original_name": NULLABLE_STRING,
                "original_source_id": NULLABLE_STRING,
                "marker": {**STRING, "description": "How the attribution was learned."},
            }
        ),
        "Copy": _object(
            {"source_id": STRING, "source_name": STRING, "url": STRING, "title": STRING, "first_seen": DATE_TIME}
        ),
        "ArticlePage": _object(
            {
                "items": {"type": "array", "items": _ref("ArticleSummary")},
                "next_cursor": {**NULLABLE_STRING, "description": "Pass as `cursor` for the next page."},
                "next_url": NULLABLE_STRING,
            }
        ),
    }


EVENT_ID: dict[str, Any] = {"type": "string", "pattern": "^[0-9a-f]{20}$"}


def _event_schemas() -> dict[str, Any]:
    """Events (issue 17), as `newsroom.serve.formats.api_json` writes them."""
    ref = {
        "id": {**EVENT_ID, "description": "The canonical id: a merged event's id answers with this one."},
        "url": {**STRING, "description": "Where GET /events/{id} serves the event."},
        "coverage": {"type": "integer", "minimum": 1, "description": "Distinct outlets among the reports."},
        "member_count": {"type": "integer", "minimum": 1, "description": "Reports (stories) of the event."},
    }
    return {
        "EventMember": _object(
            {
                "story_id": EVENT_ID,
                "outlet": {**STRING, "description": "The outlet's name."},
                "outlet_id": {**STRING, "description": "The outlet's source id (see GET /sources)."},
                "title": STRING,
                "link": {**STRING, "description": "The report on the outlet's site."},
                "published": DATE_TIME,
            }
        ),
        "EventRef": {**_object(ref), "description": "An event as a story names it."},
        "Event": {
            **_object(
                {
                    **ref,
                    "lead": {
                        "description": "The first report.",
                        "oneOf": [{"type": "null"}, _ref("EventMember")],
                    },
                    "outlets": {"type": "array", "items": STRING, "description": "The outlets' source ids."},
                    "members": {
                        "type": "array",
                        "items": _ref("EventMember"),
                        "description": "The reports, the earliest first (at most 40; member_count stays exact).",
                    },
                    "ties": {
                        "type": "array",
                        "items": STRING,
                        "description": "The terms and entities that tied the reports, most shared first.",
                    },
                    "created": {**DATE_TIME, "description": "The first report's publication time."},
                    "updated": {**DATE_TIME, "description": "The latest report's publication time."},
                    "score": {
                        "type": "number",
                        "description": "The `top` rank: log2(coverage) + created / 43200 (epoch seconds).",
                    },
                }
            ),
            "description": "Independent reports of one real-world event.",
        },
        "EventPage": _object(
            {
                "order": {"type": "string", "enum": ["top", "latest"]},
                "items": {"type": "array", "items": _ref("Event")},
                "next_cursor": {**NULLABLE_STRING, "description": "Pass as `cursor` for the next page."},
                "next_url": NULLABLE_STRING,
            }
        ),
    }


def _other_schemas() -> dict[str, Any]:
    return {
        "Problem": {
            **_object(
                {
                    "type": {"type": "string", "description": "A URI reference; about:blank here."},
                    "title": STRING,
                    "status": {"type": "integer", "minimum": 100, "maximum": 599},
                    "detail": {**STRING, "description": "What is wrong and what to change."},
                    "instance": STRING,
                },
                optional=("instance",),
            ),
            "description": "RFC 9457 problem details.",
        },
        "Index": _object({"name": STRING, "links": {"type": "object", "additionalProperties": STRING}}),
        "Health": _object({"status": {"const": "ok"}}),
        "OpenApiDocument": {
            "type": "object",
            "required": ["openapi", "info", "paths"],
            "description": "This document.",
        },
        "XmlDocument": {"type": "string", "description": "An XML document."},
        "HtmlPage": {"type": "string", "description": "An HTML page, for browsers (Accept: text/html)."},
        "Price": _object(
            {
                "pair": {"type": "string", "pattern": "^[A-Z0-9]+/[A-Z0-9]+$"},
                "symbol": STRING,
                "quote": STRING,
                "price": {"type": "number"},
                "change_24h_pct": {"type": ["number", "null"]},
                "display": {**STRING, "description": '"$68,420 +2.8%".'},
                "as_of": DATE_TIME,
                "fetched_at": DATE_TIME,
                "provider": STRING,
                "age_seconds": {"type": "integer"},
                "stale": {"type": "boolean"},
            }
        ),
        "Prices": _object(
            {
                "items": {"type": "array", "items": _ref("Price")},
                "stale_after_seconds": {"type": "integer", "minimum": 0},
                "providers": {
                    "type": "array",
                    "description": (
                        "Each price provider's health, as of the last time it was asked (the fallback is"
                        " asked only when the first provider fails, lacks a pair or a jump needs confirming)."
                    ),
                    "items": _ref("PriceProvider"),
                },
            }
        ),
        "PriceProvider": _object(
            {
                "provider": STRING,
                "status": {"type": "string", "enum": ["ok", "failing"]},
                "last_attempt": DATE_TIME,
                "last_success": NULLABLE_DATE_TIME,
                "last_error": {**NULLABLE_STRING, "description": "The last failure's reason, such as http-429."},
                "last_error_at": NULLABLE_DATE_TIME,
                "consecutive_failures": {"type": "integer", "minimum": 0},
            }
        ),
        "SourceHealth": _object(
            {
                "status": {
                    "type": "string",
                    "enum": ["ok", "failing", "unknown", "disabled"],
                    "description": "unknown: never polled yet; disabled: never polled again (see disabled_reason).",
                },
                "last_attempt": NULLABLE_DATE_TIME,
                "last_success": NULLABLE_DATE_TIME,
                "last_error": {**NULLABLE_STRING, "description": "The last failure's reason, such as http-404."},
                "last_error_at": NULLABLE_DATE_TIME,
                "last_status": {
                    "type": ["integer", "null"],
                    "minimum": 100,
                    "maximum": 599,
                    "description": "HTTP status of the last answer, when there was one.",
                },
                "consecutive_failures": {"type": "integer", "minimum": 0},
                "next_poll": {
                    **NULLABLE_DATE_TIME,
                    "description": (
                        "When the source is polled next (to within a dispatcher tick), never before the"
                        " response's time; null when it is disabled."
                    ),
                },
                "disabled_reason": NULLABLE_STRING,
                "entries_per_week": {
                    "type": ["number", "null"],
                    "minimum": 0,
                    "description": (
                        "The feed's rhythm, read from its last parsed document: what sets its poll interval"
                        " unless the source pins one (a quarter of the mean gap between entries, from the"
                        " default interval up to 6 hours). null: not known yet (no dated entry)."
                    ),
                },
            }
        ),
        "Source": _object(
            {
                "id": STRING,
                "name": STRING,
                "homepage": STRING,
                "kind": {
                    "type": "string",
                    "enum": [r.value for r in SourceRole],
                    "description": "An original publisher, or an aggregator that republishes others.",
                },
                "role": {"type": "string", "enum": [r.value for r in SourceRole], "description": "Same as kind."},
                "rights": {
                    "type": "string",
                    "enum": [r.value for r in Rights],
                    "description": "What we may republish: the full text, or an excerpt with a link.",
                },
                "enabled": {"type": "boolean"},
                "articles": {
                    "type": "integer",
                    "minimum": 0,
                    "description": (
                        "Stories credited to this source, as listed under `?source=<id>`: a copy merged"
                        " into another source's story counts for the story's source. The count changes in"
                        " the same transaction as the story, so a replayed entry never counts twice;"
                        " stories past retention stay counted."
                    ),
                },
                "health": _ref("SourceHealth"),
                "push": _ref("SourcePush"),
            }
        ),
        "SourcePush": _object(
            {
                "hub": {**NULLABLE_STRING, "description": "The WebSub hub we subscribed at, if any."},
                "state": {
                    "type": "string",
                    "enum": ["none", "subscribing", "active", "unsubscribing", "ended", "denied"],
                    "description": (
                        "none: the feed names no usable hub; subscribing: asked, not yet verified;"
                        " active: verified, deliveries accepted; denied: the hub refused or could not"
                        " be reached (see last_error)."
                    ),
                },
                "pushed": {
                    "type": "boolean",
                    "description": (
                        "Whether polling stepped back to the safety net now: active, within its lease,"
                        " and the hub heard from recently."
                    ),
                },
                "lease_expires": NULLABLE_DATE_TIME,
                "last_delivery": NULLABLE_DATE_TIME,
                "last_verification": NULLABLE_DATE_TIME,
                "deliveries": {"type": "integer", "minimum": 0, "description": "Signed deliveries used."},
                "ignored_deliveries": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Unsigned, mis-signed or early deliveries: acknowledged and ignored.",
                },
                "last_error": NULLABLE_STRING,
            }
        ),
        "Sources": _object(
            {
                "items": {"type": "array", "items": _ref("Source")},
                "next_cursor": {**NULLABLE_STRING, "description": "Pass as `cursor` for the next page."},
                "next_url": NULLABLE_STRING,
            }
        ),
    }


def _rewrite_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = f"#/components/schemas/{prefix}{value.removeprefix('#/$defs/').title()}"
            else:
                out[key] = _rewrite_refs(value, prefix)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, prefix) for item in node]
    return node


def _json_feed_schemas() -> dict[str, Any]:
    """The JSON Feed 1.1 schema from tests/schemas, its $defs moved into components."""
    source = json.loads(JSON_FEED_SCHEMA.read_text(encoding="utf-8"))
    defs = source.pop("$defs", {})
    for key in ("$schema", "$id", "$comment"):
        source.pop(key, None)
    schemas = {"JsonFeed": _rewrite_refs(source, "JsonFeed")}
    for name, schema in defs.items():
        schemas[f"JsonFeed{name.title()}"] = _rewrite_refs(schema, "JsonFeed")
    return schemas


HEADERS: dict[str, Any] = {
    "ETag": {
        "description": "Validator of this body in this content coding; send it back in If-None-Match.",
        "schema": {"type": "string", "pattern": '^"[^"]+"$'},
    },
    "Cache-Control": {"description": "How long shared caches may keep the response.", "schema": STRING},
    "Vary": {
        "description": (
            "Request headers the response depends on: Origin (CORS), Accept-Encoding where gzipped,"
            " Accept where an HTML page is negotiated."
        ),
        "schema": STRING,
    },
    "Link": {"description": 'The next page, as `<url>; rel="next"`.', "schema": STRING},
}

REQUEST_HEADERS: tuple[Param, ...] = (
    Param(
        "If-None-Match",
        "ETags already held; a match is answered with 304. The ETag is the only validator: there is"
        " no Last-Modified, so If-Modified-Since is ignored.",
        {"type": "string"},
        where="header",
    ),
)


def _parameter(param: Param) -> dict[str, Any]:
    return {
        "name": param.name,
        "in": param.where,
        "required": param.required,
        "description": param.description,
        "schema": copy.deepcopy(dict(param.schema)),
    }


def _header_refs(*names: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        name: {"$ref": f"#/components/headers/{name}"}
        if name not in required
        else {**copy.deepcopy(HEADERS[name]), "required": True}
        for name in names
    }


def _operation(spec: RouteSpec) -> dict[str, Any]:
    ok_headers: dict[str, Any] = {"Cache-Control": {**HEADERS["Cache-Control"], "required": True}}
    if spec.max_age is not None:
        ok_headers = _header_refs("ETag", "Cache-Control", "Vary", required=("ETag", "Cache-Control", "Vary"))
        if spec.paged:
            ok_headers["Link"] = {"$ref": "#/components/headers/Link"}
    content: dict[str, Any] = {spec.media_type: {"schema": _ref(spec.schema)}}
    if spec.html_page:
        # Content negotiation: a client whose Accept prefers text/html gets the page instead.
        content["text/html"] = {"schema": _ref("HtmlPage")}
    responses: dict[str, Any] = {"200": {"description": spec.summary, "headers": ok_headers, "content": content}}
    params = [_parameter(p) for p in spec.params]
    if spec.max_age is not None:
        responses["304"] = {
            "description": "Not Modified: the validators sent still match; no body.",
            "headers": _header_refs("ETag", "Cache-Control", required=("ETag",)),
        }
        params.extend(_parameter(p) for p in REQUEST_HEADERS)
    if spec.bad_request:
        responses["400"] = {"$ref": "#/components/responses/BadRequest"}
    if spec.not_found:
        responses["404"] = {"$ref": "#/components/responses/NotFound"}
    responses["500"] = {"$ref": "#/components/responses/ServerError"}
    operation: dict[str, Any] = {
        "operationId": spec.operation_id,
        "summary": spec.summary,
        "description": spec.description,
        "tags": list(spec.tags),
    }
    if params:
        operation["parameters"] = params
    operation["responses"] = responses
    return operation


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"Cache-Control": {**HEADERS["Cache-Control"], "required": True}},
        "content": {PROBLEM_JSON: {"schema": _ref("Problem")}},
    }


def build_document() -> dict[str, Any]:
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Newsroom API",
            "version": API_VERSION,
            "description": (
                "Crypto news stories, each credited to its original publisher, as JSON, JSON Feed 1.1,"
                " RSS 2.0 and Atom 1.0, plus a price ticker. Read-only. Errors are RFC 9457"
                " application/problem+json. Generated by scripts/gen_openapi.py; do not edit."
            ),
        },
        "tags": [
            {"name": "articles", "description": "Stories as JSON."},
            {"name": "events", "description": "Reports of one event by several outlets, grouped."},
            {"name": "feeds", "description": "Stories as syndication feeds."},
            {"name": "prices", "description": "The price ticker."},
            {"name": "meta", "description": "About the API and its sources."},
        ],
        "paths": {spec.path: {"get": _operation(spec)} for spec in ROUTES},
        "components": {
            "schemas": {**_article_schemas(), **_event_schemas(), **_other_schemas(), **_json_feed_schemas()},
            "headers": copy.deepcopy(HEADERS),
            "responses": {
                "BadRequest": _problem_response("A parameter is invalid; the detail says which and why."),
                "NotFound": _problem_response("No such story or event."),
                "ServerError": _problem_response("The request failed on our side."),
            },
        },
    }


def render_document() -> str:
    return json.dumps(build_document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed document is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = render_document()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python scripts/gen_openapi.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(ROUTES)} routes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
