"""District boundaries for the budget book's map: a small GeoJSON reader, nothing more.

A boundary file is a GeoJSON ``FeatureCollection`` whose features carry the unit's code in
``properties.code`` (the GSO code the plan uses) and a ``Polygon``/``MultiPolygon`` geometry in
longitude/latitude; a top-level ``source`` string says where the lines come from (printed under
the map). The examples ship theirs (``examples/<folder>/boundaries.geojson``, see
``examples/data/boundaries/``). No GIS library is needed: the map is drawn with matplotlib.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Boundaries", "load_boundaries", "find_boundaries", "BOUNDARY_FILE"]

BOUNDARY_FILE = "boundaries.geojson"
_MAX_BYTES = 20_000_000


@dataclass(frozen=True)
class Boundaries:
    """Rings (lists of (lon, lat)) of each unit, by unit code, and where they come from."""

    shapes: dict[str, list[list[list[tuple[float, float]]]]]  # code → polygons → rings → points
    names: dict[str, str]
    source: str
    sources: dict[str, str] = field(default_factory=dict)  # per language (``source_vi``), when the file has them

    def source_for(self, lang: str) -> str:
        return self.sources.get(str(lang), self.source)

    def bounds(self, codes: list[str] | None = None) -> tuple[float, float, float, float]:
        xs, ys = [], []
        for code, polygons in self.shapes.items():
            if codes is not None and code not in codes:
                continue
            for polygon in polygons:
                for x, y in polygon[0]:
                    xs.append(x)
                    ys.append(y)
        return min(xs), min(ys), max(xs), max(ys)


def load_boundaries(path: str | Path) -> Boundaries:
    """Read a boundary file (raises ``ValueError`` with the reason when it is not one)."""
    path = Path(path)
    if path.stat().st_size > _MAX_BYTES:
        raise ValueError(f"{path}: boundary file larger than {_MAX_BYTES // 1_000_000} MB")
    doc = json.loads(path.read_text(encoding="utf-8-sig"))
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ValueError(f"{path}: not a GeoJSON FeatureCollection")
    shapes: dict[str, list[list[list[tuple[float, float]]]]] = {}
    names: dict[str, str] = {}
    for feature in doc.get("features", []):
        props = feature.get("properties") or {}
        code = str(props.get("code", "")).strip()
        geometry = feature.get("geometry") or {}
        kind, coords = geometry.get("type"), geometry.get("coordinates") or []
        if not code or kind not in ("Polygon", "MultiPolygon"):
            continue
        polygons = [coords] if kind == "Polygon" else coords
        shapes[code] = [[[(float(x), float(y)) for x, y, *_ in ring] for ring in polygon] for polygon in polygons if polygon]
        names[code] = str(props.get("name", ""))
    if not shapes:
        raise ValueError(f"{path}: no feature with properties.code and a polygon")
    sources = {k.removeprefix("source_"): str(v) for k, v in doc.items() if k.startswith("source_") and isinstance(v, str)}
    return Boundaries(shapes, names, str(doc.get("source", path.name)), sources)


def find_boundaries(plan_path: str | Path | None) -> Path | None:
    """The boundary file that belongs to a plan: ``boundaries.geojson`` beside it."""
    if plan_path is None:
        return None
    candidate = Path(plan_path).resolve().parent / BOUNDARY_FILE
    return candidate if candidate.is_file() else None
