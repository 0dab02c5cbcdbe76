"""The dashboard's server-drawn trend chart (admin/charts.py)."""

from __future__ import annotations


def test_trend_chart_geometry(app, instrument):
    from admin.charts import trend_chart, y_range

    assert y_range([]) == (50.0, 100.0)
    assert y_range([87.2, 91.0]) == (85.0, 100.0)
    series = [{"month": f"2022-{k:02d}", "responses": 5, "overall": None if k == 3 else 80.0 + k,
               "dimensions": {d.code: 85.0 for d in instrument.dimensions}}
              for k in range(1, 13)]
    chart = trend_chart(series, instrument)
    overall = chart["lines"][0]
    assert len(overall["segments"]) == 2  # the month without data breaks the line
    assert len(chart["months"]) == 12 and chart["ticks"][-1]["value"] == 100
