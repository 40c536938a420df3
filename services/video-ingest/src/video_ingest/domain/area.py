"""Areas a camera list may be narrowed to, read from query strings. Pure logic, no I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass


class BadArea(ValueError):
    """The area given cannot be a place on the globe."""


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """West, south, east and north edges in WGS 84 degrees (RFC 7946 §5 order)."""

    west: float
    south: float
    east: float
    north: float


def parse_bbox(text: str) -> BoundingBox:
    """``"west,south,east,north"``; boxes across the antimeridian are not supported."""
    parts = text.split(",")
    if len(parts) != 4:
        raise BadArea("bbox must be four numbers: west,south,east,north")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError as exc:
        raise BadArea("bbox must be four numbers: west,south,east,north") from exc
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise BadArea("bbox edges must be finite numbers")
    if not (-180.0 <= west <= 180.0 and -180.0 <= east <= 180.0):
        raise BadArea("bbox longitudes must lie within -180 and 180")
    if not (-90.0 <= south <= 90.0 and -90.0 <= north <= 90.0):
        raise BadArea("bbox latitudes must lie within -90 and 90")
    if west > east:
        raise BadArea("bbox west edge lies east of its east edge")
    if south > north:
        raise BadArea("bbox south edge lies north of its north edge")
    return BoundingBox(west, south, east, north)
