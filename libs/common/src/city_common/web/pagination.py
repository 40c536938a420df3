"""Offset pagination shared by every list endpoint."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Generic, TypeVar, cast

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict


class PageParams(BaseModel):
    limit: int
    offset: int


async def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="Items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    model_config = ConfigDict(frozen=True)

    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, model: type[M], rows: Iterable[Any], *, total: int, page: PageParams) -> Page[M]:
        """A page of ``model`` read from repository rows (dicts or row objects)."""
        return cast(
            "Page[M]",
            Page[model](  # type: ignore[valid-type]
                items=[model.model_validate(row) for row in rows],
                total=total,
                limit=page.limit,
                offset=page.offset,
            ),
        )
