"""Production benchmark: real gunicorn processes on SQLite and PostgreSQL, side by side.

    .venv/bin/python bench/prod_bench.py                    # ~1-2 minutes
    .venv/bin/python bench/prod_bench.py --restart-pg       # also: recovery after a restart

For each database and for 1 and 2 gunicorn worker processes, a closed loop of
``--clients`` threads on loopback for ``--seconds`` each measures throughput and p50/p99
latency of:
  - GET /readyz (a database round trip),
  - the monthly report of one commune office (CN1-BD) and of the whole city (HN), as JSON
    (``monthly_report``, served by the probe route of tools/probe_app.py),
on demo data (``--months`` months of the demo city: 16 offices).

``--restart-pg`` (opt-in, never in tests: it restarts the machine's PostgreSQL cluster with
``pg_ctlcluster --skip-systemctl-redirect 15 main restart``) keeps requests flowing during the
restart and reports the outage seen by clients, the time from the restart to the first
success, and the status codes answered meanwhile (503 expected, never 500). It waits for a
moment when no other database on the cluster has an active query, and skips otherwise.

The PostgreSQL database given by --pg-url (default: $BENCH_DATABASE_URL or sipas_prod) is
WIPED and refilled. The load generator shares the machine's cores with the servers: read
the figures as relative, not as capacity.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import create_app  # noqa: E402
from core.extensions import db  # noqa: E402
from core.services.common import get_instrument  # noqa: E402
from core.services.demo import load_demo  # noqa: E402
from core.timeutil import last_complete_month  # noqa: E402
from tools.servers import GunicornServer, plain_database_url  # noqa: E402

DEFAULT_PG = os.environ.get("BENCH_DATABASE_URL",
                            "postgresql://postgres@127.0.0.1:5432/sipas_prod")
# production keeps rate limits in Redis when it runs more than one worker
DEFAULT_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")


def prepare(url: str, months: int) -> int:
    sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app({"SQLALCHEMY_DATABASE_URI": sa_url, "SECRET_KEY": "bench-secret"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        n = load_demo(get_instrument("hanoi-2022"), months=months, seed=2022)
        db.session.remove()
        db.engine.dispose()
    return n


def load(server: GunicornServer, path: str, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: Counter[int | str] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        mine: list[float] = []
        codes: Counter[int | str] = Counter()
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                status = server.request("GET", path, timeout=30)[0]
            except OSError as exc:
                status = type(exc).__name__
            mine.append(time.perf_counter() - t0)
            codes[status] += 1
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    return {"n": len(latencies), "rps": len(latencies) / elapsed, "p50": q[49] * 1000,
            "p99": q[98] * 1000, "statuses": dict(statuses)}


def other_activity(pg_url: str) -> int:
    """Active queries on other databases of the cluster (other people's tests)."""
    dbname = pg_url.rsplit("/", 1)[1]
    out = subprocess.run(
        ["psql", pg_url, "-Atc",
         "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
         f"AND datname IS NOT NULL AND datname <> '{dbname}'"],
        capture_output=True, text=True, timeout=10, check=True)
    return int(out.stdout.strip() or 0)


def restart_pg(server: GunicornServer, pg_url: str, month: str, version: str,
               cluster: str) -> None:
    deadline = time.monotonic() + 90
    while other_activity(pg_url) and time.monotonic() < deadline:
        time.sleep(0.5)
    if other_activity(pg_url):
        print("restart: skipped (other databases on the cluster stayed busy for 90 s)")
        return
    events: list[tuple[float, int | str]] = []
    lock = threading.Lock()
    done = threading.Event()

    def poll(path: str) -> None:
        while not done.is_set():
            t = time.monotonic()
            try:
                status = server.request("GET", path, timeout=10)[0]
            except OSError as exc:
                status = type(exc).__name__
            with lock:
                events.append((t, status))
            time.sleep(0.02)

    paths = ["/readyz", f"/_probe/report/CN1-BD/{month}"]
    threads = [threading.Thread(target=poll, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    time.sleep(1.0)
    t_restart = time.monotonic()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "restart"],
                   check=True, timeout=120)
    t_back = time.monotonic()
    # until both paths have succeeded again, then one more second
    recovered_at = None
    while time.monotonic() < t_back + 60:
        with lock:
            after = [e for e in events if e[0] >= t_restart]
        successes = [t for t, s in after if s == 200 and t >= t_back]
        if successes:
            recovered_at = successes[0]
            break
        time.sleep(0.05)
    time.sleep(1.0)
    done.set()
    for t in threads:
        t.join()
    during = [(t, s) for t, s in events if t >= t_restart]
    failures = [t for t, s in during if s != 200]
    codes = Counter(s for t, s in during if recovered_at is None or t <= recovered_at + 1)
    print(f"restart: pg_ctlcluster restart took {t_back - t_restart:.2f} s")
    if failures:
        print(f"restart: clients saw failures for {max(failures) - min(failures):.2f} s "
              f"(first {min(failures) - t_restart:.2f} s after the restart began)")
    else:
        print("restart: clients saw no failure")
    if recovered_at is not None:
        print(f"restart: first success {recovered_at - t_restart:.2f} s after the restart "
              f"began, {max(0.0, recovered_at - t_back):.2f} s after it returned")
    else:
        print("restart: NO RECOVERY within 60 s")
    print(f"restart: statuses during the window: {dict(codes)}")
    if any(s == 500 for _t, s in during):
        print("restart: WARNING: 500 answers seen")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pg-url", default=DEFAULT_PG)
    ap.add_argument("--no-pg", action="store_true", help="SQLite only")
    ap.add_argument("--redis-url", default=DEFAULT_REDIS, help="the rate-limit store")
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--restart-pg", action="store_true",
                    help="also restart PostgreSQL under load and measure recovery (opt-in)")
    ap.add_argument("--pg-cluster", default="15 main", help="version and cluster name")
    args = ap.parse_args()

    month = last_complete_month()
    tmp = tempfile.TemporaryDirectory(prefix="sipas-bench-")
    backends = {"sqlite": f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"}
    if not args.no_pg:
        backends["postgresql"] = plain_database_url(args.pg_url)
    print(f"# prod_bench: {os.cpu_count()} CPUs, {args.clients} client threads, "
          f"{args.seconds:.0f} s per measurement, report month {month}, "
          f"load average {os.getloadavg()[0]:.1f}")
    for name, url in backends.items():
        t0 = time.monotonic()
        n = prepare(url, args.months)
        print(f"# {name}: {n} demo responses loaded in {time.monotonic() - t0:.1f} s")

    paths = {"readyz": "/readyz", "report office CN1-BD": f"/_probe/report/CN1-BD/{month}",
             "report city HN": f"/_probe/report/HN/{month}"}
    print(f"{'database':<11} {'workers':>7} {'path':<22} {'requests':>8} {'req/s':>8} "
          f"{'p50 ms':>8} {'p99 ms':>8}  statuses")
    for workers in (1, 2):
        for name, url in backends.items():
            # reports computed on every request (the report cache off): what it costs to
            # make them; a kept report costs one query (bench/limits_bench.py office)
            with GunicornServer(url, workers=workers, app="tools.probe_app:app",
                                redis_url=args.redis_url,
                                env={"SIPAS_ACCESS_LOG": "false",
                                     "SIPAS_REPORT_CACHE_SIZE": "0"}) as server:
                for label, path in paths.items():
                    load(server, path, args.clients, 1.0)  # warm up
                    r = load(server, path, args.clients, args.seconds)
                    print(f"{name:<11} {workers:>7} {label:<22} {r['n']:>8} {r['rps']:>8.1f} "
                          f"{r['p50']:>8.1f} {r['p99']:>8.1f}  {r['statuses']}", flush=True)

    print(f"# load average at the end: {os.getloadavg()[0]:.1f} (other work on the machine "
          "skews the figures)")
    if args.restart_pg and not args.no_pg:
        version, cluster = args.pg_cluster.split()
        with GunicornServer(backends["postgresql"], workers=2, app="tools.probe_app:app",
                            redis_url=args.redis_url,
                            env={"SIPAS_ACCESS_LOG": "false"}) as server:
            restart_pg(server, backends["postgresql"], month, version, cluster)
    tmp.cleanup()


if __name__ == "__main__":
    main()
