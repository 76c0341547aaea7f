"""The one hierarchy of expected errors. Each carries its HTTP status; ``install_handlers``
is the one place that turns errors into ``{"detail": "..."}`` responses."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLTimeoutError
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


class TooManyRequests(GameOpsError):
    """Rate limited; the answer carries ``Retry-After`` (seconds)."""

    status_code = 429

    def __init__(self, detail: str, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after


class BadGateway(GameOpsError):
    """A device or provider we depend on failed (a plug, a router, the payment gateway)."""

    status_code = 502


class ServiceUnavailable(GameOpsError):
    status_code = 503


RETRY_AFTER = {"Retry-After": "5"}


class ErrorBody(BaseModel):
    """Every error answer: ``detail`` for people, and fields for programs as the error has
    them (``balance`` and ``price`` for a short balance, ``maximum`` for an amount...)."""

    model_config = ConfigDict(extra="allow")

    detail: str


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class InvalidBody(ErrorBody):
    """422: a request that does not fit its schema has ``errors``, one per field; a rule of
    the venue's (an amount over the maximum) only ``detail``."""

    errors: list[ErrorItem] | None = None


def _documented(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"model": model, "description": description}


# The error answers any API route may give, documented once in the OpenAPI schema.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented(ErrorBody, "The request cannot be carried out as it is"),
    401: _documented(ErrorBody, "Not logged in, or the token has expired"),
    403: _documented(ErrorBody, "Not allowed for this role"),
    404: _documented(ErrorBody, "No such thing"),
    409: _documented(ErrorBody, "Conflicts with the current state"),
    422: _documented(InvalidBody, "Invalid input"),
    503: _documented(ErrorBody, "The database (or a gateway) is unreachable; retry"),
}


def _unavailable() -> JSONResponse:
    detail = "The database is unreachable; nothing was saved. Try again shortly."
    return JSONResponse(_body(detail), status_code=503, headers=RETRY_AFTER)


class CommitUnknown(ServiceUnavailable):
    """The connection was lost during COMMIT and the database did not come back in time to
    tell whether the change was saved."""


def connection_lost(err: BaseException) -> bool:
    """The database connection failed (as opposed to the statement being refused)."""
    if isinstance(err, DBAPIError):
        return bool(err.connection_invalidated) or isinstance(
            err, OperationalError | InterfaceError
        )
    return isinstance(err, ConnectionError | SQLTimeoutError | TimeoutError)


TAKEN = "That value is already taken by another record"


def unique_violation(err: DBAPIError) -> bool:
    """The statement broke a UNIQUE constraint (PostgreSQL 23505, SQLite's message)."""
    if not isinstance(err, IntegrityError):
        return False
    orig = err.orig
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


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
        headers = (
            {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        )
        return JSONResponse(
            _body(exc.detail, **exc.extra), status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail, errors = _validation_detail(exc)
        return JSONResponse(_body(detail, errors=errors), status_code=422)

    @app.exception_handler(CommitUnknown)
    async def _unknown(_: Request, exc: CommitUnknown) -> JSONResponse:
        detail = (
            "The database became unreachable while saving; whether the change was saved is "
            "not known. Retry with the same Idempotency-Key: it is applied at most once."
        )
        return JSONResponse(_body(detail), status_code=503, headers=RETRY_AFTER)

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        if connection_lost(exc):
            return _unavailable()
        if unique_violation(exc):  # a race or a check a service forgot: still not a 500
            log.warning("unique value taken", error=repr(exc)[:300])
            return JSONResponse(_body(TAKEN), status_code=409)
        log.error("database error", error=repr(exc)[:500])
        return JSONResponse(_body("Internal server error"), status_code=500)

    async def _unreachable(_: Request, __: Exception) -> JSONResponse:
        return _unavailable()

    # The driver's own connection errors (refused, reset) and an exhausted pool.
    app.add_exception_handler(ConnectionError, _unreachable)
    app.add_exception_handler(SQLTimeoutError, _unreachable)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            _body(str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )
