"""Schema pieces shared by every domain."""

from __future__ import annotations

from math import ceil
from typing import Annotated, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

T = TypeVar("T")

# The most any amount of money can be, whatever GAMEOPS_MAX_AMOUNT says: exact in a
# JavaScript number (the dashboard) and far inside the 64-bit columns.
MAX_MONEY = 2**53 - 1
# Money and counts in a request are JSON integers: not true, not "100", not 100.0.
Amount = Annotated[StrictInt, Field(ge=-MAX_MONEY, le=MAX_MONEY, description="minor units")]
Count = Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1)]


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageMeta(BaseModel):
    page: int
    per_page: int
    total: int
    pages: int

    @classmethod
    def of(cls, page: int, per_page: int, total: int) -> PageMeta:
        return cls(page=page, per_page=per_page, total=total, pages=ceil(total / per_page))


class Paginated(BaseModel, Generic[T]):
    items: list[T]
    meta: PageMeta


class PartialUpdate(BaseModel):
    """A PATCH body: fields left out stay as they are; ``NOT_NULL`` fields refuse null."""

    NOT_NULL: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _refuse_nulls(self) -> PartialUpdate:
        nulls = [
            f for f in self.NOT_NULL if f in self.model_fields_set and getattr(self, f) is None
        ]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave it out to keep it")
        return self
