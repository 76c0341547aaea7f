"""Schema pieces shared by every domain."""

from __future__ import annotations

from math import ceil
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


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
