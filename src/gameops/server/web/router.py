"""Serves the dashboard's pages (empty shells filled in by the browser) and its static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from gameops import __version__
from gameops.server.events.domain import EventType
from gameops.server.sessions.domain import SessionStatus

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

# path -> (template, title, who may open it)
PAGES: dict[str, tuple[str, str, str]] = {
    "/": ("floor.html", "Floor", "staff"),
    "/sessions": ("sessions.html", "Sessions", "staff"),
    "/customers": ("customers.html", "Customers", "staff"),
    "/payments": ("payments.html", "Payments", "staff"),
    "/events": ("events.html", "Events", "staff"),
    "/tickets": ("tickets.html", "Tickets", "staff"),
    "/admin": ("admin.html", "Admin", "admin"),
}


def _context(request: Request, title: str, audience: str) -> dict[str, object]:
    """What a page needs before it calls the API: names of things, never venue data."""
    return {
        "title": title,
        "audience": audience,
        "version": __version__,
        "currency": request.app.state.settings.currency,
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
    context = _context(request, "Log in", "anyone")
    return templates.TemplateResponse(request, "login.html", context)


@router.get("/me")
async def member_page(request: Request) -> HTMLResponse:
    """The customer's own page (self-service): balance, sessions, top-ups, change PIN."""
    context = _context(request, "My account", "customer")
    return templates.TemplateResponse(request, "me.html", context)


@router.get("/tickets/print")
async def ticket_print(request: Request) -> HTMLResponse:
    """A guest ticket on 80 mm receipt paper; the code comes in the URL's fragment only."""
    venue = request.app.state.settings.venue_name
    return templates.TemplateResponse(request, "ticket_print.html", {"venue": venue})


@router.get("/favicon.ico")
async def favicon() -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg")


def mount_web(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
