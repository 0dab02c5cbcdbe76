"""The nightly release (`flask responses mix`): how long a city's day takes to mix, against
writing the same answers straight into `response` with their tallies (the baseline: what
acknowledging used to cost at once, before the mixing stage).

    .venv/bin/python bench/mix_bench.py                                  # SQLite, 50k answers
    .venv/bin/python bench/mix_bench.py --answers 200000 --offices 300
    .venv/bin/python bench/mix_bench.py --database-url postgresql://postgres@127.0.0.1/sipas_bench

Each round builds the same N pending answers of one day spread over the offices, then times
(wall and CPU of this process) either `mix()` or the baseline (one bulk insert into
`response` plus the same tally accumulator); the two alternate for `--rounds` rounds so load
on a shared machine hits both alike. Prints medians and their ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from core import create_app  # noqa: E402
from core.extensions import db  # noqa: E402
from core.models import Office, PendingAnswer, Response  # noqa: E402
from core.services.mixing import day_start, mix, vn_day  # noqa: E402
from core.services.offices import rebuild_closure  # noqa: E402
from core.services.tallies import TallyAccumulator, TallyRow  # noqa: E402
from core.timeutil import utcnow  # noqa: E402

N_CRITERIA = 24


def build_offices(n: int) -> list[int]:
    city = Office(code="HN", name="Thành phố Hà Nội", level="city")
    db.session.add(city)
    db.session.flush()
    for i in range(n - 1):
        db.session.add(Office(code=f"C{i:03d}", name=f"Xã {i}", level="commune",
                              parent_id=city.id))
    db.session.flush()
    rebuild_closure()
    db.session.commit()
    return list(db.session.scalars(sa.select(Office.id).order_by(Office.id)))


def answer_rows(n: int, offices: list[int], seed: int) -> list[dict]:
    rng = random.Random(seed)
    day = vn_day(utcnow())
    return [{"office_id": offices[rng.randrange(len(offices))], "day": day,
             "instrument_id": "hanoi-2022", "channel": rng.choice(("kiosk", "qr", "generic")),
             "answers": "".join(rng.choice("5544443210") for _ in range(N_CRITERIA)),
             "comment": None, "procedure": None, "expectations": None, "demographics": None,
             "counted": True, "flags": None} for _ in range(n)]


def reset() -> None:
    db.session.remove()  # on SQLite the session's transaction holds the write lock
    with db.engine.begin() as conn:
        for table in ("monthly_tally", "monthly_channel_count", "response", "pending_answer"):
            conn.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608 - constant names


def run_mix(rows: list[dict]) -> tuple[float, float]:
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(PendingAnswer.__table__.insert(), rows)
    t0, c0 = time.perf_counter(), time.process_time()
    report = mix(include_today=True)
    elapsed = time.perf_counter() - t0, time.process_time() - c0
    assert report.released == len(rows) and report.pending == 0, report
    return elapsed


def run_baseline(rows: list[dict]) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    stamp = day_start(rows[0]["day"])
    month = f"{rows[0]['day']:%Y-%m}"
    tallies = TallyAccumulator()
    db.session.connection().execute(Response.__table__.insert(), [
        {"uuid": str(uuid.uuid4()), "office_id": r["office_id"],
         "instrument_id": r["instrument_id"], "channel": r["channel"], "answers": r["answers"],
         "month": month, "submitted_at": stamp, "received_at": stamp, "counted": True}
        for r in rows])
    for r in rows:
        tallies.add(TallyRow(r["office_id"], month, r["instrument_id"], r["channel"],
                             r["answers"]))
    tallies.write(db.session)
    db.session.commit()
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=50_000)
    parser.add_argument("--offices", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        uri = args.database_url or f"sqlite:///{Path(tmp) / 'mix.sqlite3'}"
        if uri.startswith("postgresql://"):
            uri = uri.replace("postgresql://", "postgresql+psycopg://", 1)
        app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench"})
        with app.app_context():
            db.drop_all()
            db.create_all()
            offices = build_offices(args.offices)
            samples: dict[str, list[tuple[float, float]]] = {"mix": [], "baseline": []}
            for k in range(args.rounds):
                rows = answer_rows(args.answers, offices, seed=k)
                for name, run in (("mix", run_mix), ("baseline", run_baseline)):
                    reset()
                    samples[name].append(run(rows))
                    db.session.remove()
            reset()
            db.drop_all()
            db.engine.dispose()
    med = {name: (statistics.median(w for w, _c in s), statistics.median(c for _w, c in s))
           for name, s in samples.items()}
    print(f"{uri.split(':', 1)[0]}: {args.answers:,} "
          f"answers of one day in {args.offices} offices, median of {args.rounds} rounds")
    for name, (wall, cpu) in med.items():
        print(f"  {name:9} {wall:7.2f} s wall  {cpu:7.2f} s CPU  "
              f"{args.answers / wall:10,.0f} answers/s")
    print(f"  mix / baseline: {med['mix'][0] / med['baseline'][0]:.2f}x wall, "
          f"{med['mix'][1] / med['baseline'][1]:.2f}x CPU")


if __name__ == "__main__":
    main()
