"""The JSON API's shared parts: ``/api/v1/openapi.json`` assembled from each area's fragment.

An area registers its fragment (a JSON file with ``paths`` and optional
``components.schemas``) with :func:`register_openapi_fragment` from its ``init_app``, so each
area documents its own operations next to its code.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify

BASE = Path(__file__).parent / "openapi" / "base.json"
bp = Blueprint("api", __name__, url_prefix="/api/v1")


def register_openapi_fragment(app: Flask, path: Path) -> None:
    app.extensions.setdefault("sipas_openapi_fragments", []).append(Path(path))


def build_openapi(app: Flask) -> dict[str, Any]:
    """Merge the base document with every registered fragment (later fragments may not
    redefine a path or schema: that raises ValueError)."""
    doc = json.loads(BASE.read_text(encoding="utf-8"))
    for frag_path in app.extensions.get("sipas_openapi_fragments", []):
        frag = json.loads(frag_path.read_text(encoding="utf-8"))
        for route, item in frag.get("paths", {}).items():
            if route in doc["paths"]:
                raise ValueError(f"OpenAPI path {route} defined twice")
            doc["paths"][route] = item
        for name, schema in frag.get("components", {}).get("schemas", {}).items():
            if name in doc["components"]["schemas"]:
                raise ValueError(f"OpenAPI schema {name} defined twice")
            doc["components"]["schemas"][name] = schema
    return doc


@bp.get("/openapi.json")
def openapi():
    cached = current_app.extensions.get("sipas_openapi_doc")
    if cached is None:
        cached = build_openapi(current_app)
        current_app.extensions["sipas_openapi_doc"] = cached
    return jsonify(copy.deepcopy(cached))
