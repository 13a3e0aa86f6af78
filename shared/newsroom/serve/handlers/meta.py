"""`/` (the index, or the home page for a browser), `/health` and `/openapi.json`."""

from __future__ import annotations

import json
from pathlib import Path

from newsroom.serve import pages
from newsroom.serve.caching import Body
from newsroom.serve.problems import not_found
from newsroom.serve.request import Request
from newsroom.serve.routes import ROUTES


def index(request: Request) -> Body:
    event = request.event
    if pages.wants_html(event.headers.get("accept")):  # a browser: the home page
        return Body(pages.home_page(request.store, request.config(), event), media_type=pages.HTML)
    links = {spec.operation_id: request.url_with(spec.path) for spec in ROUTES if "{" not in spec.path}
    return Body(json.dumps({"name": request.config().site_name, "links": links}))


def health(request: Request) -> Body:
    return Body(json.dumps({"status": "ok"}))


class OpenApiDocument:
    """The handler of `/openapi.json`: the document shipped beside the function, read once."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._text: str | None = None

    def __call__(self, request: Request) -> Body:
        if self._text is None:
            if self._path is None:
                raise not_found("this deployment has no OpenAPI document")
            self._text = self._path.read_text(encoding="utf-8")
        return Body(self._text)
