"""Issue 20, "close to the stack's limits": each path of the app next to its baseline (the
library it stands on doing the same work), interleaved in one run, medians, ratio printed.

    .venv/bin/python bench/limits_bench.py qr           # QR PNG vs raw qrcode, fixed mask
    .venv/bin/python bench/limits_bench.py slips        # 100 slips vs matrices precomputed
    .venv/bin/python bench/limits_bench.py pdf          # city report PDF vs minimal reportlab
    .venv/bin/python bench/limits_bench.py cli          # flask report --format pdf vs script
    .venv/bin/python bench/limits_bench.py office       # office-month report vs one SQL
    .venv/bin/python bench/limits_bench.py dashboard    # city vs district dashboard page
    .venv/bin/python bench/limits_bench.py import       # flask responses import vs executemany
    .venv/bin/python bench/limits_bench.py all          # everything above
    options: --responses 1000000 (report database), --rows 300000 (import), --rounds N,
             --reuse (keep /tmp/sipas-limits-bench/ between runs)

The kiosk write path is bench/kiosk_throughput.py (real gunicorn processes).
Report paths are checked against a recomputation from the raw rows and the import against
the rows of its file; a mismatch stops the benchmark. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

WORK = Path(os.environ.get("BENCH_WORKDIR", "/tmp/sipas-limits-bench"))  # noqa: S108
MONTH = "2025-06"
#: what `make bytecode` compiles
APP_PACKAGES = ("core", "admin", "kiosk", "survey", "public_site", "wsgi.py")
CAPTION = "Quét mã để đánh giá · sipas.hanoi.gov.vn"


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + \
        f" on {os.cpu_count()} cores"


def interleave(sides: dict[str, Callable[[], object]], rounds: int, warm: int = 1
               ) -> dict[str, float]:
    """Median CPU milliseconds (this process and its children: insensitive to other load
    on the machine) of each side, the sides alternating call by call; the median wall
    times are under "<side> wall"."""
    for fn in sides.values():
        for _ in range(warm):
            fn()
    samples: dict[str, list[float]] = {k: [] for k in sides}
    walls: dict[str, list[float]] = {k: [] for k in sides}
    for _ in range(rounds):
        for name, fn in sides.items():
            c0, w0 = cpu_seconds(), time.perf_counter()
            fn()
            samples[name].append((cpu_seconds() - c0) * 1000)
            walls[name].append((time.perf_counter() - w0) * 1000)
    out = {k: statistics.median(v) for k, v in samples.items()}
    out.update({f"{k} wall": statistics.median(v) for k, v in walls.items()})
    return out


def cpu_seconds() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # updated when a child is reaped
    return time.process_time() + kids.ru_utime + kids.ru_stime


def show(title: str, med: dict[str, float], app: str, base: str, rounds: int) -> None:
    ratio = med[app] / med[base]
    wall = med[f"{app} wall"] / med[f"{base} wall"]
    print(f"{title}: CPU {app} {med[app]:.3f} ms, {base} {med[base]:.3f} ms, ratio "
          f"{ratio:.2f} (wall {med[f'{app} wall']:.3f} / {med[f'{base} wall']:.3f} ms = "
          f"{wall:.2f}); medians of {rounds}; {load()}", flush=True)


# --- QR -------------------------------------------------------------------------------------

def bench_qr(args) -> None:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_Q

    from core.services.qrcodes import qr_matrix, qr_png

    rng = random.Random(1)
    urls = ["https://sipas.hanoi.gov.vn/s/" + "".join(rng.choice("ABCDEFGHJKMNPQRSTVWXYZ23456789")
                                                      for _ in range(22))
            for _ in range(args.rounds)]
    it_app, it_base = iter(urls * 2), iter(urls * 2)
    version = qrcode.QRCode(error_correction=ERROR_CORRECT_Q)
    version.add_data(urls[0])
    version.make(fit=True)
    v = version.version

    def app() -> bytes:
        qr_matrix.cache_clear()  # a new token each time: the whole generation
        return qr_png(next(it_app), CAPTION, "Q")

    def base() -> bytes:
        qr = qrcode.QRCode(version=v, error_correction=ERROR_CORRECT_Q, box_size=6, border=4,
                           mask_pattern=0)
        qr.add_data(next(it_base))
        qr.make(fit=False)
        out = io.BytesIO()
        qr.make_image().save(out)
        return out.getvalue()

    med = interleave({"qr_png": app, "raw qrcode": base}, args.rounds)
    show("QR PNG (level Q, 6 px/module, caption)", med, "qr_png", "raw qrcode", args.rounds)
    print(f"  sizes: app {len(qr_png(urls[0], CAPTION, 'Q')):,} bytes, raw qrcode "
          f"{len(base()):,} bytes (version {v})")


# --- 100 slips ------------------------------------------------------------------------------

def bench_slips(args) -> None:
    from flask import Flask
    from flask_babel import Babel

    from core.services.qrcodes import qr_matrix
    from core.services.receipt_pdf import Slip, slips_pdf

    app = Flask(__name__)
    Babel(app)
    rng = random.Random(2)
    rounds = max(3, args.rounds // 20)
    batches = [[Slip("https://sipas.hanoi.gov.vn/s/" + "".join(rng.choice("ABCDEFGHJKMN2345")
                                                               for _ in range(22)),
                     f"000.00.20.H26-221128-{i:05d}") for i in range(100)]
               for _ in range(rounds + 2)]
    fresh = iter(batches)

    def cold() -> bytes:  # new tokens: every QR computed
        return slips_pdf(next(fresh), "UBND phường Kim Mã")

    def warm() -> bytes:  # the same page, its matrices already in the cache
        return slips_pdf(batches[0], "UBND phường Kim Mã")

    with app.test_request_context("/"):
        qr_matrix.cache_clear()
        for s in batches[0]:
            qr_matrix(s.url, "Q")
        med = interleave({"100 slips": cold, "precomputed QR": warm}, rounds)
    show("PDF sheet of 100 receipt slips, in-process", med, "100 slips", "precomputed QR",
         rounds)


# --- the report database --------------------------------------------------------------------

def report_db(args) -> str:
    """A SQLite database of 300 offices and ``--responses`` responses over 24 months, half of
    them with expectations and one in ten with a comment, tallies rebuilt; an admin user."""
    import sqlite3

    import sqlalchemy as sa

    from core import create_app
    from core.extensions import db
    from core.models.figures import trigger_ddl

    WORK.mkdir(exist_ok=True)
    path = WORK / f"reports-{args.responses}.sqlite3"
    uri = f"sqlite:///{path}"
    if path.exists() and args.reuse:
        with sqlite3.connect(path) as conn:  # a database built before the figures token
            conn.execute("CREATE TABLE IF NOT EXISTS figures_version (id INTEGER NOT NULL "
                         "PRIMARY KEY CHECK (id = 1), token BIGINT NOT NULL)")
            for statement in trigger_ddl("sqlite"):
                conn.execute(statement)
        return uri
    path.unlink(missing_ok=True)
    import foundation_bench as fb

    from core.services.accounts import create_user
    from core.services.common import registry
    from core.services.tallies import rebuild_tallies

    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        fb.build_offices()
        fb.fill_responses(args.responses)
        inst = registry().get("hanoi-2022")
        areas = inst.expectation_area_codes()
        rng = random.Random(5)
        pool = [json.dumps({a: rng.choice([1, 2, 3, 3]) for a in areas}) for _ in range(50)]
        with db.engine.begin() as conn:
            for i, e in enumerate(pool):
                conn.execute(sa.text("UPDATE response SET expectations = :e "
                                     "WHERE id % 100 = :i OR id % 100 = :j"),
                             {"e": e, "i": i, "j": i + 50})
            conn.execute(sa.text("UPDATE response SET expectations = NULL WHERE id % 2 = 1"))
            conn.execute(sa.text("UPDATE response SET comment = 'Cán bộ nhiệt tình, "
                                 "hướng dẫn rõ ràng.' || id WHERE id % 10 = 3"))
        rebuild_tallies(db.session)
        db.session.commit()
        create_user("bench", "admin", None, "Xq7-vanilla-Tolkien-92", actor="bench",
                    must_change=False)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        db.engine.dispose()
    return uri


def report_app(uri: str):
    from core import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench",
                       "WTF_CSRF_ENABLED": False})


def raw_counts(office_id: int, month: str) -> dict[str, list[int]]:
    """criterion -> [n1..n5, n_none] recounted from the raw rows of the office's subtree."""
    import sqlalchemy as sa

    from core.extensions import db
    from core.services.common import registry

    codes = registry().get("hanoi-2022").criterion_codes
    out = {c: [0] * 6 for c in codes}
    rows = db.session.execute(sa.text(
        "SELECT answers FROM response r JOIN office_closure c ON c.descendant_id = r.office_id"
        " WHERE c.ancestor_id = :o AND r.month = :m AND r.counted AND "
        "r.instrument_id = 'hanoi-2022'"), {"o": office_id, "m": month})
    for (answers,) in rows:
        for code, ch in zip(codes, answers, strict=True):
            out[code][int(ch) - 1 if ch != "0" else 5] += 1
    return out


def check_report(report: dict, office_id: int, month: str) -> None:
    raw = raw_counts(office_id, month)
    for c in report["criteria"]:
        got = [c["counts"][k] for k in "12345"] + [c["no_answer"]]
        if got != raw[c["code"]]:
            raise SystemExit(f"report differs from the raw rows at {c['code']}: "
                             f"{got} != {raw[c['code']]}")


def raw_expectations(office_id: int, month: str) -> dict[str, dict[str, int]]:
    import sqlalchemy as sa

    from core.extensions import db

    out: dict[str, dict[str, int]] = {}
    for (e,) in db.session.execute(sa.text(
            "SELECT expectations FROM response r JOIN office_closure c ON "
            "c.descendant_id = r.office_id WHERE c.ancestor_id = :o AND r.month = :m AND "
            "r.counted AND r.expectations IS NOT NULL AND r.expectations != 'null'"),
            {"o": office_id, "m": month}):
        for area, level in json.loads(e).items():
            d = out.setdefault(area, {"1": 0, "2": 0, "3": 0})
            d[str(level)] += 1
    return out


# --- office-month report --------------------------------------------------------------------

def bench_office(args) -> None:
    """Three sides: the report as served (kept in the report cache until the figures change:
    core/services/report_cache.py), the report made afresh (cache emptied before each call)
    and the baseline, one SQL sum over the tallies."""
    import sqlalchemy as sa
    from flask import current_app

    from core.extensions import db
    from core.services.offices import get_office
    from core.services.report_cache import cache_for
    from core.services.reports import monthly_report

    app = report_app(report_db(args))
    sql = sa.text(
        "SELECT t.criterion, sum(t.n1), sum(t.n2), sum(t.n3), sum(t.n4), sum(t.n5), "
        "sum(t.n_none) FROM monthly_tally t JOIN office_closure c ON c.descendant_id = "
        "t.office_id WHERE c.ancestor_id = :o AND t.month = :m AND t.instrument_id = "
        "'hanoi-2022' GROUP BY t.criterion")
    with app.app_context():
        office = get_office("C123")
        oid = office.id
        cache = cache_for(current_app)
        fresh = monthly_report(office, MONTH)
        kept = monthly_report(office, MONTH)
        if cache is None or cache.hits != 1 or kept != fresh:
            raise SystemExit("the second report was not the first one kept in the cache")
        check_report(kept, oid, MONTH)

        def base() -> list:
            return db.session.execute(sql, {"o": oid, "m": MONTH}).all()

        def afresh() -> dict:
            cache.clear()
            return monthly_report(office, MONTH)

        med = interleave({"monthly_report": lambda: monthly_report(office, MONTH),
                          "made afresh": afresh, "one SQL": base}, args.rounds * 5)
        db.engine.dispose()
    show("office-month report (commune), in-process, as served", med, "monthly_report",
         "one SQL", args.rounds * 5)
    show("office-month report (commune), in-process, made afresh", med, "made afresh",
         "one SQL", args.rounds * 5)
    print("  report criteria counts = recount from the raw rows: yes; kept report = fresh: yes")


# --- dashboard ------------------------------------------------------------------------------

def bench_dashboard(args) -> None:
    from core.extensions import db
    from core.services.dashboard import build_dashboard
    from core.services.offices import get_office

    app = report_app(report_db(args))
    with app.app_context():
        city, district = get_office("HN"), get_office("D07")
        for office in (city, district):
            data = build_dashboard(office, MONTH)
            check_report(data["report"], office.id, MONTH)
            raw = raw_expectations(office.id, MONTH)
            for area in data["expectations"]["areas"]:
                if area["levels"] != raw.get(area["code"], {"1": 0, "2": 0, "3": 0}):
                    raise SystemExit(f"expectations differ from the raw rows: {area}")
        db.session.remove()
    client = app.test_client()
    r = client.post("/admin/login", data={"username": "bench",
                                          "password": "Xq7-vanilla-Tolkien-92"})
    assert r.status_code in (302, 303), r.status_code

    def page(code: str) -> Callable[[], object]:
        def get() -> None:
            resp = client.get(f"/admin/?office={code}&month={MONTH}")
            assert resp.status_code == 200, resp.status_code
        return get

    rounds = max(5, args.rounds // 4)
    med = interleave({"city": page("HN"), "district": page("D07")}, rounds)
    show(f"dashboard page at {args.responses:,} responses", med, "city", "district", rounds)
    print("  dashboard figures and expectations = recount from the raw rows: yes")
    with app.app_context():
        db.engine.dispose()


# --- PDF --------------------------------------------------------------------------------------

MINIMAL_PDF = textwrap.dedent("""
    import io, sys
    sys.path.insert(0, {root!r})
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table
    from core.pdf_fonts import register_fonts

    def minimal_pdf():
        regular, bold = register_fonts()
        buf = io.BytesIO()
        doc = SimpleDocTemplate(buf, pagesize=A4)
        st = ParagraphStyle("b", fontName=regular, fontSize=9)
        rows = [["Tiêu chí " + str(i), "83,5 %", "±2,1", "+1,2 điểm"] for i in range(35)]
        doc.build([Paragraph("Báo cáo chỉ số hài lòng tháng 6/2025", st),
                   Table(rows, style=[("FONT", (0, 0), (-1, -1), regular, 8)])])
        return buf.getvalue()
    """)


def bench_pdf(args) -> None:
    """The city's report PDF as served (the report and the PDF kept until the figures change:
    core/services/report_cache.py) and made afresh (both caches emptied before each call),
    next to a minimal reportlab document with the same fonts."""
    from flask import current_app

    from core.extensions import db
    from core.services.offices import get_office
    from core.services.pdf_report import monthly_report_pdf
    from core.services.report_cache import cache_for
    from core.services.reports import monthly_report

    app = report_app(report_db(args))
    scope: dict = {}
    exec(MINIMAL_PDF.format(root=str(ROOT)), scope)  # noqa: S102 - our own text
    rounds = max(5, args.rounds // 4)
    with app.test_request_context("/"):
        city = get_office("HN")
        report = monthly_report(city, MONTH)
        check_report(report, city.id, MONTH)

        def served() -> bytes:
            return monthly_report_pdf(city, monthly_report(city, MONTH), "vi")

        def afresh() -> bytes:
            cache_for(current_app).clear()
            cache_for(current_app, "pdf").clear()
            return served()

        if served() != served():
            raise SystemExit("the PDF asked twice was not the kept one")
        med = interleave({"report PDF": served, "made afresh": afresh,
                          "minimal reportlab": scope["minimal_pdf"]}, rounds)
        db.engine.dispose()
    show("monthly report PDF, city, in-process (report + PDF), as served", med, "report PDF",
         "minimal reportlab", rounds)
    show("monthly report PDF, city, in-process (report + PDF), made afresh", med,
         "made afresh", "minimal reportlab", rounds)


def bench_cli(args) -> None:
    uri = report_db(args)
    out = WORK / "report.pdf"
    env = {**os.environ, "DATABASE_URL": uri, "SIPAS_ENV": "development",
           "FLASK_APP": "wsgi:app", "SECRET_KEY": "bench"}
    flask = str(Path(sys.executable).parent / "flask")
    script = MINIMAL_PDF.format(root=str(ROOT)) + \
        f"\nopen({str(WORK / 'minimal.pdf')!r}, 'wb').write(minimal_pdf())\n"

    def app() -> None:
        subprocess.run([flask, "report", "HN", MONTH, "--format", "pdf", "-o", str(out)],
                       cwd=ROOT, env=env, check=True, capture_output=True)

    def base() -> None:
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                       capture_output=True)

    def help_() -> None:
        subprocess.run([flask, "--help"], cwd=ROOT, env=env, check=True, capture_output=True)

    rounds = max(5, args.rounds // 10)
    med = interleave({"flask report --format pdf": app, "minimal reportlab script": base,
                      "flask --help": help_}, rounds)
    show("whole command, report PDF of the city", med, "flask report --format pdf",
         "minimal reportlab script", rounds)
    print(f"  flask --help: {med['flask --help']:.0f} ms CPU, "
          f"{med['flask --help wall']:.0f} ms wall")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    print(f"  the PDF has {len(text):,} characters of text (pdftotext)")


# --- import -----------------------------------------------------------------------------------

def bench_import(args) -> None:
    import sqlite3

    import foundation_bench as fb

    from core import create_app
    from core.extensions import db

    WORK.mkdir(exist_ok=True)
    csv_path = WORK / f"paper-{args.rows}.csv"
    if not (csv_path.exists() and args.reuse):
        fb.write_paper_csv(csv_path, args.rows)
    template = WORK / "import-template.sqlite3"
    template.unlink(missing_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{template}", "SECRET_KEY": "b"})
    with app.app_context():
        db.create_all()
        fb.build_offices()
        db.engine.dispose()
    flask = str(Path(sys.executable).parent / "flask")
    baseline = textwrap.dedent(f"""
        import csv, sqlite3, sys
        conn = sqlite3.connect(sys.argv[1])
        conn.execute("PRAGMA journal_mode=WAL"); conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS response_copy (id INTEGER PRIMARY KEY, "
                     "uuid VARCHAR(36) UNIQUE, office_id INTEGER, instrument_id VARCHAR(40), "
                     "channel VARCHAR(16), answers VARCHAR(64), month VARCHAR(7), "
                     "submitted_at DATETIME, received_at DATETIME, counted BOOLEAN)")
        offices = dict(conn.execute("SELECT code, id FROM office"))
        with open({str(csv_path)!r}, newline="", encoding="utf-8") as f:
            r = csv.reader(f); next(r)
            rows = ((str(k), offices[row[0]], "hanoi-2022", "paper",
                     "".join(x or "0" for x in row[2:]), row[1][:7], row[1], row[1], 1)
                    for k, row in enumerate(r))
            conn.executemany("INSERT INTO response_copy (uuid, office_id, instrument_id, "
                             "channel, answers, month, submitted_at, received_at, counted) "
                             "VALUES (?,?,?,?,?,?,?,?,?)", rows)
        conn.commit()
        """)
    rows_per_s: dict[str, list[float]] = {"flask responses import": [], "csv executemany": []}
    rows_per_cpu_s: dict[str, list[float]] = {k: [] for k in rows_per_s}
    counter = iter(range(1000))
    for _ in range(max(2, args.rounds // 40)):
        for name in rows_per_s:
            target = WORK / f"import-{next(counter)}.sqlite3"
            target.write_bytes(template.read_bytes())
            env = {**os.environ, "DATABASE_URL": f"sqlite:///{target}", "FLASK_APP": "wsgi:app",
                   "SIPAS_ENV": "development", "SECRET_KEY": "bench"}
            cmd = ([flask, "responses", "import", str(csv_path)] if name.startswith("flask")
                   else [sys.executable, "-c", baseline, str(target)])
            t0, c0 = time.perf_counter(), cpu_seconds()
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - c0
            if proc.returncode:
                raise SystemExit(f"{name} failed: {proc.stderr[-2000:]}")
            with sqlite3.connect(target) as conn:
                table = "response" if name.startswith("flask") else "response_copy"
                stored = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            if stored != args.rows:
                raise SystemExit(f"{name}: {stored} rows stored for {args.rows} in the file")
            rows_per_s[name].append(args.rows / elapsed)
            rows_per_cpu_s[name].append(args.rows / cpu)
            target.unlink()
            for extra in ("-wal", "-shm"):
                Path(str(target) + extra).unlink(missing_ok=True)
    med = {k: statistics.median(v) for k, v in rows_per_s.items()}
    cpu = {k: statistics.median(v) for k, v in rows_per_cpu_s.items()}
    app, base = "flask responses import", "csv executemany"
    print(f"import of {args.rows:,} rows, whole command: {app} {cpu[app]:,.0f} rows per "
          f"CPU-second, csv -> executemany {cpu[base]:,.0f}, ratio {cpu[app] / cpu[base]:.2f} "
          f"(wall: {med[app]:,.0f} vs {med[base]:,.0f} rows/s = {med[app] / med[base]:.2f}); "
          f"medians of {len(rows_per_s[base])}; stored rows = rows in the file: yes; {load()}",
          flush=True)


BENCHES = {"qr": bench_qr, "slips": bench_slips, "office": bench_office,
           "dashboard": bench_dashboard, "pdf": bench_pdf, "cli": bench_cli,
           "import": bench_import}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", nargs="+", choices=[*BENCHES, "all"])
    ap.add_argument("--responses", type=int, default=1_000_000)
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--reuse", action="store_true")
    args = ap.parse_args()
    # the app as installed: its bytecode compiled (make install/run/test, docs/deploy.md)
    subprocess.run([sys.executable, "-m", "compileall", "-q", *APP_PACKAGES], cwd=ROOT,
                   check=True)
    names = list(BENCHES) if "all" in args.what else args.what
    for name in names:
        BENCHES[name](args)


if __name__ == "__main__":
    main()
