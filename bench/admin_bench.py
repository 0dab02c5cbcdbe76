"""Benchmark of the results area on a synthetic city.

Builds a database of ~350 offices (city > 20 departments + 30 districts > 10 communes each)
and RESPONSES_PER_MONTH x MONTHS responses of 24 answers each (default 35,000 x 12 = 420,000
responses = 10.08 million stored answers), then prints:

- dashboard page render time for one district-month and for the whole city-month;
- PDF report generation time (city, one month);
- XLSX export time of one month of raw anonymised responses of the whole city;
- the respondent-level intervals (issue 13): the cost of reading and adding the month's
  cross-tallies for the city, against a bootstrap over the month's released responses (the
  alternative that needs no cross-tally), measured with few replicates and scaled to 200.

    .venv/bin/python bench/admin_bench.py                  # SQLite file in /tmp
    BENCH_DATABASE_URL=postgresql://... .venv/bin/python bench/admin_bench.py
    BENCH_RESPONSES_PER_MONTH=10000 .venv/bin/python bench/admin_bench.py   # smaller
    BENCH_REUSE=1 .venv/bin/python bench/admin_bench.py    # measure again on the last database
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from core import create_app  # noqa: E402
from core.extensions import db  # noqa: E402
from core.models import (  # noqa: E402
    MonthlyChannelCount,
    MonthlyCrossTally,
    MonthlyTally,
    Office,
    Response,
)
from core.services.offices import rebuild_closure  # noqa: E402
from core.services.tallies import (  # noqa: E402
    COUNT_COLUMNS,
    TallyAccumulator,
    TallyRow,
    cross_layout,
)
from core.timeutil import VN_TZ, month_of, shift_month  # noqa: E402

PER_MONTH = int(os.environ.get("BENCH_RESPONSES_PER_MONTH", "35000"))
MONTHS = int(os.environ.get("BENCH_MONTHS", "12"))
LAST_MONTH = "2026-09"
URL = os.environ.get("BENCH_DATABASE_URL", "sqlite:////tmp/sipas-admin-bench.sqlite3")
CHANNELS = ("kiosk", "kiosk", "kiosk", "qr", "qr", "paper", "generic")
COMMENTS = ("Cán bộ nhiệt tình.", "Phải chờ lâu.", "=cmd|' /C calc'!A0", "Cần thêm ghế chờ.")


def build(app) -> tuple[int, int]:
    db.drop_all()
    db.create_all()
    offices = [Office(code="HN", name="Thành phố Hà Nội", level="city")]
    db.session.add(offices[0])
    db.session.flush()
    for i in range(1, 21):
        o = Office(code=f"S{i:02d}", name=f"Sở số {i}", level="department",
                   parent_id=offices[0].id)
        db.session.add(o)
        offices.append(o)
    for d in range(1, 31):
        dist = Office(code=f"D{d:02d}", name=f"UBND quận {d}", level="district",
                      parent_id=offices[0].id)
        db.session.add(dist)
        db.session.flush()
        offices.append(dist)
        for c in range(1, 11):
            o = Office(code=f"D{d:02d}-P{c:02d}", name=f"UBND phường {c} quận {d}",
                       level="commune", parent_id=dist.id)
            db.session.add(o)
            offices.append(o)
    db.session.flush()
    rebuild_closure()
    db.session.commit()
    leaf_ids = [o.id for o in offices if o.level != "city"]
    rng = random.Random(1)
    acc = TallyAccumulator()
    months = [shift_month(LAST_MONTH, -k) for k in range(MONTHS - 1, -1, -1)]
    stored = 0
    batch: list[dict] = []
    for month in months:
        start = datetime(int(month[:4]), int(month[5:7]), 1, 8, tzinfo=VN_TZ)
        for _ in range(PER_MONTH):
            office_id = rng.choice(leaf_ids)
            p = 0.8 + (office_id % 7) * 0.02
            answers = "".join(
                "0" if rng.random() < 0.04 else ("5" if r < p * 0.5 else "4" if r < p
                                                  else rng.choice("123"))
                for r in (rng.random() for _c in range(24)))
            moment = (start + timedelta(days=rng.randint(0, 27),
                                        minutes=rng.randint(0, 540))).astimezone(UTC)
            channel = rng.choice(CHANNELS)
            batch.append({
                "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "office_id": office_id, "instrument_id": "hanoi-2022", "channel": channel,
                "answers": answers, "month": month_of(moment), "submitted_at": moment,
                "received_at": moment, "counted": True,
                "comment": rng.choice(COMMENTS) if rng.random() < 0.05 else None,
                "expectations": ({"digital": rng.randint(1, 3), "attitude": rng.randint(1, 3)}
                                 if rng.random() < 0.3 else None)})
            acc.add(TallyRow(office_id, month_of(moment), "hanoi-2022", channel, answers))
            if len(batch) >= 10000:
                db.session.execute(sa.insert(Response), batch)
                stored += len(batch)
                batch.clear()
    if batch:
        db.session.execute(sa.insert(Response), batch)
        stored += len(batch)
    # a fresh database: plain inserts of the summed tallies (what TallyAccumulator.write
    # would upsert, without the conflict handling)
    db.session.execute(sa.insert(MonthlyTally), [
        {"office_id": k[0], "month": k[1], "instrument_id": k[2], "criterion": k[3],
         **dict(zip(COUNT_COLUMNS, v, strict=True))} for k, v in acc.criteria.items()])
    db.session.execute(sa.insert(MonthlyChannelCount), [
        {"office_id": k[0], "month": k[1], "instrument_id": k[2], "channel": k[3],
         "responses": v} for k, v in acc.channels.items()])
    layout = cross_layout("hanoi-2022")
    db.session.execute(sa.insert(MonthlyCrossTally), [
        {"office_id": k[0], "month": k[1], "instrument_id": k[2], "counts": layout.pack(v)}
        for k, v in acc.count_cross().items()])
    db.session.commit()
    return len(offices), stored


def timed(fn, runs: int = 3) -> tuple[float, float, float]:
    """(median wall time, best wall time, median CPU time of this process) in seconds.
    The CPU time includes SQLite's work (in-process) and is less sensitive to a busy machine;
    with PostgreSQL it leaves out the server's share."""
    times, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(times), min(times), statistics.median(cpu)


def main() -> None:
    # PDFs and reports made afresh on every request (their caches off): generation times
    app = create_app({"SQLALCHEMY_DATABASE_URI": URL, "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
                      "REPORT_CACHE_SIZE": 0, "PDF_CACHE_SIZE": 0})
    with app.app_context():
        from core.models import User
        from core.services.accounts import create_user

        t0 = time.perf_counter()
        reuse = os.environ.get("BENCH_REUSE") and sa.inspect(db.engine).has_table("app_user") \
            and db.session.scalar(sa.select(User.id).where(User.username == "bench"))
        if reuse:
            n_offices = db.session.scalar(sa.select(sa.func.count()).select_from(Office))
            n_responses = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
            months = db.session.scalar(sa.select(sa.func.count(sa.distinct(Response.month))))
            how = "reused"
        else:
            n_offices, n_responses = build(app)
            months = MONTHS
            create_user("bench", "admin", None, "Mat-khau-do-kiem-1", actor="bench",
                        must_change=False)
            how = f"built in {time.perf_counter() - t0:.0f} s"
        backend = db.engine.dialect.name
        db.session.remove()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"database: {backend}; {n_offices} offices; {n_responses:,} responses x 24 = "
          f"{n_responses * 24:,} stored answers over {months} months; {how}")
    client = app.test_client()
    client.post("/admin/login", data={"username": "bench", "password": "Mat-khau-do-kiem-1"})
    m = LAST_MONTH

    def get(url: str) -> bytes:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        return r.data

    results = [
        ("dashboard page, one district-month (D07)", f"/admin/?office=D07&month={m}"),
        ("dashboard page, whole city-month (HN)", f"/admin/?office=HN&month={m}"),
        ("PDF monthly report, whole city", f"/admin/exports/HN/{m}/report.pdf"),
        ("XLSX raw responses, whole city, one month", f"/admin/exports/HN/{m}/responses.xlsx"),
        ("CSV raw responses, whole city, one month", f"/admin/exports/HN/{m}/responses.csv"),
    ]
    for label, url in results:
        size = len(get(url))
        median, best, cpu = timed(lambda u=url: get(u), runs=3 if "responses" not in url else 1)
        print(f"{label}: median {median * 1000:.0f} ms, best {best * 1000:.0f} ms, "
              f"CPU {cpu * 1000:.0f} ms ({size / 1024:.0f} KiB)")
    with app.app_context():
        intervals(m)


def intervals(month: str) -> None:
    """The respondent-level intervals of one city month: cross-tallies (what the reports do)
    against a bootstrap over the released responses (what they would do without them)."""
    from core import scoring
    from core.services.common import get_instrument
    from core.services.offices import get_office
    from core.services.pooling import pooled_cross_tallies, pooled_tallies

    city = get_office("HN")
    instrument = get_instrument("hanoi-2022")
    structure = instrument.structure()

    def with_cross() -> None:
        tallies = pooled_tallies(city.id, month, instrument.id).get((), {})
        cross = pooled_cross_tallies(city.id, month, instrument.id).get(())
        scoring.score(structure, tallies, cross)

    median, best, cpu = timed(with_cross)
    print(f"intervals from cross-tallies, whole city, one month: median {median * 1000:.0f} "
          f"ms, best {best * 1000:.0f} ms, CPU {cpu * 1000:.0f} ms")
    months = [shift_month(month, -k) for k in range(13)]

    def thirteen() -> None:
        tallies = pooled_tallies(city.id, months, instrument.id, by=("month",))
        cross = pooled_cross_tallies(city.id, months, instrument.id, by=("month",))
        for key, x in cross.items():
            scoring.score(structure, tallies.get(key, {}), x)

    median, best, cpu = timed(thirteen)
    print(f"intervals from cross-tallies, whole city, 13 months (the dashboard's trend and "
          f"comparisons): median {median * 1000:.0f} ms, best {best * 1000:.0f} ms, "
          f"CPU {cpu * 1000:.0f} ms")

    replicates, scaled_to = 5, 200
    t0, c0 = time.perf_counter(), time.process_time()
    from core.services.pooling import within

    answers = db.session.scalars(
        within(sa.select(Response.answers), Response.office_id, city.id)
        .where(Response.month == month, Response.counted.is_(True))).all()
    read = time.perf_counter() - t0
    codes = instrument.criterion_codes
    rng = random.Random(2)
    n = len(answers)
    for _ in range(replicates):
        drawn: dict[int, int] = {}
        for i in rng.choices(range(n), k=n):
            drawn[i] = drawn.get(i, 0) + 1
        counts = [[0] * 5 for _c in codes]
        for i, w in drawn.items():
            for j, ch in enumerate(answers[i]):
                if ch != "0":
                    counts[j][int(ch) - 1] += w
        scoring.score(structure, {c: scoring.Tally(tuple(counts[j])) for j, c in
                                  enumerate(codes)})
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    per = (wall - read) / replicates
    print(f"bootstrap over released responses, whole city, one month ({n:,} responses): "
          f"reading {read * 1000:.0f} ms, {per * 1000:.0f} ms per replicate, so "
          f"{(read + per * scaled_to):.1f} s for {scaled_to} replicates (CPU "
          f"{cpu:.1f} s for {replicates}); x13 months for the trend")


if __name__ == "__main__":
    main()
