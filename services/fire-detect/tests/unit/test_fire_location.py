"""Bearings from camera pixels, where two bearings cross, the wedge of one bearing."""

from __future__ import annotations

import math

import pytest

from fire_detect.domain.location import (
    BEARING_ERROR_DEG,
    Bearing,
    TangentPlane,
    bearing_area,
    bearing_of_box,
    crossing_area,
    destination,
    distance_m,
    intersect,
    pixel_bearing,
)

# A lookout in Yongchuan's hills.
LON, LAT = 105.90, 29.40
# Length of a degree at 29.40° N from the standard series (independent of the code):
# latitude 111132.92 - 559.82 cos 2φ + 1.175 cos 4φ, longitude 111412.84 cos φ
# - 93.5 cos 3φ + 0.118 cos 5φ, in metres.
PHI = math.radians(LAT)
M_PER_DEG_LAT = 111132.92 - 559.82 * math.cos(2 * PHI) + 1.175 * math.cos(4 * PHI)
M_PER_DEG_LON = 111412.84 * math.cos(PHI) - 93.5 * math.cos(3 * PHI) + 0.118 * math.cos(5 * PHI)


@pytest.mark.parametrize(
    ("pan", "x", "expected"),
    [
        (90.0, 320.0, 90.0),  # the centre column looks along the pan
        (90.0, 640.0, 120.0),  # the right edge: half the 60° field
        (90.0, 0.0, 60.0),
        # 160 px right of centre: f = 320 / tan 30° = 554.26 px, atan(160 / 554.26) = 16.102°
        (90.0, 480.0, 106.1021),
        (350.0, 640.0, 20.0),  # past north
        (5.0, 0.0, 335.0),  # before north
    ],
)
def test_pixel_bearings_follow_the_pinhole_model(pan: float, x: float, expected: float) -> None:
    assert pixel_bearing(pan, 60.0, 640.0, x) == pytest.approx(expected, abs=1e-4)


def test_a_field_of_view_must_be_one() -> None:
    with pytest.raises(ValueError, match="field of view"):
        pixel_bearing(0.0, 0.0, 640.0, 10.0)
    with pytest.raises(ValueError, match="field of view"):
        pixel_bearing(0.0, 180.0, 640.0, 10.0)
    with pytest.raises(ValueError, match="pixel"):
        pixel_bearing(0.0, 60.0, 0.0, 10.0)


def test_a_box_bearing_covers_the_box_and_the_pan_error() -> None:
    # A box from column 300 to 340 of 640, 60° field, pan 200°.
    b = bearing_of_box(
        lon=LON, lat=LAT, pan_azimuth_deg=200.0, hfov_deg=60.0, image_width=640, box_x=300, box_w=40
    )
    assert b.azimuth_deg == pytest.approx(200.0)
    # atan(20 / 554.26) = 2.0666° each side of the centre.
    assert b.half_width_deg == pytest.approx(2.0666 + BEARING_ERROR_DEG, abs=1e-3)


def test_the_tangent_plane_matches_the_length_of_a_degree() -> None:
    plane = TangentPlane(LON, LAT)
    east, north = plane.to_local(LON + 0.01, LAT + 0.01)
    assert east == pytest.approx(0.01 * M_PER_DEG_LON, rel=1e-4)
    assert north == pytest.approx(0.01 * M_PER_DEG_LAT, rel=1e-4)
    lon, lat = plane.to_wgs84(east, north)
    assert (lon, lat) == pytest.approx((LON + 0.01, LAT + 0.01), abs=1e-12)


def test_two_bearings_cross_where_hand_geometry_says() -> None:
    # Camera B stands 10 km due east of A. A looks north-east (45°), B north-west
    # (315°): they cross 5 km east and 5 km north of A, 7071 m from each.
    b_lon, b_lat = destination(LON, LAT, 90.0, 10_000.0)
    assert b_lat == pytest.approx(LAT, abs=1e-12)
    assert b_lon == pytest.approx(LON + 10_000.0 / M_PER_DEG_LON, abs=1e-6)
    fix = intersect(Bearing(LON, LAT, 45.0, 0.5), Bearing(b_lon, b_lat, 315.0, 0.5))
    assert fix is not None
    assert fix.location.lon == pytest.approx(LON + 5000.0 / M_PER_DEG_LON, abs=1e-6)
    assert fix.location.lat == pytest.approx(LAT + 5000.0 / M_PER_DEG_LAT, abs=1e-6)
    assert fix.range_a_m == pytest.approx(5000.0 * math.sqrt(2), abs=0.2)
    assert fix.range_b_m == pytest.approx(5000.0 * math.sqrt(2), abs=0.2)
    # Crossing at 90°, each 7071 m x 0.5° = 61.7 m sideways: sqrt(2) x 61.7 = 87.3 m.
    assert fix.uncertainty_m == pytest.approx(
        math.hypot(7071.07 * math.radians(0.5), 7071.07 * math.radians(0.5)), abs=0.5
    )


def test_a_shallow_crossing_is_less_certain() -> None:
    b_lon, b_lat = destination(LON, LAT, 90.0, 2_000.0)
    steep = intersect(Bearing(LON, LAT, 45.0, 0.5), Bearing(b_lon, b_lat, 315.0, 0.5))
    shallow = intersect(Bearing(LON, LAT, 10.0, 0.5), Bearing(b_lon, b_lat, 350.0, 0.5))
    assert steep is not None and shallow is not None
    assert shallow.uncertainty_m > 3 * steep.uncertainty_m


@pytest.mark.parametrize(
    ("azimuth_a", "azimuth_b", "why"),
    [
        (0.0, 0.0, "parallel"),
        (0.0, 1.0, "almost parallel"),
        (225.0, 135.0, "behind both cameras"),
        (45.0, 135.0, "behind camera B"),
    ],
)
def test_bearings_that_do_not_meet_in_front_give_no_fix(
    azimuth_a: float, azimuth_b: float, why: str
) -> None:
    b_lon, b_lat = destination(LON, LAT, 90.0, 10_000.0)
    assert (
        intersect(Bearing(LON, LAT, azimuth_a, 0.5), Bearing(b_lon, b_lat, azimuth_b, 0.5)) is None
    )


def test_a_crossing_beyond_range_is_no_fix() -> None:
    b_lon, b_lat = destination(LON, LAT, 90.0, 10_000.0)
    # 15° and 345° meet 5 km east and 5 km / tan 15° = 18.7 km north: 5 km / sin 15° = 19.3 km.
    a, b = Bearing(LON, LAT, 15.0, 0.5), Bearing(b_lon, b_lat, 345.0, 0.5)
    far = intersect(a, b)
    assert far is not None
    assert far.range_a_m == pytest.approx(5000 / math.sin(math.radians(15)), abs=1)
    assert intersect(a, b, max_range_m=15_000) is None


def test_one_bearing_leaves_a_wedge() -> None:
    area = bearing_area(Bearing(LON, LAT, 90.0, 2.0), near_m=1_000.0, far_m=9_000.0, steps=4)
    ring = area.wedge.coordinates[0]
    assert area.wedge.type == "Polygon"
    assert ring[0] == ring[-1] and len(ring) == 2 * 5 + 1
    # The point is due east of the camera at mid-range, 5 km.
    assert area.location.lat == pytest.approx(LAT, abs=1e-9)
    assert area.location.lon == pytest.approx(LON + 5000.0 / M_PER_DEG_LON, abs=1e-6)
    # Every corner lies at the near or far distance, within 88°-92°.
    plane = TangentPlane(LON, LAT)
    for lon, lat in ring[:-1]:
        east, north = plane.to_local(lon, lat)
        assert math.hypot(east, north) == pytest.approx(1000.0, abs=0.5) or math.hypot(
            east, north
        ) == pytest.approx(9000.0, abs=0.5)
        assert 88.0 - 1e-3 <= math.degrees(math.atan2(east, north)) <= 92.0 + 1e-3
    # The far edge is 2 x 9 km x sin 2° = 628 m wide.
    far = [p for p in ring[:-1] if distance_m(LON, LAT, *p) > 5000]
    assert distance_m(*far[0], *far[-1]) == pytest.approx(
        2 * 9000 * math.sin(math.radians(2)), abs=1
    )
    # The radius around the point covers the wedge: it reaches the near corners.
    near_corner = math.hypot(4000.0 + 1000 * (1 - math.cos(math.radians(2))), 0)
    assert area.uncertainty_m >= near_corner
    assert area.uncertainty_m == pytest.approx(
        max(distance_m(area.location.lon, area.location.lat, *p) for p in ring), abs=0.2
    )


def test_a_wedge_from_the_camera_itself_is_a_triangle_fan() -> None:
    area = bearing_area(Bearing(LON, LAT, 0.0, 1.0), near_m=0.0, far_m=5_000.0, steps=2)
    ring = area.wedge.coordinates[0]
    assert ring[0] == (LON, LAT) and ring[-1] == (LON, LAT) and len(ring) == 5
    with pytest.raises(ValueError, match="near edge"):
        bearing_area(Bearing(LON, LAT, 0.0, 1.0), near_m=6_000.0, far_m=5_000.0)


def test_two_wedges_overlap_in_a_quadrilateral_around_the_fix() -> None:
    b_lon, b_lat = destination(LON, LAT, 90.0, 10_000.0)
    a, b = Bearing(LON, LAT, 45.0, 0.5), Bearing(b_lon, b_lat, 315.0, 0.5)
    area = crossing_area(a, b)
    fix = intersect(a, b)
    assert area is not None and fix is not None
    ring = area.coordinates[0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    # The corners surround the fix, each about 7071 m x tan 0.5° x sqrt(2) = 87 m from it.
    for lon, lat in ring[:-1]:
        assert distance_m(fix.location.lon, fix.location.lat, lon, lat) == pytest.approx(87, abs=3)
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    assert min(lons) < fix.location.lon < max(lons) and min(lats) < fix.location.lat < max(lats)
    assert crossing_area(a, Bearing(b_lon, b_lat, 135.0, 0.5)) is None
