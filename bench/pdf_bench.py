"""Render time of the official report PDF, warm and in-process, next to a minimal
reportlab document with the same fonts (Liberation Serif, embedded).

Loads the demo data (``load_demo``: the demo offices, 12 months) into a fresh SQLite file,
then renders the PDF of the city and of one ward for the last complete month (the figures
computed once, outside the timing: only :func:`core.services.pdf_report.render_pdf` is
timed), and a one-page reportlab document (a title, a paragraph, a 10-row table) with the
same registered fonts. Prints the medians and the ratio.

    .venv/bin/python bench/pdf_bench.py
    BENCH_REPEAT=20 .venv/bin/python bench/pdf_bench.py
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import create_app  # noqa: E402
from core.extensions import db  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "10"))
URL = os.environ.get("BENCH_DATABASE_URL", "sqlite:////tmp/sipas-pdf-bench.sqlite3")


def timed(fn, repeat: int = REPEAT) -> tuple[float, int]:
    fn()  # warm: fonts registered, templates and layouts cached
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        size = len(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


def minimal_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table

    from core.pdf_fonts import register_serif

    regular, bold, _italic = register_serif()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4)
    style = ParagraphStyle("p", fontName=regular, fontSize=13, leading=17)
    title = ParagraphStyle("t", fontName=bold, fontSize=14, leading=18)
    rows = [[f"I.{i}", "Trụ sở cơ quan gọn gàng, sạch sẽ", "87,50 %"] for i in range(10)]
    table = Table(rows)
    table.setStyle([("FONTNAME", (0, 0), (-1, -1), regular)])
    doc.build([Paragraph("BÁO CÁO", title),
               Paragraph("Kết quả khảo sát sự hài lòng của người dân, tổ chức.", style),
               table])
    return buf.getvalue()


def main() -> None:
    if URL.startswith("sqlite:////"):
        Path(URL[len("sqlite:///"):]).unlink(missing_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": URL, "SECRET_KEY": "bench"})
    with app.app_context(), app.test_request_context():
        from flask_babel import force_locale

        from core.services.common import get_instrument
        from core.services.dashboard import build_dashboard
        from core.services.demo import load_demo
        from core.services.offices import get_office
        from core.services.pdf_report import render_pdf
        from core.timeutil import last_complete_month

        db.create_all()
        n = load_demo(get_instrument(app.config["DEFAULT_INSTRUMENT"]), 12, 2022)
        month = last_complete_month()
        print(f"demo data: {n} responses; month {month}; {REPEAT} renders each (median)")
        with force_locale("vi"):
            results = {}
            for code in ("HN", app.config.get("BENCH_WARD", None) or _a_ward()):
                data = build_dashboard(get_office(code), month, locale="vi")
                results[code] = timed(lambda data=data: render_pdf(data, "vi"))
            base, base_size = timed(minimal_pdf)
        print(f"minimal reportlab document (same fonts): {base * 1000:.1f} ms, "
              f"{base_size} bytes")
        for code, (t, size) in results.items():
            print(f"official report {code}: {t * 1000:.1f} ms, {size} bytes, "
                  f"ratio {t / base:.1f}x the minimal document")


def _a_ward() -> str:
    import sqlalchemy as sa

    from core.models import Office

    return db.session.scalar(sa.select(Office.code).where(Office.level == "commune")
                             .order_by(Office.code).limit(1))


if __name__ == "__main__":
    main()
