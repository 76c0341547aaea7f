"""Serves the dashboard's pages (empty shells filled in by the browser) and its static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from gameops import __version__, i18n
from gameops.server.events.domain import EventType
from gameops.server.sessions.domain import SessionStatus

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

# The language the shells are written in: the browser keeps the user's choice in this
# cookie (shell.js sets it from /auth/me); without it, the venue's.
LANGUAGE_COOKIE = "gameops_lang"

# path -> (template, title key, who may open it)
PAGES: dict[str, tuple[str, str, str]] = {
    "/": ("floor.html", "nav.floor", "staff"),
    "/sessions": ("sessions.html", "nav.sessions", "staff"),
    "/customers": ("customers.html", "nav.customers", "staff"),
    "/payments": ("payments.html", "nav.payments", "staff"),
    "/till": ("till.html", "nav.till", "staff"),
    "/shop": ("shop.html", "nav.shop", "staff"),
    "/events": ("events.html", "nav.events", "staff"),
    "/tickets": ("tickets.html", "nav.tickets", "staff"),
    "/reservations": ("reservations.html", "nav.reservations", "staff"),
    "/admin": ("admin.html", "nav.admin", "admin"),
}


def page_language(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    venue: str = request.app.state.settings.venue_language
    return chosen if chosen in i18n.LANGUAGES else venue


def _context(request: Request, title: str, audience: str) -> dict[str, object]:
    """What a page needs before it calls the API: names of things, never venue data."""
    settings = request.app.state.settings
    language = page_language(request)

    def t(key: str, **values: object) -> str:
        return i18n.translate(language, key, **values)

    return {
        "t": t,
        "catalogue": i18n.catalogue(i18n.DEFAULT),
        "language": language,
        "languages": {code: i18n.NAMES.get(code, code) for code in i18n.LANGUAGES},
        "page": title,
        "title": t(title),
        "audience": audience,
        "version": __version__,
        "currency": settings.currency,
        "timezone": settings.venue_timezone,
        "venue_language": settings.venue_language,
        "card": settings.payment_gateway != "none",
        "max_minutes": settings.max_session_minutes,
        "power_seconds": settings.power_sample_seconds,
        "event_types": [t.value for t in EventType],
        "session_statuses": [s.value for s in SessionStatus],
    }


def _page(template: str, title: str, audience: str) -> object:
    async def render(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, template, _context(request, title, audience))

    return render


for path, (template, title, audience) in PAGES.items():
    router.add_api_route(path, _page(template, title, audience), methods=["GET"])  # type: ignore[arg-type]


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    context = _context(request, "login.title", "anyone")
    return templates.TemplateResponse(request, "login.html", context)


@router.get("/i18n/{language}.json")
async def catalogue(language: str) -> JSONResponse:
    """A language's words for the dashboard's ES modules (the same the shells use)."""
    if language not in i18n.LANGUAGES:
        return JSONResponse({"detail": "Unknown language"}, status_code=404)
    return JSONResponse(i18n.catalogue(language), headers={"Cache-Control": "no-cache"})


@router.get("/me")
async def member_page(request: Request) -> HTMLResponse:
    """The customer's own page (self-service): balance, sessions, top-ups, change PIN."""
    context = _context(request, "member.title", "customer")
    return templates.TemplateResponse(request, "me.html", context)


@router.get("/tickets/print")
async def ticket_print(request: Request) -> HTMLResponse:
    """A guest ticket on 80 mm receipt paper; the code comes in the URL's fragment only."""
    venue = request.app.state.settings.venue_name
    context = {"venue": venue, "version": __version__}
    return templates.TemplateResponse(request, "ticket_print.html", context)


@router.get("/favicon.ico")
async def favicon() -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg")


def mount_web(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
