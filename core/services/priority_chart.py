"""The priority chart: each criterion placed by importance (x, Spearman's rho) and
performance (y, its index), the medians as quadrant lines, the three to improve first
marked. One geometry for the dashboard's SVG and the PDF's vector drawing."""

from __future__ import annotations

import math
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable


def geometry(pri: dict[str, Any], width: float, height: float, *, left: float = 44,
             right: float = 12, top: float = 12, bottom: float = 34,
             y_down: bool = True) -> dict[str, Any]:
    """Points and axes in a ``width`` x ``height`` box. ``y_down``: SVG coordinates (y grows
    downwards); else PDF coordinates."""
    crit = pri["criteria"]
    xs = [c["importance"] for c in crit]
    ys = [c["index"] for c in crit]
    x_lo = min(0.0, math.floor(min(xs) * 10) / 10)
    x_hi = max(0.1, math.ceil(max(xs) * 10) / 10)
    y_lo = max(0.0, math.floor((min(ys) - 2) / 5) * 5)
    y_hi = min(100.0, math.ceil((max(ys) + 1) / 5) * 5)
    if y_hi - y_lo < 10:
        y_lo = max(0.0, y_hi - 10)
    pw, ph = width - left - right, height - top - bottom

    def px(v: float) -> float:
        return round(left + pw * (v - x_lo) / (x_hi - x_lo), 1)

    def py(v: float) -> float:
        frac = (v - y_lo) / (y_hi - y_lo)
        return round(top + ph * (1 - frac), 1) if y_down else round(bottom + ph * frac, 1)

    top_codes = {c["code"] for c in pri["top"]}
    mid_x = sorted(xs)[len(xs) // 2]
    mid_y = sorted(ys)[len(ys) // 2]
    x_ticks = []
    t = x_lo
    while t <= x_hi + 1e-9:
        x_ticks.append({"x": px(t), "label": f"{t:.1f}".replace(".", ",")})
        t = round(t + (0.1 if x_hi - x_lo <= 0.6 else 0.2), 10)
    y_ticks = []
    v = y_lo
    step = 5 if y_hi - y_lo <= 30 else 10
    while v <= y_hi + 1e-9:
        y_ticks.append({"y": py(v), "label": str(int(v))})
        v += step
    return {
        "width": width, "height": height, "left": left, "right": width - right,
        "top": top if y_down else height - top, "bottom": height - bottom if y_down else bottom,
        "points": [{"code": c["code"], "x": px(c["importance"]), "y": py(c["index"]),
                    "top": c["code"] in top_codes, "importance": c["importance"],
                    "index": c["index"]} for c in crit],
        "mid_x": px(mid_x), "mid_y": py(mid_y), "x_ticks": x_ticks, "y_ticks": y_ticks,
    }


class PriorityChart(Flowable):
    """The chart drawn on the PDF's canvas (vector), with the embedded fonts."""

    def __init__(self, pri: dict[str, Any], font: str, bold: str, x_label: str,
                 y_label: str) -> None:
        super().__init__()
        self.pri, self.font, self.bold = pri, font, bold
        self.x_label, self.y_label = x_label, y_label
        self.width, self.height = 150 * mm, 85 * mm

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        g = geometry(self.pri, self.width, self.height, y_down=False)
        c = self.canv
        c.setLineWidth(0.4)
        c.setStrokeColor(colors.HexColor("#dddddd"))
        c.setFont(self.font, 7.5)
        for t in g["y_ticks"]:
            c.line(g["left"], t["y"], g["right"], t["y"])
            c.drawRightString(g["left"] - 4, t["y"] - 2.5, t["label"])
        for t in g["x_ticks"]:
            c.drawCentredString(t["x"], g["bottom"] - 11, t["label"])
        c.setStrokeColor(colors.HexColor("#888888"))
        c.setDash(3, 2)
        c.line(g["mid_x"], g["bottom"], g["mid_x"], g["top"])
        c.line(g["left"], g["mid_y"], g["right"], g["mid_y"])
        c.setDash()
        c.setFont(self.font, 8)
        c.drawCentredString((g["left"] + g["right"]) / 2, 4, self.x_label)
        c.saveState()
        c.translate(9, (g["bottom"] + g["top"]) / 2)
        c.rotate(90)
        c.drawCentredString(0, 0, self.y_label)
        c.restoreState()
        for p in g["points"]:
            colour = colors.HexColor("#a30000" if p["top"] else "#0b5394")
            c.setFillColor(colour)
            c.setStrokeColor(colour)
            c.circle(p["x"], p["y"], 2.6 if p["top"] else 1.8, stroke=0, fill=1)
            c.setFont(self.bold if p["top"] else self.font, 6.5)
            c.drawString(p["x"] + 3, p["y"] + 2, p["code"])
        c.setFillColor(colors.black)
