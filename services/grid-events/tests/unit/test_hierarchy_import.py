"""The GeoJSON import's row checks and its parents-first order."""

from __future__ import annotations

from typing import Any

import pytest

from grid_events.domain.hierarchy import (
    AreaFeature,
    FeatureCollectionError,
    RowRejection,
    features_of,
    geometry_defect,
    parse_feature,
    plan_import,
)

SQUARE = [[[105.9, 29.3], [106.0, 29.3], [106.0, 29.4], [105.9, 29.4], [105.9, 29.3]]]


def feature(area_id: str, level: str, parent: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"id": area_id, "name": area_id.upper(), "level": level, "parent_id": parent},
        "geometry": extra.get("geometry", {"type": "Polygon", "coordinates": SQUARE}),
    }


def parsed(*raws: dict[str, Any]) -> list[AreaFeature | RowRejection]:
    return [parse_feature(raw, row) for row, raw in enumerate(raws, start=1)]


def test_children_may_come_before_their_parents() -> None:
    plan = plan_import(
        parsed(
            feature("c1", "cell", "v1"),
            feature("v1", "village", "t1"),
            feature("t1", "town", "d1"),
            feature("d1", "district", None),
        ),
        {},
    )
    assert plan.rejected == []
    assert [f.id for f in plan.ordered] == ["d1", "t1", "v1", "c1"]


def test_a_cell_under_a_town_is_refused_and_so_are_its_followers() -> None:
    plan = plan_import(
        parsed(
            feature("d1", "district", None),
            feature("t1", "town", "d1"),
            feature("c1", "cell", "t1"),
        ),
        {},
    )
    assert [f.id for f in plan.ordered] == ["d1", "t1"]
    (rejection,) = plan.rejected
    assert rejection.row == 3 and rejection.field == "properties.parent_id"
    assert "must be a village" in rejection.reason


def test_parents_are_found_among_stored_areas_at_their_level() -> None:
    plan = plan_import(
        parsed(feature("c1", "cell", "v-stored"), feature("c2", "cell", "t-stored")),
        {"v-stored": "village", "t-stored": "town"},
    )
    assert [f.id for f in plan.ordered] == ["c1"]
    assert plan.rejected[0].area_id == "c2"


def test_a_rejected_parent_takes_its_subtree_with_it() -> None:
    bad_geometry = {"type": "Polygon", "coordinates": [SQUARE[0][:-1]]}
    plan = plan_import(
        parsed(
            feature("d1", "district", None),
            feature("t1", "town", "d1", geometry=bad_geometry),
            feature("v1", "village", "t1"),
            feature("c1", "cell", "v1"),
        ),
        {},
    )
    assert [f.id for f in plan.ordered] == ["d1"]
    assert [(r.row, r.field) for r in plan.rejected] == [
        (2, "geometry"),
        (3, "properties.parent_id"),
        (4, "properties.parent_id"),
    ]
    assert "was rejected" in plan.rejected[1].reason


def test_unknown_parents_and_repeated_ids_are_row_errors() -> None:
    plan = plan_import(
        parsed(
            feature("d1", "district", None),
            feature("d1", "district", None),
            feature("t9", "town", "nowhere"),
        ),
        {},
    )
    assert [f.id for f in plan.ordered] == ["d1"]
    assert [(r.row, r.field) for r in plan.rejected] == [
        (2, "properties.id"),
        (3, "properties.parent_id"),
    ]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"type": "Feature", "properties": None, "geometry": None}, "properties"),
        (feature("a b", "cell", "v1"), "properties.id"),
        (feature("x", "province", None), "properties.level"),
        (feature("x", "district", "d0"), "properties.parent_id"),
        (feature("x", "cell", None), "properties.parent_id"),
        (feature("x", "town", "x"), "properties.parent_id"),
        (
            feature("x", "district", None, geometry={"type": "Point", "coordinates": [1, 2]}),
            "geometry",
        ),
    ],
)
def test_each_field_is_checked(raw: dict[str, Any], field: str) -> None:
    result = parse_feature(raw, 7)
    assert isinstance(result, RowRejection) and result.field == field and result.row == 7


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [True, 0], [1, 1], [0, 0]]]},
        {"type": "MultiPolygon", "coordinates": []},
        {"type": "MultiPolygon", "coordinates": [[[[0, 0], ["1", 0], [1, 1], [0, 0]]]]},
    ],
)
def test_malformed_geometries(geometry: dict[str, Any]) -> None:
    assert geometry_defect(geometry) is not None


def test_multipolygons_are_accepted() -> None:
    assert geometry_defect({"type": "MultiPolygon", "coordinates": [SQUARE, SQUARE]}) is None


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], "body"),
        ({"type": "Feature"}, "body.type"),
        ({"type": "FeatureCollection", "features": {}}, "body.features"),
    ],
)
def test_the_document_must_be_a_feature_collection(document: object, field: str) -> None:
    with pytest.raises(FeatureCollectionError) as raised:
        features_of(document)
    assert raised.value.field == field
