"""HTTP hardening every response and request goes through (issue 11 §3), as plain ASGI
middleware: security headers on every response, and no NUL character anywhere in a request
(PostgreSQL cannot store one: it would be a 500 instead of a 422)."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The dashboard is plain ES modules and one stylesheet from /static: nothing inline.
DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc load Swagger UI and ReDoc from a CDN with an inline starter.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com; "
    "worker-src blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HSTS = "max-age=31536000"
# A JSON string escape for NUL: a backslash that is not itself escaped, then u0000.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def security_headers(path: str, scheme: str) -> list[tuple[bytes, bytes]]:
    csp = DOCS_CSP if path.startswith(DOCS_PATHS) else DASHBOARD_CSP
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
    ]
    if scheme == "https":
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


def has_nul(path: str, query_string: bytes, body: bytes, content_type: str) -> bool:
    """Whether a request carries a NUL: in its path, its query, or its (JSON or form) body."""
    if "\x00" in path or b"\x00" in unquote_to_bytes(query_string.replace(b"+", b" ")):
        return True
    if b"\x00" in body:
        return True
    if content_type.startswith("application/x-www-form-urlencoded"):
        return b"\x00" in unquote_to_bytes(body)
    return _JSON_NUL.search(body) is not None


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"], scope.get("scheme", "http"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                added = [(name, value) for name, value in extra if name not in names]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RefuseNul:
    """422 for a request with a NUL character anywhere the app would read it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if scope["type"] == "websocket":
            if has_nul(scope["path"], query, b"", ""):
                await send({"type": "websocket.close", "code": 1008, "reason": "NUL in request"})
                return
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive)
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"").decode("latin-1")
        if has_nul(scope["path"], query, body, content_type.lower()):
            await _refuse(send)
            return
        replay = iter(messages)

        async def receive_again() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, receive_again, send)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


async def _refuse(send: Send) -> None:
    body = json.dumps({"detail": "The request contains a NUL character (\\u0000)"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI) -> None:
    """Both, outermost: the refusal of a NUL gets the security headers too."""
    app.add_middleware(RefuseNul)
    app.add_middleware(SecurityHeaders)
