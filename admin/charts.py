"""Server-rendered SVG geometry for the dashboard (no JavaScript, no inline styles)."""

from __future__ import annotations

import math
from typing import Any

from core.instrument import Instrument

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40


def y_range(values: list[float]) -> tuple[float, float]:
    """A readable vertical range in percent, from a multiple of 5 below the data to 100."""
    if not values:
        return 50.0, 100.0
    lo = max(0.0, math.floor((min(values) - 2) / 5) * 5)
    return min(lo, 90.0), 100.0


def comparable(month: dict[str, Any]) -> bool:
    """A trend month whose figures can be compared: complete, and with at least the minimum
    sample (months without the keys, as in older data, count as comparable)."""
    return month.get("complete", True) and not month.get("low_sample", False)


def trend_chart(series: list[dict[str, Any]], instrument: Instrument) -> dict[str, Any]:
    """Points of the overall line and of each dimension, the overall index's 95 % interval
    as a band, axes and labels, for the template. Months that are not comparable (too few
    responses, or incomplete) break the lines and are drawn as hollow points."""
    values = [s["overall"] for s in series if s["overall"] is not None]
    for s in series:
        values += [v for v in s["dimensions"].values() if v is not None]
        if s.get("ci95") and comparable(s):
            values.append(s["ci95"][0])
    lo, hi = y_range(values)
    n = len(series)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return round(LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2), 1)

    def y(v: float) -> float:
        return round(TOP + plot_h * (hi - v) / (hi - lo), 1)

    def line(key: str | None) -> list[list[tuple[float, float]]]:
        """Segments of consecutive months with a value (a gap breaks the line)."""
        segments: list[list[tuple[float, float]]] = [[]]
        for i, s in enumerate(series):
            v = s["overall"] if key is None else s["dimensions"].get(key)
            ok = (comparable(s) if key is None
                  else s.get("dimensions_comparable", {}).get(key, True))
            if v is None or not ok:
                if segments[-1]:
                    segments.append([])
                continue
            segments[-1].append((x(i), y(v)))
        return [seg for seg in segments if seg]

    def pts(seg: list[tuple[float, float]]) -> str:
        return " ".join(f"{a},{b}" for a, b in seg)

    lines = [{"key": "overall", "class": "trend-overall", "segments": [pts(s) for s in line(None)],
              "dots": line(None)}]
    hollow = [{"x": x(i), "y": y(s["overall"]), "month": s["month"]}
              for i, s in enumerate(series) if s["overall"] is not None and not comparable(s)]
    bands = []
    run: list[tuple[float, float, float]] = []
    for i, s in enumerate(series):
        if s.get("ci95") and comparable(s):
            run.append((x(i), y(max(lo, s["ci95"][0])), y(min(hi, s["ci95"][1]))))
            continue
        if run:
            bands.append(run)
        run = []
    if run:
        bands.append(run)
    band_polygons = [" ".join([f"{a},{top}" for a, _b, top in run]
                              + [f"{a},{b}" for a, b, _t in reversed(run)]) for run in bands]
    for i, d in enumerate(instrument.dimensions):
        segs = line(d.code)
        lines.append({"key": d.code, "class": f"trend-dim trend-dim-{i + 1}",
                      "segments": [pts(s) for s in segs], "dots": []})
    step = 5 if hi - lo <= 30 else 10
    ticks = [{"value": v, "y": y(v)} for v in range(int(lo), int(hi) + 1, step)]
    months = [{"month": s["month"], "x": x(i)} for i, s in enumerate(series)]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT,
            "top": TOP, "bottom": HEIGHT - BOTTOM, "ticks": ticks, "months": months,
            "lines": lines, "bands": band_polygons, "hollow": hollow,
            "whiskers": [{"x": a, "low": b, "high": top} for run in bands for a, b, top in run]}
