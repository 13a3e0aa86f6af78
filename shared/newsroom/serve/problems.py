"""Errors as RFC 9457 `application/problem+json`: a detail that says what to change, never
cached, and the exception handlers that turn every failure into one (a bad parameter is a 400,
never a 500)."""

from __future__ import annotations

import json
import logging
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from newsroom.store.batches import StoreIncomplete

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
STORE_RETRY_AFTER_SECONDS = 2  # a throttled table usually recovers within a second or two


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


def problem_response(status: int, title: str, detail: str, instance: str | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=json.dumps(body),
        headers={"Cache-Control": "no-store", "Vary": "Origin"},
    )


def bad_request(detail: str) -> Problem:
    return Problem(400, "Bad Request", detail)


def not_found(detail: str) -> Problem:
    return Problem(404, "Not Found", detail)


def handle_problems(app: APIGatewayRestResolver) -> None:
    """Answer every failure of `app` with a problem: raised problems, partial reads, unknown
    routes and methods, and anything unexpected."""

    @app.exception_handler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc.status, exc.title, exc.detail, app.current_event.path)

    @app.exception_handler(StoreIncomplete)
    def _incomplete(exc: StoreIncomplete) -> Response:
        # DynamoDB left part of a read undone after retries: a whole answer soon beats a partial
        # one now (a source without its state, a feed item without its body). Never cached.
        log.warning("partial read answering %s: %s", app.current_event.path, exc)
        response = problem_response(
            503, "Service Unavailable", "part of the answer could not be read; try again in a few seconds"
        )
        response.headers["Retry-After"] = str(STORE_RETRY_AFTER_SECONDS)
        return response

    @app.not_found
    def _not_found(exc: NotFoundError) -> Response:
        event = app.current_event
        if event.http_method != "GET":
            return problem_response(405, "Method Not Allowed", f"{event.http_method} is not supported; use GET")
        return problem_response(404, "Not Found", f"no route for {event.path[:200]}; see GET / for the routes")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Still an RFC 9457 body, never cached; the traceback goes to the log, not the client.
        log.exception("unhandled error answering %s", app.current_event.path)
        return problem_response(500, "Internal Server Error", "the request failed on our side; try again later")
