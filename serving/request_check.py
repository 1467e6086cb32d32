"""Check the body of ``POST /forecast`` and ``POST /current_aqi`` before BentoML.

BentoML 1.4 validates the body itself and answers a bad one with pydantic's own
words ("1 validation error for StationRequestIODescriptor ... Field required")
and an ERROR traceback in the server log. This ASGI middleware validates the
same :class:`~serving.schemas.StationRequest` first: a bad body gets a 4xx that
names ``station_id``, says what is expected and how to list the stations, and
one WARNING line in the log; a good body is passed on untouched, so the
OpenAPI page still shows the request schema.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pydantic import ValidationError
from starlette.responses import JSONResponse

from serving.schemas import StationRequest

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: The routes whose body is a :class:`StationRequest`.
ROUTES = frozenset({"/forecast", "/current_aqi"})

EXPECTED = (
    'send a JSON body such as {"station_id": "12"}, station_id being a MOENV '
    "station id as a string of digits; GET /stations lists the stations"
)


def request_problem(body: bytes, content_type: str) -> tuple[str, str] | None:
    """Say what is wrong with a station request body, if anything.

    Parameters
    ----------
    body
        The raw HTTP body.
    content_type
        The request's ``Content-Type`` header ("" when absent: taken as JSON).

    Returns
    -------
    tuple of (str, str) or None
        ``(kind, message)``: a short error type (pydantic's, or
        ``unsupported_media_type``) and a message naming ``station_id``, what
        was wrong and what is expected; None when the body is valid.
    """
    media = content_type.split(";")[0].strip().lower()
    if media not in ("", "application/json"):
        return "unsupported_media_type", f"the body is {media}, not JSON; {EXPECTED}"
    if not body.strip():
        return "missing", f"the body is empty; {EXPECTED}"
    try:
        StationRequest.model_validate_json(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        return error["type"], f"{_problem(error)}; {EXPECTED}"
    return None


def _problem(error: dict[str, Any]) -> str:
    """Return the first pydantic error of a station request in plain words."""
    kind = error["type"]
    if kind == "json_invalid":
        return "the body is not valid JSON"
    shown = json.dumps(error.get("input"), ensure_ascii=False, default=repr)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    if kind == "model_type":
        return f"the body is {shown}, not a JSON object with station_id"
    if kind == "missing":
        return "station_id is missing"
    if kind == "string_type":
        return f"station_id is {shown}, not a string"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return f"station_id is {shown}: {error['msg']}"


class StationRequestCheck:
    """ASGI middleware refusing bad station request bodies in our own words."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a bad body with a 400/415, pass a good one on unchanged."""
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] not in ROUTES
        ):
            await self.app(scope, receive, send)
            return

        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break

        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        problem = request_problem(body, content_type)
        if problem is None:
            replay = iter(messages)

            async def replayed() -> Message:
                return next(replay, None) or await receive()

            await self.app(scope, replayed, send)
            return

        kind, text = problem
        log.warning("refused POST %s: %s", scope["path"], text)
        status = 415 if kind == "unsupported_media_type" else 400
        response = JSONResponse(
            {
                "error": text,
                "detail": [{"loc": ["station_id"], "msg": text, "type": kind}],
            },
            status_code=status,
        )
        await response(scope, receive, send)
