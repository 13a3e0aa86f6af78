"""The security headers every answer carries, and the resolver that adds them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

# The pages hold no script, no inline style and no frames: one stylesheet from this origin
# (`/static/site.css`), lead images over https (only https images are ever stored) and an inline
# SVG whose colours are attributes, not styles. Anything else a page might be made to carry is
# refused by the browser, and no other site may frame it (clickjacking).
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' https:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Every other answer is data: nothing in it may run or load, even when a browser opens it.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
# On every response, errors and 304s included. A reader following a credit link tells the
# publisher which site sent them, never which page or cursor.
COMMON_SECURITY_HEADERS: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def with_security_headers(response: dict[str, Any]) -> dict[str, Any]:
    """`response` (a proxy integration result) with the security headers added.

    A 304 gets no CSP: its headers replace the cached response's (RFC 9111 §4.3.4), and the
    cached page keeps the policy it came with. Headers a route set itself are left alone.
    """
    key = "multiValueHeaders" if "multiValueHeaders" in response else "headers"
    headers = response.get(key) or {}
    present = {name.lower(): name for name in headers}

    def value_of(name: str) -> str:
        value = headers.get(present.get(name.lower(), ""), "")
        return str(value[-1] if isinstance(value, list) and value else value or "")

    added = dict(COMMON_SECURITY_HEADERS)
    if int(response.get("statusCode") or 200) != 304:
        is_page = value_of("Content-Type").lower().startswith("text/html")
        added["Content-Security-Policy"] = PAGE_CSP if is_page else DATA_CSP
        added["X-Frame-Options"] = "DENY"
    for name, value in added.items():
        if name.lower() not in present:
            headers[name] = [value] if key == "multiValueHeaders" else value
    response[key] = headers
    return response


class SecuredResolver(APIGatewayRestResolver):
    """The REST resolver, adding the security headers to whatever it answers: routes, 404s,
    CORS preflights and exception handlers' problems alike (middlewares miss the last)."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        return with_security_headers(super().resolve(event, context))
