"""Guest tickets at the desk, and the member's own page's API (``/me``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from gameops.server.deps import CurrentUser, DbDep, PageDep, StaffUser
from gameops.server.play import members, repository, tickets
from gameops.server.play.schemas import (
    MySession,
    PinChange,
    TicketCreate,
    TicketPublic,
    TicketSale,
)
from gameops.server.play.service import PlayDesk
from gameops.server.schemas import Paginated

router = APIRouter(tags=["self-service"])


def _desk(request: Request) -> PlayDesk:
    # Here, not in deps.py: every route imports deps, and this layer sits above theirs.
    desk: PlayDesk = request.app.state.play_desk
    return desk


PlayDeskDep = Annotated[PlayDesk, Depends(_desk)]


@router.post("/tickets", status_code=status.HTTP_201_CREATED)
async def sell_ticket(
    body: TicketCreate, desk: PlayDeskDep, db: DbDep, staff: StaffUser
) -> TicketSale:
    """Sell a guest ticket. The answer holds the code: it is shown only this once."""
    return await tickets.sell(db, desk.rules, body, staff)


@router.get("/tickets", response_model=Paginated[TicketPublic])
async def list_tickets(db: DbDep, _: StaffUser, page: PageDep) -> Paginated[TicketPublic]:
    rows, total = await repository.tickets_page(db, page.offset, page.per_page)
    return page.of(TicketPublic, rows, total)


@router.post("/tickets/{ticket_id}/void")
async def void_ticket(ticket_id: uuid.UUID, db: DbDep, staff: StaffUser) -> TicketPublic:
    return await tickets.void(db, ticket_id, staff)


@router.get("/me/sessions")
async def my_sessions(
    db: DbDep, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[MySession]:
    """The logged-in customer's sessions, newest first."""
    return await members.my_sessions(db, user, limit)


@router.post("/me/pin", status_code=status.HTTP_204_NO_CONTENT)
async def change_my_pin(body: PinChange, desk: PlayDeskDep, db: DbDep, user: CurrentUser) -> None:
    await members.change_pin(db, desk.passwords, user, body)
