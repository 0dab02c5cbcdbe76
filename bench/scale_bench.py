"""Scale benchmark: sustained kiosk submissions through real gunicorn servers, SQLite and
PostgreSQL side by side, 1 vs 2 app processes (2 sync workers each).

    .venv/bin/python bench/scale_bench.py                   # ~2 minutes
    .venv/bin/python bench/scale_bench.py --restart-pg      # also: recovery after a restart

For each database and process count, ``--clients`` loopback threads post kiosk responses
(``POST /api/v1/responses``, one kiosk each, rate limit off) in a closed loop for
``--seconds``, retrying idempotently on 503 or a dropped connection (tools/loadgen.py).
Printed: acknowledged responses per second, p50/p99 latency of acknowledged posts, statuses,
and a check that stored = acknowledged.

``--restart-pg`` (opt-in: it restarts the machine's whole PostgreSQL cluster) restarts
PostgreSQL 5 s into a PostgreSQL run with 2 processes and reports the time until clients
were served again, the 503s meanwhile, and that nothing acknowledged was lost.

The PostgreSQL database (``--pg-url``, default $BENCH_DATABASE_URL or sipas_prod2_bench)
is WIPED. The load generator shares the machine's cores with the servers: read the figures
as relative, not as capacity. Office-month and city-month report latency at scale:
bench/foundation_bench.py --database-url ... (see docs/deploy.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.extensions import db  # noqa: E402
from tools.loadgen import (  # noqa: E402
    run_load,
    seed,
    seed_app,
    stored_state,
    submission_key,
)
from tools.servers import GunicornServer, running  # noqa: E402

DEFAULT_PG = os.environ.get("BENCH_DATABASE_URL",
                            "postgresql://postgres@127.0.0.1:5432/sipas_prod2_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")


def create_schema(url: str) -> None:
    app = seed_app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
        db.engine.dispose()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def restart_pg() -> float:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    t0 = time.monotonic()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                   check=True, capture_output=True, timeout=120)
    return time.monotonic() - t0


def one_run(name: str, url: str, processes: int, clients: int, seconds: float,
            restart: bool = False) -> None:
    seeded = seed(url, kiosks=clients, receipts=0)
    env = {"SIPAS_KIOSK_MIN_SECONDS_BETWEEN": "0", "SIPAS_DB_CONNECT_TIMEOUT": "2"}
    servers = [GunicornServer(url, redis_url=REDIS, workers=2, env=env)
               for _ in range(processes)]
    marks: dict[str, float] = {}

    def during(elapsed: float) -> None:
        if restart and elapsed > 5 and "restart" not in marks:
            marks["restart"] = elapsed
            marks["restart_cmd"] = restart_pg()

    with running(*servers):
        result = run_load(servers, seeded, clients=clients, qr_clients=0, seconds=seconds,
                          grace=60, during=during, retry_pause=0.1)
    state = stored_state(url)
    ok = (state["kiosk_keys"] == {submission_key(u) for u in result.kiosk_acked}
          and state["channels"].get("kiosk", 0) == len(result.kiosk_acked))
    rate = len(result.kiosk_acked) / seconds
    lat = result.latencies
    statuses = dict(sorted(result.statuses.items()))
    print(f"{name:10} {processes} proc x 2 workers  {clients:3} clients  "
          f"{rate:7.1f} responses/s  p50 {pct(lat, .5) * 1000:6.1f} ms  "
          f"p99 {pct(lat, .99) * 1000:7.1f} ms  statuses {statuses}  "
          f"dropped {result.dropped}  stored=acked {ok}", flush=True)
    if restart:
        at = marks.get("restart", 0.0)
        after = [(t, st) for t, st in sorted(result.timeline) if t >= at]
        failed = [t for t, st in after if st is None or st >= 500]
        if failed:
            back = next((t for t, st in after if t > failed[-1] and st in (200, 201)), None)
            print(f"  clients failed from {failed[0]:.2f} s to {failed[-1]:.2f} s; first "
                  f"success after that at {back if back is None else round(back, 2)} s: "
                  f"recovery {(back or failed[-1]) - at:.2f} s after the restart began")
        print(f"  PostgreSQL restart at {marks.get('restart', 0):.1f} s took "
              f"{marks.get('restart_cmd', 0):.1f} s (pg_ctlcluster); 503 answers: "
              f"{result.statuses.get(503, 0)}; 500 answers: {result.statuses.get(500, 0)}; "
              f"unacknowledged at the end: {len(result.kiosk_pending)}", flush=True)
        print("  (the app processes were not restarted; clients retried the same ids)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--restart-pg", action="store_true")
    args = parser.parse_args()
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    with tempfile.TemporaryDirectory(prefix="sipas-scale-") as tmp:
        sqlite_url = f"sqlite:///{tmp}/bench.sqlite3"
        for name, url in (("sqlite", sqlite_url), ("postgresql", args.pg_url)):
            create_schema(url)
            for processes in (1, 2):
                one_run(name, url, processes, args.clients, args.seconds)
        if args.restart_pg:
            one_run("pg-restart", args.pg_url, 2, args.clients, args.seconds + 10,
                    restart=True)


if __name__ == "__main__":
    main()
