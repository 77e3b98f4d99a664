"""Build the simplified district boundaries shipped with the examples (for the budget book's map).

Source: the district (level 2) polygons of ``daohoangson/dvhcvn`` (``data/gis/<province>.json``,
extracted from the Government's administrative map portal gis.chinhphu.vn, 2019 boundaries; the
repository is published under GPL-3.0). Each district keeps its GSO code and name; rings are
simplified with the Douglas–Peucker algorithm (tolerance ~110 m, less for small islands) and rounded to 4 decimals
(~11 m), islands smaller than 0,05 km² are dropped (never a district's largest ring, so Bạch
Long Vĩ stays). Output: ``examples/<folder>/boundaries.geojson`` for the examples allocated by
district. Tân Châu is allocated by commune, and no public commune boundaries are available here,
so it gets none.

Run: ``python examples/data/boundaries/build_boundaries.py DVHCVN_CHECKOUT`` (a clone of the
repository; the files are read with ``git show`` when the checkout is a bare mirror).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2]
TARGETS = {"haiphong_2011_2015": "31", "hanoi_2014": "01", "cantho_2016": "92", "quangbinh_2017": "44"}
TOLERANCE_DEG = 0.001
MIN_ISLAND_KM2 = 0.05
SOURCE = {
    "en": "district boundaries of 2019 from github.com/daohoangson/dvhcvn, data/gis/{code}.json (taken from gis.chinhphu.vn; "
    "licence of the repository: GPL-3.0), simplified by examples/data/boundaries/build_boundaries.py",
    "vi": "ranh giới quận, huyện năm 2019 từ github.com/daohoangson/dvhcvn, tệp data/gis/{code}.json (lấy từ gis.chinhphu.vn; "
    "giấy phép của kho dữ liệu: GPL-3.0), đã giản lược bằng examples/data/boundaries/build_boundaries.py",
}


def _read(checkout: Path, code: str) -> dict:
    path = checkout / "data" / "gis" / f"{code}.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    raw = subprocess.run(["git", "-C", str(checkout), "show", f"HEAD:data/gis/{code}.json"], check=True, capture_output=True).stdout
    return json.loads(raw)


def _dp(points: list[list[float]], tol: float) -> list[list[float]]:
    """Douglas–Peucker simplification of an open polyline (iterative)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (x1, y1), (x2, y2) = points[a], points[b]
        dx, dy = x2 - x1, y2 - y1
        norm = math.hypot(dx, dy) or 1e-12
        best, index = -1.0, -1
        for i in range(a + 1, b):
            x, y = points[i]
            d = abs(dy * (x - x1) - dx * (y - y1)) / norm if norm > 1e-12 else math.hypot(x - x1, y - y1)
            if d > best:
                best, index = d, i
        if best > tol:
            keep[index] = True
            stack.extend([(a, index), (index, b)])
    return [p for p, k in zip(points, keep) if k]


def _ring_area_km2(ring: list[list[float]]) -> float:
    lat0 = math.radians(sum(p[1] for p in ring) / len(ring))
    kx, ky = 111.32 * math.cos(lat0), 110.57
    s = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        s += (x1 * kx) * (y2 * ky) - (x2 * kx) * (y1 * ky)
    return abs(s) / 2


def _simplify_ring(ring: list[list[float]]) -> list[list[float]] | None:
    closed = ring[0] == ring[-1]
    pts = ring[:-1] if closed else ring
    if len(pts) < 4:
        return None
    # small rings (an island district) keep more detail: the tolerance shrinks with their size
    tol = min(TOLERANCE_DEG, max(0.0001, math.sqrt(_ring_area_km2(ring)) / 30 / 111))
    # split the closed ring at its farthest point so both halves are open polylines
    far = max(range(len(pts)), key=lambda i: (pts[i][0] - pts[0][0]) ** 2 + (pts[i][1] - pts[0][1]) ** 2)
    out = _dp(pts[: far + 1], tol)[:-1] + _dp([*pts[far:], pts[0]], tol)[:-1]
    out = [[round(x, 4), round(y, 4)] for x, y in out]
    dedup = [p for i, p in enumerate(out) if i == 0 or p != out[i - 1]]
    if len(dedup) < 3:
        return None
    return [*dedup, dedup[0]]


def district_features(data: dict) -> list[dict]:
    features = []
    for d in data["level2s"]:
        coords = d["coordinates"] if d["type"] == "MultiPolygon" else [d["coordinates"]]
        polygons = []
        largest = max((_ring_area_km2(p[0]) for p in coords if p and p[0]), default=0.0)
        for polygon in coords:
            outer = polygon[0]
            area = _ring_area_km2(outer)
            if area < MIN_ISLAND_KM2 and area < largest:
                continue
            simplified = _simplify_ring(outer)
            if simplified is None:
                continue
            holes = [h for h in (_simplify_ring(r) for r in polygon[1:] if _ring_area_km2(r) >= MIN_ISLAND_KM2) if h]
            polygons.append([simplified, *holes])
        features.append(
            {
                "type": "Feature",
                "properties": {"code": d["level2_id"], "name": d["name"]},
                "geometry": {"type": "MultiPolygon", "coordinates": polygons},
            }
        )
    features.sort(key=lambda f: f["properties"]["code"])
    return features


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkout", type=Path, help="a clone (or bare mirror) of github.com/daohoangson/dvhcvn")
    args = ap.parse_args()
    for folder, code in TARGETS.items():
        data = _read(args.checkout, code)
        doc = {
            "type": "FeatureCollection",
            "name": data["name"],
            "source": SOURCE["en"].format(code=code),
            "source_vi": SOURCE["vi"].format(code=code),
            "licence": "GPL-3.0 (as the source repository); boundaries as published by gis.chinhphu.vn in 2019",
            "features": district_features(data),
        }
        out = EXAMPLES / folder / "boundaries.geojson"
        out.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        n_points = sum(len(r) for f in doc["features"] for p in f["geometry"]["coordinates"] for r in p)
        print(f"{out.relative_to(EXAMPLES.parent)}: {len(doc['features'])} districts, {n_points} points, {out.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
