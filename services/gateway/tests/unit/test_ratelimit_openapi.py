from gateway.domain.openapi import merge_openapi
from gateway.domain.ratelimit import RateLimiter, TokenBucket


def test_bucket_allows_the_burst_then_paces_at_the_rate() -> None:
    bucket = TokenBucket(rate_per_s=2.0, burst=3)
    assert [bucket.take(100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = bucket.take(100.0)
    assert 0.49 < wait <= 0.5
    assert bucket.take(100.5) == 0.0  # one token refilled after half a second
    assert bucket.take(100.5) > 0


def test_limiter_keeps_callers_apart_and_bounds_memory() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1, max_callers=2)
    assert limiter.check("a", 0.0) == 0.0
    assert limiter.check("a", 0.0) > 0
    assert limiter.check("b", 0.0) == 0.0
    # A third caller evicts the buckets that have fully refilled.
    assert limiter.check("c", 10.0) == 0.0
    assert len(limiter._buckets) <= 2


def test_merge_prefixes_paths_and_schema_names_per_service() -> None:
    gateway = {"openapi": "3.1.0", "info": {"title": "gw"}, "paths": {"/api/v1/status": {}}}
    ref = {"$ref": "#/components/schemas/CellCreate"}
    svc = {
        "info": {"description": "grid"},
        "paths": {
            "/cells": {
                "post": {
                    "operationId": "add",
                    "requestBody": {"content": {"application/json": {"schema": ref}}},
                }
            }
        },
        "components": {"schemas": {"CellCreate": {"properties": {"parent": ref}}}},
    }
    other = {
        "paths": {"/cells": {"get": {}}},
        "components": {"schemas": {"CellCreate": {"type": "object"}}},
    }
    merged = merge_openapi(
        gateway, {"grid-events": svc, "fire-detect": other}, api_prefix="/api/v1"
    )
    assert set(merged["paths"]) == {
        "/api/v1/status",
        "/api/v1/grid-events/cells",
        "/api/v1/fire-detect/cells",
    }
    post = merged["paths"]["/api/v1/grid-events/cells"]["post"]
    assert post["operationId"] == "grid_events__add" and post["tags"] == ["grid-events"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/grid_events__CellCreate"}
    schemas = merged["components"]["schemas"]
    assert schemas["grid_events__CellCreate"]["properties"]["parent"]["$ref"].endswith(
        "grid_events__CellCreate"
    )
    assert schemas["fire_detect__CellCreate"] == {"type": "object"}
    assert merged["security"] == [{"bearer": []}]
