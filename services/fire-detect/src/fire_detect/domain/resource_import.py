"""Forest resources from a GeoJSON FeatureCollection (RFC 7946): which features can be
taken and why the others cannot. Pure logic, no I/O.

Each feature's ``properties`` carry ``id``, ``kind``, ``name`` and, for a hazard, its
``subtype`` (village, fuel_depot, power_line, ...); every other property is kept as
given. A forest compartment is an area, so its geometry must be a (Multi)Polygon; the
other kinds may be points, lines (a road, a power line) or areas (a reservoir).
Only the shape is checked here; whether a polygon is simple is PostGIS's question.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fire_detect.domain.model import ForestResourceKind

# An import is one request: past this many features, split the file.
MAX_FEATURES = 10_000

_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_SUBTYPE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_RESERVED = frozenset({"id", "kind", "name", "subtype"})

_POLYGONAL = frozenset({"Polygon", "MultiPolygon"})
_ANY_SHAPE = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
)
ALLOWED_GEOMETRIES: Mapping[ForestResourceKind, frozenset[str]] = {
    ForestResourceKind.FOREST_COMPARTMENT: _POLYGONAL,
    ForestResourceKind.RANGER_STATION: frozenset({"Point"}),
    ForestResourceKind.VILLAGE: frozenset({"Point", "Polygon", "MultiPolygon"}),
    ForestResourceKind.WATER_SOURCE: _ANY_SHAPE,
    ForestResourceKind.ROAD_ACCESS: _ANY_SHAPE,
    ForestResourceKind.HAZARD: _ANY_SHAPE,
}


class NotAFeatureCollection(ValueError):
    """The document as a whole is not a GeoJSON FeatureCollection."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ResourceFeature:
    """A feature that can be stored: ``geometry`` is the GeoJSON geometry as given."""

    index: int
    id: str
    kind: ForestResourceKind
    name: str
    subtype: str | None
    geometry: Mapping[str, Any]
    properties: Mapping[str, Any] = field(default_factory=dict)

    @property
    def polygonal(self) -> bool:
        return self.geometry["type"] in _POLYGONAL


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why feature ``index`` was not taken; ``field`` is a path into the document."""

    index: int
    id: str | None
    field: str
    reason: str


class _Invalid(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _position(value: object, where: str) -> None:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise _Invalid(where, "a position is [longitude, latitude] (and optionally altitude)")
    for n in value:
        if isinstance(n, bool) or not isinstance(n, int | float) or not math.isfinite(n):
            raise _Invalid(where, "coordinates must be finite numbers")
    lon, lat = float(value[0]), float(value[1])
    if not -180.0 <= lon <= 180.0:
        raise _Invalid(where, f"longitude {lon} is outside -180..180")
    if not -90.0 <= lat <= 90.0:
        raise _Invalid(where, f"latitude {lat} is outside -90..90")


def _positions(value: object, where: str, *, at_least: int) -> list[Any]:
    if not isinstance(value, list) or len(value) < at_least:
        raise _Invalid(where, f"needs a list of at least {at_least} positions")
    for i, p in enumerate(value):
        _position(p, f"{where}[{i}]")
    return value


def _ring(value: object, where: str) -> None:
    ring = _positions(value, where, at_least=4)
    if list(ring[0][:2]) != list(ring[-1][:2]):
        raise _Invalid(where, "a linear ring must end where it starts")


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise _Invalid(where, "must be a non-empty list")
    return value


def check_geometry(geometry: object, where: str) -> str:
    """The geometry's type, if it is a well-formed GeoJSON geometry of a supported type."""
    if not isinstance(geometry, dict):
        raise _Invalid(where, "a feature needs a geometry object")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    at = f"{where}.coordinates"
    if kind == "Point":
        _position(coords, at)
    elif kind == "MultiPoint":
        _positions(coords, at, at_least=1)
    elif kind == "LineString":
        _positions(coords, at, at_least=2)
    elif kind == "MultiLineString":
        for i, line in enumerate(_list(coords, at)):
            _positions(line, f"{at}[{i}]", at_least=2)
    elif kind == "Polygon":
        for i, ring in enumerate(_list(coords, at)):
            _ring(ring, f"{at}[{i}]")
    elif kind == "MultiPolygon":
        for i, polygon in enumerate(_list(coords, at)):
            for j, ring in enumerate(_list(polygon, f"{at}[{i}]")):
                _ring(ring, f"{at}[{i}][{j}]")
    else:
        raise _Invalid(f"{where}.type", f"geometry type {kind!r} is not supported")
    return str(kind)


def _feature(index: int, raw: object) -> ResourceFeature:
    where = f"features[{index}]"
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        raise _Invalid(f"{where}.type", "each member of 'features' must be a GeoJSON Feature")
    props = raw.get("properties")
    if not isinstance(props, dict):
        raise _Invalid(f"{where}.properties", "a feature needs a properties object")
    p = f"{where}.properties"
    ident = props.get("id", raw.get("id"))
    if not isinstance(ident, str) or not _ID.match(ident):
        raise _Invalid(f"{p}.id", "an id of 1-64 letters, digits or . _ : - is required")
    kind_raw = props.get("kind")
    try:
        kind = ForestResourceKind(str(kind_raw))
    except ValueError:
        options = ", ".join(k.value for k in ForestResourceKind)
        raise _Invalid(f"{p}.kind", f"kind must be one of {options}") from None
    name = props.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 128:
        raise _Invalid(f"{p}.name", "a name of 1-128 characters is required")
    subtype = props.get("subtype")
    if subtype is not None and (not isinstance(subtype, str) or not _SUBTYPE.match(subtype)):
        raise _Invalid(f"{p}.subtype", "a subtype is 1-32 lower-case letters, digits or _")
    if kind is ForestResourceKind.HAZARD and subtype is None:
        raise _Invalid(f"{p}.subtype", "a hazard needs a subtype (village, fuel_depot, ...)")
    shape = check_geometry(raw.get("geometry"), f"{where}.geometry")
    if shape not in ALLOWED_GEOMETRIES[kind]:
        allowed = ", ".join(sorted(ALLOWED_GEOMETRIES[kind]))
        raise _Invalid(f"{where}.geometry.type", f"a {kind.value} must be a {allowed}")
    return ResourceFeature(
        index=index,
        id=ident,
        kind=kind,
        name=name.strip(),
        subtype=subtype,
        geometry=raw["geometry"],
        properties={k: v for k, v in props.items() if k not in _RESERVED},
    )


def read_feature_collection(
    document: object,
) -> tuple[list[ResourceFeature], list[Rejection]]:
    """The features that can be stored and the rejections of the others, in file order.

    An id given twice keeps its first feature; the repeat is rejected, so that the
    result of an import never depends on the order the database applied rows in.
    """
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise NotAFeatureCollection("type", "the body must be a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise NotAFeatureCollection("features", "a FeatureCollection needs a 'features' list")
    if len(features) > MAX_FEATURES:
        raise NotAFeatureCollection(
            "features", f"at most {MAX_FEATURES} features per import; split the file"
        )
    accepted: list[ResourceFeature] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    for index, raw in enumerate(features):
        try:
            feature = _feature(index, raw)
        except _Invalid as exc:
            rejected.append(Rejection(index, _raw_id(raw), exc.field, exc.reason))
            continue
        if feature.id in seen:
            rejected.append(
                Rejection(
                    index,
                    feature.id,
                    f"features[{index}].properties.id",
                    "this id was already given earlier in the collection",
                )
            )
            continue
        seen.add(feature.id)
        accepted.append(feature)
    return accepted, rejected


def _raw_id(raw: object) -> str | None:
    if isinstance(raw, dict):
        props = raw.get("properties")
        if isinstance(props, dict) and isinstance(props.get("id"), str):
            return str(props["id"])[:64]
    return None


def feature_collection(resources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Stored resources as a FeatureCollection that this import takes back unchanged."""
    features = []
    for r in resources:
        properties: dict[str, Any] = dict(r.get("properties") or {})
        properties.update(id=r["id"], kind=r["kind"], name=r["name"])
        if r.get("subtype") is not None:
            properties["subtype"] = r["subtype"]
        features.append(
            {"type": "Feature", "id": r["id"], "geometry": r["geometry"], "properties": properties}
        )
    return {"type": "FeatureCollection", "features": features}
