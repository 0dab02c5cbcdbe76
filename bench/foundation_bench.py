"""Foundation benchmark: report latency as history grows, and paper-import throughput.

    .venv/bin/python bench/foundation_bench.py                  # 100k, 1M, 10M responses
    .venv/bin/python bench/foundation_bench.py --scales 100000,1000000 --import-rows 200000
    .venv/bin/python bench/foundation_bench.py --database-url postgresql://postgres@127.0.0.1/sipas_bench

For each scale it builds a database of 300 offices (city > 30 districts/departments > 269
communes) with N responses spread over 24 months (generated straight into the database in
SQL, tallies rebuilt from the raw rows with `rebuild_tallies`), then times the monthly report
of one commune and of the whole city (median of 25 runs, warm). Then it writes a CSV of
paper responses and imports it with `flask responses import` in a child process, printing
rows/s and the child's peak memory (for a small and a large file: flat memory = streaming).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from core import create_app  # noqa: E402
from core.extensions import db  # noqa: E402
from core.models import Office  # noqa: E402
from core.services.offices import rebuild_closure  # noqa: E402
from core.services.reports import monthly_report  # noqa: E402
from core.services.tallies import rebuild_tallies  # noqa: E402
from core.timeutil import shift_month  # noqa: E402

MONTHS = [shift_month("2024-01", k) for k in range(24)]
CODES = ["I.1", "I.2", "I.3", "I.4", "II.1", "II.2", "II.3", "II.4", "II.5", "III.1", "III.2",
         "III.3", "III.4", "III.5", "III.6", "III.7", "IV.1", "IV.2", "IV.3", "IV.4", "V.1",
         "V.2", "V.3", "V.4"]


def build_offices() -> None:
    rows = [Office(code="HN", name="Thành phố Hà Nội", level="city")]
    db.session.add(rows[0])
    db.session.flush()
    parents = []
    for i in range(30):
        o = Office(code=f"D{i:02d}", name=f"Đơn vị {i}", level="district", parent_id=rows[0].id)
        db.session.add(o)
        parents.append(o)
    db.session.flush()
    for i in range(269):
        db.session.add(Office(code=f"C{i:03d}", name=f"Xã {i}", level="commune",
                              parent_id=parents[i % 30].id))
    db.session.flush()
    rebuild_closure()
    db.session.commit()


def fill_responses(n: int) -> None:
    """N responses straight into the database: a pool of 2 000 answer patterns, offices and
    months spread uniformly, generated in SQL in chunks."""
    rng = random.Random(7)
    pool = ["".join(rng.choice("5544443210") for _ in CODES) for _ in range(2000)]
    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TEMPORARY TABLE pool (i INTEGER PRIMARY KEY, answers TEXT)")
        conn.execute(sa.text("INSERT INTO pool (i, answers) VALUES (:i, :a)"),
                     [{"i": i, "a": a} for i, a in enumerate(pool)])
        conn.exec_driver_sql("CREATE TEMPORARY TABLE months (i INTEGER PRIMARY KEY, m TEXT)")
        conn.execute(sa.text("INSERT INTO months (i, m) VALUES (:i, :m)"),
                     [{"i": i, "m": m} for i, m in enumerate(MONTHS)])
        office_ids = [r[0] for r in conn.execute(sa.select(Office.id).order_by(Office.id))]
        lo, hi = office_ids[0], office_ids[-1]
        chunk = 1_000_000
        for start in range(0, n, chunk):
            size = min(chunk, n - start)
            if dialect == "sqlite":
                conn.exec_driver_sql(f"""
                    WITH RECURSIVE seq(k) AS (SELECT {start} UNION ALL SELECT k + 1 FROM seq
                                              WHERE k < {start + size - 1})
                    INSERT INTO response (uuid, office_id, instrument_id, channel, answers,
                                          month, submitted_at, received_at, counted)
                    SELECT printf('00000000-0000-4000-8000-%012d', k),
                           {lo} + (k * 7919) % ({hi - lo + 1}), 'hanoi-2022', 'kiosk',
                           (SELECT answers FROM pool WHERE i = (k * 31) % 2000),
                           (SELECT m FROM months WHERE i = (k / 7) % 24),
                           '2024-01-15 03:00:00', '2024-01-15 03:00:00', 1
                    FROM seq""")
            else:
                conn.exec_driver_sql(f"""
                    INSERT INTO response (uuid, office_id, instrument_id, channel, answers,
                                          month, submitted_at, received_at, counted)
                    SELECT '00000000-0000-4000-8000-' || lpad(k::text, 12, '0'),
                           {lo} + mod(k * 7919, {hi - lo + 1}), 'hanoi-2022', 'kiosk',
                           p.answers, mo.m, '2024-01-15 03:00:00+00', '2024-01-15 03:00:00+00',
                           true
                    FROM generate_series({start}::bigint, {start + size - 1}) AS k
                    JOIN pool p ON p.i = mod(k * 31, 2000)
                    JOIN months mo ON mo.i = mod(k / 7, 24)""")
            print(f"    ... {start + size:,} responses", flush=True)


def timed(fn, repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of ``repeat`` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def build_scale(n: int, url: str | None, workdir: Path) -> str:
    uri = url or f"sqlite:///{workdir / f'bench-{n}.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        t0 = time.perf_counter()
        build_offices()
        fill_responses(n)
        t_fill = time.perf_counter() - t0
        t0 = time.perf_counter()
        rebuild_tallies(db.session)
        t_tally = time.perf_counter() - t0
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE")
        else:
            with db.engine.begin() as c:
                c.exec_driver_sql("ANALYZE")
        db.session.remove()
        db.engine.dispose()
    print(f"  built {n:>11,} responses ({n * 24:,} answers): generated in {t_fill:6.1f} s, "
          f"tallies rebuilt from raw rows in {t_tally:6.1f} s", flush=True)
    return uri


def time_scales(uris: dict[int, str], rounds: int = 5, per_round: int = 10) -> dict:
    """Time every scale in interleaved rounds, so that load on a shared machine hits every
    scale alike; median wall and CPU time per report."""
    # reports made afresh each time (REPORT_CACHE_SIZE 0): the cost of computing them as
    # history grows, not of finding one already made (bench/limits_bench.py office shows both)
    apps = {n: create_app({"SQLALCHEMY_DATABASE_URI": u, "SECRET_KEY": "bench",
                           "REPORT_CACHE_SIZE": 0})
            for n, u in uris.items()}
    samples = {n: {k: ([], []) for k in ("office", "city")} for n in uris}
    month = "2025-06"
    for _ in range(rounds):
        for n, app in apps.items():
            with app.app_context():
                commune = db.session.scalar(sa.select(Office).where(Office.code == "C123"))
                city = db.session.scalar(sa.select(Office).where(Office.code == "HN"))
                for kind, office in (("office", commune), ("city", city)):
                    monthly_report(office, month)  # warm
                    wall, cpu = timed(lambda o=office: monthly_report(o, month), per_round)
                    samples[n][kind][0].extend(wall)
                    samples[n][kind][1].extend(cpu)
                db.session.remove()
    results = {}
    for n, app in apps.items():
        with app.app_context():
            city = db.session.scalar(sa.select(Office).where(Office.code == "HN"))
            responses = monthly_report(city, month)["responses"]
            db.engine.dispose()
        r = {k: (statistics.median(w), statistics.median(c))
             for k, (w, c) in samples[n].items()}
        results[n] = r
        print(f"  {n:>11,} responses: office-month report {r['office'][0]:7.2f} ms wall "
              f"({r['office'][1]:6.2f} ms CPU), city-month report {r['city'][0]:7.2f} ms wall "
              f"({r['city'][1]:6.2f} ms CPU); the city month holds {responses:,} responses",
              flush=True)
    return results


def write_paper_csv(path: Path, rows: int) -> None:
    rng = random.Random(3)
    offices = [f"C{i:03d}" for i in range(269)]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["office_code", "submitted_at", *CODES])
        for k in range(rows):
            day = 1 + k % 28
            w.writerow([offices[k % 269], f"2025-03-{day:02d}T09:{k % 60:02d}:00",
                        *[rng.choice("5544443210 ").strip().replace("0", "") for _ in CODES]])


def run_import(rows: int, workdir: Path) -> tuple[float, float]:
    db_path = workdir / f"import-{rows}.sqlite3"
    csv_path = workdir / f"paper-{rows}.csv"
    write_paper_csv(csv_path, rows)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "b"})
    with app.app_context():
        db.create_all()
        build_offices()
        db.engine.dispose()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "SIPAS_ENV": "development",
           "FLASK_APP": "wsgi:app"}
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = usage0.ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "flask"), "responses", "import",
                           str(csv_path)], cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage1.ru_maxrss
    cpu = (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"import failed: {proc.stderr[-2000:]}")
    peak_mb = max(peak, before) / 1024
    print(f"  import of {rows:>9,} rows ({csv_path.stat().st_size / 1e6:6.1f} MB): "
          f"{elapsed:6.1f} s wall ({rows / elapsed:9,.0f} rows/s), {cpu:6.1f} s CPU "
          f"({rows / cpu:9,.0f} rows per CPU-second), child peak RSS {peak_mb:6.1f} MB; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
          flush=True)
    return rows / elapsed, peak_mb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="100000,1000000,10000000")
    ap.add_argument("--import-rows", default="100000,1000000",
                    help="sizes of the paper CSVs to import (small first)")
    ap.add_argument("--database-url", default=None,
                    help="PostgreSQL URL for the report part (default: SQLite files)")
    ap.add_argument("--skip-reports", action="store_true")
    ap.add_argument("--skip-import", action="store_true")
    args = ap.parse_args()
    url = args.database_url
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    with tempfile.TemporaryDirectory(prefix="sipas-bench-") as tmp:
        workdir = Path(tmp)
        if not args.skip_reports:
            scales = [int(x) for x in args.scales.split(",")]
            print(f"Report latency ({'PostgreSQL' if url else 'SQLite'}; 300 offices, "
                  "24 months)")
            if url and len(scales) > 1:
                raise SystemExit("with --database-url give one scale per run")
            uris = {n: build_scale(n, url, workdir) for n in scales}
            print(f"  timing: {5} interleaved rounds of 10 warm reports per scale, medians; "
                  f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            results = time_scales(uris)
            small, large = min(results), max(results)
            if small != large:
                for kind in ("office", "city"):
                    wall = results[large][kind][0] / results[small][kind][0]
                    cpu = results[large][kind][1] / results[small][kind][1]
                    print(f"  ratio {kind}-month report at {large:,} / {small:,}: "
                          f"{wall:.2f} wall, {cpu:.2f} CPU")
        if not args.skip_import:
            print("Paper CSV import (flask responses import, SQLite, one transaction)")
            for rows in args.import_rows.split(","):
                run_import(int(rows), workdir)


if __name__ == "__main__":
    main()
