"""GeoJSON (RFC 7946, WGS 84) shapes used in APIs and events."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Strict: a coordinate sent as a string is a client bug, not something to coerce.
Longitude = Annotated[float, Field(strict=True, ge=-180.0, le=180.0)]
Latitude = Annotated[float, Field(strict=True, ge=-90.0, le=90.0)]
# Query strings are text by nature: these parse "105.93" but still check the range.
QueryLongitude = Annotated[float, Field(ge=-180.0, le=180.0)]
QueryLatitude = Annotated[float, Field(ge=-90.0, le=90.0)]

# Yongchuan district centre, the demo city's reference point.
YONGCHUAN_CENTRE = (105.93, 29.35)


class GeoPoint(BaseModel):
    """A GeoJSON Point: ``coordinates`` are ``[longitude, latitude]`` (RFC 7946 §3.1.1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["Point"] = "Point"
    coordinates: tuple[Longitude, Latitude]

    @property
    def lon(self) -> float:
        return self.coordinates[0]

    @property
    def lat(self) -> float:
        return self.coordinates[1]

    @classmethod
    def of(cls, lon: float, lat: float) -> GeoPoint:
        return cls(coordinates=(lon, lat))

    def to_wkt(self) -> str:
        return f"SRID=4326;POINT({self.lon} {self.lat})"


class GeoPolygon(BaseModel):
    """A GeoJSON Polygon: closed linear rings of ``[longitude, latitude]`` positions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["Polygon"] = "Polygon"
    coordinates: list[list[tuple[Longitude, Latitude]]] = Field(min_length=1)

    @field_validator("coordinates")
    @classmethod
    def _closed_rings(
        cls, rings: list[list[tuple[float, float]]]
    ) -> list[list[tuple[float, float]]]:
        for ring in rings:
            if len(ring) < 4:
                raise ValueError("a linear ring needs at least four positions")
            if ring[0] != ring[-1]:
                raise ValueError("a linear ring must end where it starts")
        return rings

    def to_wkt(self) -> str:
        rings = ", ".join(
            "(" + ", ".join(f"{lon} {lat}" for lon, lat in ring) + ")" for ring in self.coordinates
        )
        return f"SRID=4326;POLYGON({rings})"
