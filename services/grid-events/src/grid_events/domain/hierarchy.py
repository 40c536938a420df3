"""The administrative hierarchy and its GeoJSON import. Pure logic, no I/O.

Yongchuan nests district > town (or street) > village (or community) > grid cell.
An import file is a GeoJSON FeatureCollection whose features carry ``id``, ``name``,
``level`` and ``parent_id`` properties. Features may come in any order (a cell
before its village): the plan orders them parents first. Each feature is judged on
its own and rejected with its row number and the field at fault; a feature whose
parent is rejected is rejected too, since it cannot be placed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class AreaLevel(StrEnum):
    DISTRICT = "district"
    TOWN = "town"
    VILLAGE = "village"
    CELL = "cell"


# The level an area's parent must have; a district has none.
PARENT_LEVEL: dict[AreaLevel, AreaLevel | None] = {
    AreaLevel.DISTRICT: None,
    AreaLevel.TOWN: AreaLevel.DISTRICT,
    AreaLevel.VILLAGE: AreaLevel.TOWN,
    AreaLevel.CELL: AreaLevel.VILLAGE,
}

AREA_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
NAME_MAX = 128
# One request holds the district's whole hierarchy (a few thousand areas) with room.
MAX_FEATURES = 20_000
MAX_POSITIONS = 2_000_000


@dataclass(frozen=True, slots=True)
class RowRejection:
    row: int  # 1-based position of the feature in the file
    field: str
    reason: str
    area_id: str | None = None


@dataclass(frozen=True, slots=True)
class AreaFeature:
    row: int
    id: str
    name: str
    level: AreaLevel
    parent_id: str | None
    geometry: Mapping[str, Any]  # a GeoJSON Polygon or MultiPolygon, shape-checked

    @property
    def parent_level(self) -> AreaLevel | None:
        return PARENT_LEVEL[self.level]


class FeatureCollectionError(ValueError):
    """The document as a whole is not an importable FeatureCollection."""

    def __init__(self, field_: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_
        self.reason = reason


def features_of(document: object) -> list[object]:
    """The features of a FeatureCollection document (raises FeatureCollectionError)."""
    if not isinstance(document, dict):
        raise FeatureCollectionError("body", "expected a GeoJSON FeatureCollection object")
    if document.get("type") != "FeatureCollection":
        raise FeatureCollectionError("body.type", "must be 'FeatureCollection'")
    features = document.get("features")
    if not isinstance(features, list):
        raise FeatureCollectionError("body.features", "must be an array of features")
    if len(features) > MAX_FEATURES:
        raise FeatureCollectionError(
            "body.features", f"at most {MAX_FEATURES:,} features per import"
        )
    return features


def _is_position(value: object) -> bool:
    # bool is an int: [true, false] is not a position.
    return (
        isinstance(value, list)
        and len(value) in (2, 3)
        and all(
            isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c)
            for c in value
        )
        and -180.0 <= value[0] <= 180.0
        and -90.0 <= value[1] <= 90.0
    )


def _polygon_defect(rings: object) -> str | None:
    if not isinstance(rings, list) or not rings:
        return "a polygon is a non-empty array of linear rings"
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4:
            return "a linear ring needs at least four positions"
        if not all(_is_position(p) for p in ring):
            return "positions are [longitude, latitude] numbers within WGS 84 bounds"
        if ring[0][:2] != ring[-1][:2]:
            return "a linear ring must end where it starts"
    return None


def geometry_defect(geometry: object) -> str | None:
    """Why ``geometry`` is not a well-formed GeoJSON Polygon or MultiPolygon, or None.

    Topological validity (self-intersections, rings crossing) is PostGIS's to judge
    with ST_IsValid; this checks only the GeoJSON shape.
    """
    if not isinstance(geometry, dict):
        return "expected a GeoJSON geometry object"
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        return _polygon_defect(coordinates)
    if kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            return "a MultiPolygon is a non-empty array of polygons"
        for polygon in coordinates:
            defect = _polygon_defect(polygon)
            if defect:
                return defect
        return None
    return "must be a Polygon or MultiPolygon"


def parse_feature(raw: object, row: int) -> AreaFeature | RowRejection:
    """One feature of the file, checked field by field."""
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        return RowRejection(row, "type", "must be 'Feature'")
    props = raw.get("properties")
    if not isinstance(props, dict):
        return RowRejection(row, "properties", "must be an object")
    area_id = props.get("id")
    if not isinstance(area_id, str) or not AREA_ID.fullmatch(area_id):
        return RowRejection(row, "properties.id", "1-64 of A-Z a-z 0-9 . _ : -")
    name = props.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        return RowRejection(row, "properties.name", f"1-{NAME_MAX} characters", area_id)
    try:
        level = AreaLevel(str(props.get("level")))
    except ValueError:
        return RowRejection(
            row, "properties.level", "one of district, town, village, cell", area_id
        )
    parent_id = props.get("parent_id")
    if parent_id is not None and (
        not isinstance(parent_id, str) or not AREA_ID.fullmatch(parent_id)
    ):
        return RowRejection(row, "properties.parent_id", "1-64 of A-Z a-z 0-9 . _ : -", area_id)
    if PARENT_LEVEL[level] is None and parent_id is not None:
        return RowRejection(row, "properties.parent_id", "a district has no parent", area_id)
    if PARENT_LEVEL[level] is not None and parent_id is None:
        return RowRejection(
            row, "properties.parent_id", f"a {level.value} needs its {PARENT_LEVEL[level]}", area_id
        )
    if parent_id == area_id:
        return RowRejection(row, "properties.parent_id", "an area cannot contain itself", area_id)
    geometry = raw.get("geometry")
    defect = geometry_defect(geometry)
    if defect is not None:
        return RowRejection(row, "geometry", defect, area_id)
    assert isinstance(geometry, dict)  # noqa: S101 - geometry_defect checked it
    return AreaFeature(row, area_id, name.strip(), level, parent_id, geometry)


@dataclass(slots=True)
class ImportPlan:
    """Features in an order that inserts every parent before its children."""

    ordered: list[AreaFeature] = field(default_factory=list)
    rejected: list[RowRejection] = field(default_factory=list)


def plan_import(
    features: Sequence[AreaFeature | RowRejection],
    existing_levels: Mapping[str, str],
) -> ImportPlan:
    """Order the file's areas parents first; reject those that cannot be placed.

    ``existing_levels`` maps the ids already stored (that the file refers to) to their
    level. A parent named in the file wins over the stored one: the file is the newer
    truth. A later feature repeating an id is rejected; the first one stands.
    """
    plan = ImportPlan()
    by_id: dict[str, AreaFeature] = {}
    rejected_ids: set[str] = set()
    for item in features:
        if isinstance(item, RowRejection):
            plan.rejected.append(item)
            if item.area_id is not None:
                rejected_ids.add(item.area_id)
        elif item.id in by_id:
            plan.rejected.append(
                RowRejection(
                    item.row,
                    "properties.id",
                    f"repeats the id of feature {by_id[item.id].row}",
                    item.id,
                )
            )
        else:
            by_id[item.id] = item

    # Kahn's algorithm over the parent links inside the file; a feature whose parent
    # is outside the file must find it stored, at the right level.
    placed: set[str] = set()
    failed: dict[str, RowRejection] = {}
    children: dict[str, list[AreaFeature]] = {}
    ready: list[AreaFeature] = []
    for feature in by_id.values():
        parent = feature.parent_id
        if parent is None:
            ready.append(feature)
        elif parent in by_id:
            if by_id[parent].level != feature.parent_level:
                failed[feature.id] = _wrong_level(feature, by_id[parent].level.value)
            else:
                children.setdefault(parent, []).append(feature)
        elif parent in existing_levels:
            if existing_levels[parent] != feature.parent_level:
                failed[feature.id] = _wrong_level(feature, existing_levels[parent])
            else:
                ready.append(feature)
        else:
            reason = (
                f"parent {parent!r} was rejected"
                if parent in rejected_ids
                else f"area {parent!r} is neither stored nor in this file"
            )
            failed[feature.id] = RowRejection(
                feature.row, "properties.parent_id", reason, feature.id
            )
    ready.sort(key=lambda f: f.row)
    while ready:
        feature = ready.pop(0)
        plan.ordered.append(feature)
        placed.add(feature.id)
        ready.extend(sorted(children.pop(feature.id, []), key=lambda f: f.row))
    # What is left hangs under a failed parent (the level order rules out cycles:
    # each step goes one level up, so a chain ends at a district within three).
    for feature in by_id.values():
        if feature.id in placed:
            continue
        plan.rejected.append(
            failed.get(feature.id)
            or RowRejection(
                feature.row,
                "properties.parent_id",
                f"parent {feature.parent_id!r} was rejected",
                feature.id,
            )
        )
    plan.rejected.sort(key=lambda r: r.row)
    return plan


def _wrong_level(feature: AreaFeature, parent_level: str) -> RowRejection:
    return RowRejection(
        feature.row,
        "properties.parent_id",
        f"a {feature.level.value}'s parent must be a {feature.parent_level}, "
        f"{feature.parent_id!r} is a {parent_level}",
        feature.id,
    )


@dataclass(slots=True)
class AreaImportReport:
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowRejection] = field(default_factory=list)
