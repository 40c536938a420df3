"""Merge the services' OpenAPI documents into the one public document. Pure."""

from __future__ import annotations

from typing import Any

_REF = "#/components/schemas/"


def _rename_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_REF):
                out[key] = _REF + prefix + value.removeprefix(_REF)
            else:
                out[key] = _rename_refs(value, prefix)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, prefix) for item in node]
    return node


def merge_openapi(
    gateway_doc: dict[str, Any], services: dict[str, dict[str, Any]], *, api_prefix: str
) -> dict[str, Any]:
    """The gateway's own document plus each service's paths under ``api_prefix/<service>``.

    Schema names get the service as a prefix, so two services may both have a
    ``CellCreate`` without one overwriting the other.
    """
    merged = dict(gateway_doc)
    paths = dict(merged.get("paths", {}))
    schemas = dict(merged.get("components", {}).get("schemas", {}))
    tags = list(merged.get("tags", []))
    for name, doc in sorted(services.items()):
        prefix = name.replace("-", "_") + "__"
        tags.append({"name": name, "description": doc.get("info", {}).get("description", "")})
        for path, item in doc.get("paths", {}).items():
            renamed = _rename_refs(item, prefix)
            for operation in renamed.values():
                if isinstance(operation, dict):
                    operation["tags"] = [name]
                    if "operationId" in operation:
                        operation["operationId"] = f"{prefix}{operation['operationId']}"
            paths[f"{api_prefix}/{name}{path}"] = renamed
        for schema_name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas[prefix + schema_name] = _rename_refs(schema, prefix)
    merged["paths"] = paths
    merged["tags"] = tags
    merged.setdefault("components", {})["schemas"] = schemas
    merged["components"].setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    merged["security"] = [{"bearer": []}]
    return merged
