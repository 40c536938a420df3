"""Forest resources read from GeoJSON: what is taken, what is rejected and why."""

from __future__ import annotations

from typing import Any

import pytest

from fire_detect.domain.model import ForestResourceKind
from fire_detect.domain.resource_import import (
    NotAFeatureCollection,
    feature_collection,
    read_feature_collection,
)

SQUARE = [[105.9, 29.4], [105.91, 29.4], [105.91, 29.41], [105.9, 29.41], [105.9, 29.4]]


def feature(geometry: dict[str, Any] | None = None, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": geometry or {"type": "Point", "coordinates": [105.9, 29.4]},
        "properties": properties,
    }


def collection(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def test_good_features_are_taken_with_their_extra_properties() -> None:
    taken, rejected = read_feature_collection(
        collection(
            feature(id="ws-1", kind="water_source", name="Pond", capacity_m3=1200),
            feature(
                {"type": "LineString", "coordinates": [[105.9, 29.4], [105.92, 29.41]]},
                id="rd-1",
                kind="road_access",
                name=" Forest road ",
            ),
            feature(
                {"type": "Polygon", "coordinates": [SQUARE]},
                id="cp-7",
                kind="forest_compartment",
                name="Compartment 7",
                stand="mixed pine",
            ),
            feature(id="hz-1", kind="hazard", subtype="fuel_depot", name="Depot"),
        )
    )
    assert rejected == []
    assert [f.id for f in taken] == ["ws-1", "rd-1", "cp-7", "hz-1"]
    assert taken[0].properties == {"capacity_m3": 1200}
    assert taken[1].name == "Forest road"
    assert taken[2].kind is ForestResourceKind.FOREST_COMPARTMENT and taken[2].polygonal
    assert taken[3].subtype == "fuel_depot"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"type": "Feature", "geometry": None}, "features[0].properties"),
        ("not a feature", "features[0].type"),
        (feature(kind="water_source", name="x"), "features[0].properties.id"),
        (feature(id="a b", kind="water_source", name="x"), "features[0].properties.id"),
        (feature(id="x", kind="lake", name="x"), "features[0].properties.kind"),
        (feature(id="x", kind="water_source", name=""), "features[0].properties.name"),
        (feature(id="x", kind="hazard", name="x"), "features[0].properties.subtype"),
        (feature(id="x", kind="hazard", subtype="Fuel Depot", name="x"),
         "features[0].properties.subtype"),
        (feature({"type": "Point", "coordinates": [190, 29]}, id="x", kind="water_source",
                 name="x"), "features[0].geometry.coordinates"),
        (feature({"type": "Point", "coordinates": ["105", 29]}, id="x", kind="water_source",
                 name="x"), "features[0].geometry.coordinates"),
        (feature({"type": "Polygon", "coordinates": [SQUARE[:-1]]}, id="x",
                 kind="forest_compartment", name="x"), "features[0].geometry.coordinates[0]"),
        (feature(id="x", kind="forest_compartment", name="x"), "features[0].geometry.type"),
        (feature({"type": "LineString", "coordinates": [[105.9, 29.4], [105.92, 29.41]]},
                 id="x", kind="ranger_station", name="x"), "features[0].geometry.type"),
        (feature({"type": "GeometryCollection", "geometries": []}, id="x",
                 kind="water_source", name="x"), "features[0].geometry.type"),
    ],
)  # fmt: skip
def test_each_bad_feature_is_rejected_naming_the_field(raw: Any, field: str) -> None:
    taken, rejected = read_feature_collection(collection(raw))
    assert taken == []
    assert [(r.index, r.field) for r in rejected] == [(0, field)], rejected
    assert rejected[0].reason


def test_a_bad_feature_does_not_stop_the_others_and_a_repeat_id_is_rejected() -> None:
    taken, rejected = read_feature_collection(
        collection(
            feature(id="a", kind="water_source", name="A"),
            feature(id="b", kind="lake", name="B"),
            feature(id="a", kind="ranger_station", name="A again"),
            feature(id="c", kind="ranger_station", name="C"),
        )
    )
    assert [f.id for f in taken] == ["a", "c"]
    assert [(r.index, r.id) for r in rejected] == [(1, "b"), (2, "a")]
    assert "already" in rejected[1].reason


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"type": "Feature", "features": []}, "type"),
        ([], "type"),
        ({"type": "FeatureCollection"}, "features"),
        ({"type": "FeatureCollection", "features": {}}, "features"),
    ],
)
def test_only_a_feature_collection_is_read(document: Any, field: str) -> None:
    with pytest.raises(NotAFeatureCollection) as caught:
        read_feature_collection(document)
    assert caught.value.field == field


def test_export_reads_back_as_the_same_features() -> None:
    stored = [
        {
            "id": "hz-1",
            "kind": "hazard",
            "name": "Depot",
            "subtype": "fuel_depot",
            "properties": {"owner": "Sinopec"},
            "geometry": {"type": "Point", "coordinates": [105.9, 29.4]},
        },
        {
            "id": "ws-1",
            "kind": "water_source",
            "name": "Pond",
            "subtype": None,
            "properties": {},
            "geometry": {"type": "Point", "coordinates": [105.8, 29.3]},
        },
    ]
    exported = feature_collection(stored)
    taken, rejected = read_feature_collection(exported)
    assert rejected == []
    assert [(f.id, f.kind.value, f.name, f.subtype, dict(f.properties)) for f in taken] == [
        ("hz-1", "hazard", "Depot", "fuel_depot", {"owner": "Sinopec"}),
        ("ws-1", "water_source", "Pond", None, {}),
    ]
