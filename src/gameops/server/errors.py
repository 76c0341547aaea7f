"""The one hierarchy of expected errors. Each carries its HTTP status; ``install_handlers``
is the one place that turns errors into ``{"detail": "..."}`` responses."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)


class GameOpsError(Exception):
    status_code = 400

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(GameOpsError):
    status_code = 400


class Unauthorized(GameOpsError):
    status_code = 401


class PaymentRequired(GameOpsError):
    status_code = 402


class Forbidden(GameOpsError):
    status_code = 403


class NotFound(GameOpsError):
    status_code = 404


class Conflict(GameOpsError):
    status_code = 409


class Unprocessable(GameOpsError):
    status_code = 422


class BadGateway(GameOpsError):
    """A device or provider we depend on failed (a plug, a router, the payment gateway)."""

    status_code = 502


class ServiceUnavailable(GameOpsError):
    status_code = 503


def _body(detail: str, **extra: Any) -> dict[str, Any]:
    return {"detail": detail, **extra}


def _validation_detail(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    errors = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    parts = []
    for err in errors:
        # The first element says where ("body", "query", "path"); the field path is what helps.
        field = ".".join(str(p) for p in err["loc"][1:]) or str(err["loc"][0] if err["loc"] else "")
        parts.append(f"{field}: {err['msg']}" if field else err["msg"])
    return "; ".join(parts) or "Invalid request", errors


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(GameOpsError)
    async def _domain(_: Request, exc: GameOpsError) -> JSONResponse:
        return JSONResponse(_body(exc.detail, **exc.extra), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail, errors = _validation_detail(exc)
        return JSONResponse(_body(detail, errors=errors), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            _body(str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )
