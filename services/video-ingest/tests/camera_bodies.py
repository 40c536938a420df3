"""Camera registration bodies for the tests: a valid camera, any field overridden."""

from __future__ import annotations


def camera_body(ident: str, kind: str = "forest", **fields: object) -> dict[str, object]:
    """``POST /cameras`` body of a valid camera of ``kind``; ``fields`` replace or add."""
    return {
        "id": ident,
        "kind": kind,
        "location": {"type": "Point", "coordinates": [105.88, 29.40]},
        "elevation_m": 300.0,
        "heading_deg": 90.0,
        "hfov_deg": 60.0,
        **fields,
    }
