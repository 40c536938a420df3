"""Where a fire seen by a camera is: bearings, their intersection, and the area a single
bearing leaves open. Pure geometry, no I/O.

* A camera's image follows the pinhole model: a pixel column ``x`` of an image ``W``
  pixels wide, taken with horizontal field of view ``F`` at pan azimuth ``P``, looks
  along ``P + atan((x - W/2) / f)`` with the focal length ``f = (W/2) / tan(F/2)``
  in pixels. Azimuths are degrees clockwise from true north.
* Two bearings are intersected on a local tangent plane (east, north in metres)
  around the first camera, using the WGS 84 radii of curvature at its latitude,
  and the point is taken back to longitude and latitude. Over the 10-20 km a
  lookout sees, the plane is exact to well under a metre.
* One bearing alone leaves a wedge: the directions the box spans, between the
  nearest and farthest distance the camera can see a fire at; it is reported as a
  GeoJSON polygon (RFC 7946), with the point on the bearing at mid-range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from city_common.geo import GeoPoint, GeoPolygon

# WGS 84
_A = 6_378_137.0
_F = 1.0 / 298.257223563
_E2 = _F * (2.0 - _F)

# Bearings closer than this to parallel give no usable intersection.
MIN_CROSSING_DEG = 3.0
# How well a bearing is known beyond the box: pan encoder and mounting, in degrees.
BEARING_ERROR_DEG = 0.5


def pixel_bearing(pan_azimuth_deg: float, hfov_deg: float, image_width: float, x: float) -> float:
    """The azimuth (degrees, 0-360) the pixel column ``x`` looks along."""
    if not 0.0 < hfov_deg < 180.0:
        raise ValueError(f"a horizontal field of view is between 0 and 180 degrees, not {hfov_deg}")
    if image_width <= 0:
        raise ValueError("the image must be at least one pixel wide")
    focal = (image_width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
    offset = math.degrees(math.atan((x - image_width / 2.0) / focal))
    return (pan_azimuth_deg + offset) % 360.0


@dataclass(frozen=True, slots=True)
class Bearing:
    """A direction from a camera, and how wide an angle around it the fire may be in."""

    lon: float
    lat: float
    azimuth_deg: float
    half_width_deg: float


def bearing_of_box(
    *,
    lon: float,
    lat: float,
    pan_azimuth_deg: float,
    hfov_deg: float,
    image_width: float,
    box_x: float,
    box_w: float,
) -> Bearing:
    """The bearing of a box's centre; its half-width covers the box and the pan error."""
    left = pixel_bearing(pan_azimuth_deg, hfov_deg, image_width, box_x)
    right = pixel_bearing(pan_azimuth_deg, hfov_deg, image_width, box_x + box_w)
    centre = pixel_bearing(pan_azimuth_deg, hfov_deg, image_width, box_x + box_w / 2.0)
    span = (right - left) % 360.0
    return Bearing(lon, lat, centre, span / 2.0 + BEARING_ERROR_DEG)


@dataclass(frozen=True, slots=True)
class TangentPlane:
    """East and north metres around an origin, on the plane touching WGS 84 there."""

    lon0: float
    lat0: float

    @property
    def _radii(self) -> tuple[float, float]:
        """Meridional (north-south) and prime-vertical radii of curvature, metres."""
        s = math.sin(math.radians(self.lat0))
        w = math.sqrt(1.0 - _E2 * s * s)
        return _A * (1.0 - _E2) / w**3, _A / w

    def to_local(self, lon: float, lat: float) -> tuple[float, float]:
        meridional, prime = self._radii
        east = math.radians(lon - self.lon0) * prime * math.cos(math.radians(self.lat0))
        north = math.radians(lat - self.lat0) * meridional
        return east, north

    def to_wgs84(self, east: float, north: float) -> tuple[float, float]:
        meridional, prime = self._radii
        lon = self.lon0 + math.degrees(east / (prime * math.cos(math.radians(self.lat0))))
        lat = self.lat0 + math.degrees(north / meridional)
        return lon, lat


def _direction(azimuth_deg: float) -> tuple[float, float]:
    a = math.radians(azimuth_deg)
    return math.sin(a), math.cos(a)


def destination(
    lon: float, lat: float, azimuth_deg: float, distance_m: float
) -> tuple[float, float]:
    """The point ``distance_m`` along ``azimuth_deg`` from (lon, lat), on the tangent plane."""
    de, dn = _direction(azimuth_deg)
    return TangentPlane(lon, lat).to_wgs84(de * distance_m, dn * distance_m)


def distance_m(lon_a: float, lat_a: float, lon_b: float, lat_b: float) -> float:
    """Distance on the tangent plane at the first point (for the short ranges here)."""
    east, north = TangentPlane(lon_a, lat_a).to_local(lon_b, lat_b)
    return math.hypot(east, north)


@dataclass(frozen=True, slots=True)
class Fix:
    """Where two bearings cross, how far from each camera, and how sure (metres)."""

    location: GeoPoint
    uncertainty_m: float
    range_a_m: float
    range_b_m: float


def intersect(a: Bearing, b: Bearing, *, max_range_m: float = 30_000.0) -> Fix | None:
    """Where two bearings cross, if they do in front of both cameras and within range."""
    plane = TangentPlane(a.lon, a.lat)
    bx, by = plane.to_local(b.lon, b.lat)
    dax, day = _direction(a.azimuth_deg)
    dbx, dby = _direction(b.azimuth_deg)
    cross = dax * dby - day * dbx  # sin of the angle between the bearings
    if abs(cross) < math.sin(math.radians(MIN_CROSSING_DEG)):
        return None
    # a + s * da = b + t * db
    s = (bx * dby - by * dbx) / cross
    t = (bx * day - by * dax) / cross
    if s <= 0.0 or t <= 0.0 or s > max_range_m or t > max_range_m:
        return None
    lon, lat = plane.to_wgs84(s * dax, s * day)
    # Each bearing's angular doubt is a lateral doubt of range x angle; where they
    # cross at an angle, the doubt along the other line grows by 1 / sin(angle).
    lateral_a = s * math.radians(a.half_width_deg)
    lateral_b = t * math.radians(b.half_width_deg)
    uncertainty = math.hypot(lateral_a, lateral_b) / abs(cross)
    return Fix(GeoPoint.of(lon, lat), round(uncertainty, 1), round(s, 1), round(t, 1))


@dataclass(frozen=True, slots=True)
class BearingArea:
    """What one bearing says: a wedge, and the point on the bearing at mid-range."""

    wedge: GeoPolygon
    location: GeoPoint
    uncertainty_m: float


def bearing_area(
    bearing: Bearing, *, near_m: float = 200.0, far_m: float = 15_000.0, steps: int = 8
) -> BearingArea:
    """The wedge a single bearing leaves open, between ``near_m`` and ``far_m``.

    ``uncertainty_m`` is the radius around ``location`` that holds the whole wedge,
    so that a consumer that only reads a point and a radius still covers it.
    """
    if not 0.0 <= near_m < far_m:
        raise ValueError("the near edge of the wedge must be closer than the far edge")
    if steps < 1:
        raise ValueError("a wedge needs at least one step along each arc")
    half = bearing.half_width_deg
    angles = [bearing.azimuth_deg - half + 2.0 * half * k / steps for k in range(steps + 1)]
    far_arc = [destination(bearing.lon, bearing.lat, az, far_m) for az in angles]
    if near_m > 0.0:
        near_arc = [destination(bearing.lon, bearing.lat, az, near_m) for az in reversed(angles)]
    else:
        near_arc = [(bearing.lon, bearing.lat)]
    ring = [*near_arc, *far_arc, near_arc[0]]
    middle = (near_m + far_m) / 2.0
    lon, lat = destination(bearing.lon, bearing.lat, bearing.azimuth_deg, middle)
    reach = max(distance_m(lon, lat, p_lon, p_lat) for p_lon, p_lat in ring)
    return BearingArea(
        wedge=GeoPolygon(coordinates=[[(round(x, 7), round(y, 7)) for x, y in ring]]),
        location=GeoPoint.of(lon, lat),
        uncertainty_m=round(reach, 1),
    )


def crossing_area(a: Bearing, b: Bearing, *, max_range_m: float = 30_000.0) -> GeoPolygon | None:
    """Where two bearings' wedges overlap: the four crossings of their edges, or None
    when an edge pair does not cross in front of both cameras."""
    corners: list[tuple[float, float]] = []
    for da, db in ((-1, -1), (-1, 1), (1, 1), (1, -1)):
        edge_a = Bearing(a.lon, a.lat, a.azimuth_deg + da * a.half_width_deg, 0.0)
        edge_b = Bearing(b.lon, b.lat, b.azimuth_deg + db * b.half_width_deg, 0.0)
        fix = intersect(edge_a, edge_b, max_range_m=max_range_m)
        if fix is None:
            return None
        corners.append((round(fix.location.lon, 7), round(fix.location.lat, 7)))
    return GeoPolygon(coordinates=[[*corners, corners[0]]])
