"""The production app plus two probe routes, for multi-server tests and benchmarks that need
something the areas do not serve yet: ``gunicorn -c gunicorn.conf.py tools.probe_app:app``.

- ``POST /_probe/hit/<key>``: one hit on the shared rate limiter (3 per minute per key):
  200 ``{"allowed": true}`` or 429;
- ``GET /_probe/report/<office>/<month>``: the monthly report as JSON (what an office
  head's page computes).
"""

from __future__ import annotations

from flask import jsonify

from core import create_app
from core.extensions import csrf
from core.http_errors import error_response
from core.ratelimit import limiter
from core.services.offices import get_office
from core.services.reports import monthly_report

app = create_app()


@app.post("/_probe/hit/<key>")
@csrf.exempt
def probe_hit(key: str):
    if limiter().hit("probe", key, "3/minute"):
        return jsonify(allowed=True)
    return error_response(429)


@app.get("/_probe/report/<code>/<month>")
def probe_report(code: str, month: str):
    return jsonify(monthly_report(get_office(code), month))
