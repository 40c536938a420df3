"""Use cases of the administrative hierarchy: GeoJSON import, reading one area."""

from __future__ import annotations

import json
from typing import Any

from city_common.db.uow import UnitOfWork
from city_common.web.problems import not_found
from grid_events.adapters import areas_repo as repo
from grid_events.domain.hierarchy import (
    PARENT_LEVEL,
    AreaFeature,
    AreaImportReport,
    AreaLevel,
    RowRejection,
    features_of,
    parse_feature,
    plan_import,
)

_LEVELS = frozenset(level.value for level in AreaLevel)


async def import_areas(uow: UnitOfWork, document: object) -> AreaImportReport:
    """Import a FeatureCollection of areas; every acceptable row is written, in one commit.

    Raises FeatureCollectionError when the document as a whole is unusable.
    """
    raw_features = features_of(document)
    report = AreaImportReport(received=len(raw_features))
    parsed = [parse_feature(raw, row) for row, raw in enumerate(raw_features, start=1)]

    # PostGIS judges topology (self-intersections, crossing rings) for the whole file
    # in one round trip; a row it refuses is rejected like any other bad field.
    shaped = [p for p in parsed if isinstance(p, AreaFeature)]
    defects = await repo.geometry_defects(uow.session, [json.dumps(f.geometry) for f in shaped])
    invalid = {
        f.row: RowRejection(f.row, "geometry", f"invalid geometry: {defect}", f.id)
        for f, defect in zip(shaped, defects, strict=True)
        if defect is not None
    }
    checked: list[AreaFeature | RowRejection] = [
        invalid.get(p.row, p) if isinstance(p, AreaFeature) else p for p in parsed
    ]

    referenced = {f.parent_id for f in shaped if f.parent_id} | {f.id for f in shaped}
    stored = await repo.levels_of(uow.session, referenced)
    plan = plan_import(checked, stored)
    report.rejected = plan.rejected
    skipped: set[str] = set()
    for feature in plan.ordered:
        if feature.parent_id in skipped:
            skipped.add(feature.id)
            report.rejected.append(
                RowRejection(
                    feature.row,
                    "properties.parent_id",
                    f"parent {feature.parent_id!r} was rejected",
                    feature.id,
                )
            )
            continue
        # Re-levelling a stored area would leave its stored children at the wrong level.
        if stored.get(feature.id, feature.level.value) != feature.level.value:
            clash = await _relevel_clash(uow, feature)
            if clash is not None:
                report.rejected.append(clash)
                skipped.add(feature.id)
                continue
        outcome = await repo.upsert_area(uow.session, feature)
        setattr(report, outcome, getattr(report, outcome) + 1)
    report.rejected.sort(key=lambda r: r.row)
    await uow.commit()
    return report


async def _relevel_clash(uow: UnitOfWork, feature: AreaFeature) -> RowRejection | None:
    levels = await repo.children_levels(uow.session, feature.id)
    wrong = sorted(
        lv for lv in levels if lv not in _LEVELS or PARENT_LEVEL[AreaLevel(lv)] != feature.level
    )
    if not wrong:
        return None
    return RowRejection(
        feature.row,
        "properties.level",
        f"{feature.id!r} has stored children of level {', '.join(wrong)}",
        feature.id,
    )


async def get_area(uow: UnitOfWork, area_id: str) -> dict[str, Any]:
    area = await repo.get_area(uow.session, area_id)
    if area is None:
        raise not_found("area", area_id)
    return area
