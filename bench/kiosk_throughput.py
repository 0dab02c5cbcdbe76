"""Kiosk API throughput: POST /api/v1/responses under gunicorn (2 sync workers) on SQLite,
next to a minimal Flask endpoint that makes the same Redis rate-limit round trip and inserts
the same row with SQLAlchemy Core (one transaction), measured
in the same run with the same load generator; plus the kiosk start page's total bytes.

    .venv/bin/python bench/kiosk_throughput.py [--seconds 10] [--clients 8]

Besides req/s it prints the gunicorn workers' CPU time per request (from /proc), which
stays meaningful on a machine busy with other work, where req/s ratios swing.

Loopback only, bounded in time (about 2 x seconds + 15 s). Each phase gets a fresh SQLite
database (WAL, synchronous=NORMAL, as the app configures it). The per-kiosk rate limit is
switched off (KIOSK_MIN_SECONDS_BETWEEN=0): one load-generator client plays one kiosk sending
as fast as it can, which no real tablet does. Answers are random, so no burst is flagged.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import random
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CODES = ["I.1", "I.2", "I.3", "I.4", "II.1", "II.2", "II.3", "II.4", "II.5", "III.1", "III.2",
         "III.3", "III.4", "III.5", "III.6", "III.7", "IV.1", "IV.2", "IV.3", "IV.4", "V.1",
         "V.2", "V.3", "V.4"]
TREE = """code,name,parent_code,level
HN,Thành phố Hà Nội,,city
BD,UBND quận Ba Đình,HN,district
BD-KM,UBND phường Kim Mã,BD,commune
"""


# --- the baseline: a minimal Flask app inserting the same row with SQLAlchemy Core ---------

def baseline_app():
    """Gunicorn factory: ``bench.kiosk_throughput:baseline_app()`` (DATABASE_URL env)."""
    import sqlalchemy as sa
    from flask import Flask, jsonify, request

    engine = sa.create_engine(os.environ["DATABASE_URL"])

    @sa.event.listens_for(engine, "connect")
    def _pragmas(conn, _rec):
        conn.isolation_level = None
        cur = conn.cursor()
        for pragma in ("foreign_keys=ON", "busy_timeout=15000", "synchronous=NORMAL",
                       "journal_mode=WAL"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    meta = sa.MetaData()
    response = sa.Table("response", meta, autoload_with=engine)
    # forked from a preloading master (gunicorn.conf.py): no connection of the master's
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    app = Flask(__name__)
    # the same Redis round trip as the app's rate limit (issue 20: the baseline pays it too)
    from limits import parse, storage, strategies

    limiter = strategies.FixedWindowRateLimiter(storage.storage_from_string(
        os.environ["SIPAS_RATELIMIT_STORAGE_URI"]))
    per_kiosk = parse("1000000/second")

    @app.post("/baseline")
    def insert():
        limiter.hit(per_kiosk, "baseline", request.headers.get("Authorization", "")[-16:])
        body = request.get_json()
        answers = "".join(str(body["answers"].get(c) or 0) for c in CODES)
        now = datetime.now(UTC).replace(tzinfo=None)
        with engine.begin() as conn:
            conn.execute(response.insert().values(
                uuid=body["id"], office_id=3, instrument_id=body["instrument"],
                channel="kiosk", answers=answers, month=now.strftime("%Y-%m"),
                submitted_at=now, received_at=now, counted=True))
        return jsonify({"id": body["id"], "created": True, "flags": []}), 201

    return app


# --- set-up ------------------------------------------------------------------------------

def make_database(path: Path, kiosks: int) -> list[str]:
    """A fresh database with the schema, three offices and ``kiosks`` kiosk credentials."""
    from core import create_app
    from core.extensions import db
    from core.services.kiosks import add_kiosk
    from core.services.offices import get_office, import_offices

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        import_offices(io.StringIO(TREE))
        creds = [add_kiosk(get_office("BD-KM"), f"Quầy {i + 1}", with_credential=True
                           ).credential for i in range(kiosks)]
        db.session.remove()
        db.engine.dispose()
    return [c for c in creds if c]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(app_spec: str, db_path: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{db_path}", SECRET_KEY=secrets.token_hex(16),
               SIPAS_ENV="production", SIPAS_KIOSK_MIN_SECONDS_BETWEEN="0",
               # two production workers share their rate limits in Redis (memory:// refuses)
               SIPAS_RATELIMIT_STORAGE_URI=os.environ.get("BENCH_REDIS_URL",
                                                          "redis://127.0.0.1:6379/6"),
               SIPAS_RECEIPT_KEYS="bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
               PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", app_spec],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"gunicorn did not start: {proc.stderr.read().decode()[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


# --- load generator ----------------------------------------------------------------------

def payload() -> bytes:
    answers = {c: random.choice([1, 2, 3, 4, 5, 5, 4, None]) for c in CODES}
    answers["I.1"] = random.randint(1, 5)  # never all null
    return json.dumps({"id": str(uuid.uuid4()), "instrument": "hanoi-2022",
                       "answers": answers}).encode()


def run_load(port: int, path: str, credentials: list[str], seconds: float, clients: int
             ) -> dict[str, float]:
    """``clients`` threads, each one kiosk, POSTing for ``seconds``; one connection per
    request (gunicorn's sync workers close them). Returns counts and the rate."""
    stats = {"ok": 0, "errors": 0, "latency_total": 0.0}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(i: int) -> None:
        headers = {"Content-Type": "application/json",
                   "Authorization": f"Bearer {credentials[i % len(credentials)]}"}
        ok = errors = 0
        lat = 0.0
        while time.monotonic() < stop_at:
            t0 = time.monotonic()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("POST", path, body=payload(), headers=headers)
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status in (200, 201):
                    ok += 1
                else:
                    errors += 1
            except OSError:
                errors += 1
            lat += time.monotonic() - t0
        with lock:
            stats["ok"] += ok
            stats["errors"] += errors
            stats["latency_total"] += lat

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    done = stats["ok"] + stats["errors"]
    return {"ok": stats["ok"], "errors": stats["errors"], "seconds": elapsed,
            "rps": stats["ok"] / elapsed,
            "mean_ms": 1000 * stats["latency_total"] / done if done else 0.0}


def server_cpu_seconds(master_pid: int) -> float:
    """CPU time (user + system) of a gunicorn server: its live workers plus the workers it
    has already reaped (recycled). Linux /proc only; 0.0 elsewhere. Unlike req/s, it does
    not depend on what else the machine is running."""
    tick = os.sysconf("SC_CLK_TCK")

    def times(pid: int, children: bool) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        # fields[11:15] = utime, stime, cutime, cstime (after the state field)
        own = int(fields[11]) + int(fields[12])
        return (own + (int(fields[13]) + int(fields[14]) if children else 0)) / tick

    try:
        kids = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return 0.0
    reaped = times(master_pid, True) - times(master_pid, False)
    return reaped + sum(times(int(k), False) for k in kids)


def count_rows(db_path: Path) -> int:
    """Answers acknowledged: pending (the mixing stage) or released."""
    with sqlite3.connect(db_path) as conn:
        return sum(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                   for table in ("pending_answer", "response"))


# --- the kiosk start page's weight -------------------------------------------------------

def start_page_bytes(port: int, credential: str) -> dict[str, int]:
    """Every byte the start screen can load: the HTML, its stylesheets and script, and the
    images those stylesheets refer to (an upper bound: hidden faces are not fetched by a
    browser until shown)."""
    def get(path: str) -> bytes:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", path, headers={"Cookie": f"sipas_kiosk={credential}"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        if resp.status != 200:
            raise RuntimeError(f"GET {path}: {resp.status}")
        return body

    sizes: dict[str, int] = {}
    html = get("/kiosk/")
    sizes["/kiosk/"] = len(html)
    text = html.decode()
    assets = re.findall(r'<(?:link[^>]+href|script[^>]+src)="([^"]+)"', text)
    for asset in assets:
        body = get(asset)
        sizes[asset] = len(body)
        if asset.endswith(".css"):
            base = asset.rsplit("/", 1)[0]
            for ref in re.findall(r"url\(([^)]+)\)", body.decode()):
                ref_path = f"{base}/{ref.strip(chr(34) + chr(39))}"
                sizes[ref_path] = len(get(ref_path))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per side")
    args = parser.parse_args()
    random.seed(2022)

    phases = (("kiosk API", "wsgi:app", "/api/v1/responses"),
              ("baseline", "bench.kiosk_throughput:baseline_app()", "/baseline"))
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        servers = {}
        try:
            for name, spec, path in phases:
                db_path = Path(tmp) / f"{name.split()[0]}.sqlite3"
                creds = make_database(db_path, args.clients)
                port = free_port()
                servers[name] = (start_gunicorn(spec, db_path, port), port, path, creds, db_path)
                run_load(port, path, creds, 1.0, 2)  # warm-up (imports, first connections)
            # both servers stay up; the phases alternate in short rounds so that a noisy
            # machine affects both sides alike
            totals = {name: {"ok": 0, "errors": 0, "seconds": 0.0, "lat": 0.0,
                             "cpu": 0.0, "start_rows": count_rows(servers[name][4])}
                      for name, *_ in phases}
            for _round in range(args.rounds):
                for name, *_ in phases:
                    proc, port, path, creds, _db = servers[name]
                    cpu0 = server_cpu_seconds(proc.pid)
                    r = run_load(port, path, creds, args.seconds / args.rounds, args.clients)
                    t = totals[name]
                    t["cpu"] += server_cpu_seconds(proc.pid) - cpu0
                    t["ok"] += r["ok"]
                    t["errors"] += r["errors"]
                    t["seconds"] += r["seconds"]
                    t["lat"] += r["mean_ms"] * (r["ok"] + r["errors"])
            results = {}
            for name, *_ in phases:
                t = totals[name]
                done = t["ok"] + t["errors"]
                results[name] = {"ok": t["ok"], "errors": t["errors"], "seconds": t["seconds"],
                                 "rps": t["ok"] / t["seconds"],
                                 "mean_ms": t["lat"] / done if done else 0.0,
                                 "cpu_ms": 1000 * t["cpu"] / done if done else 0.0,
                                 "stored": count_rows(servers[name][4]) - t["start_rows"]}
            _proc, port, _path, creds, _db = servers["kiosk API"]
            results["kiosk API"]["page"] = start_page_bytes(port, creds[0])
        finally:
            for proc, *_ in servers.values():
                stop(proc)

    api, base = results["kiosk API"], results["baseline"]
    print(f"Kiosk API throughput — gunicorn -w 2 (sync), SQLite, {args.clients} loopback "
          f"clients (one kiosk each), {args.seconds:.0f} s per side in {args.rounds} "
          "alternating rounds")
    for name, r in results.items():
        print(f"  {name:<10} {r['rps']:8.1f} req/s  {r['ok']:6d} 2xx  {r['errors']} errors  "
              f"stored rows {r['stored']}  mean latency {r['mean_ms']:.1f} ms  "
              f"server CPU {r['cpu_ms']:.2f} ms/request")
    print(f"  ratio kiosk API / baseline: {100 * api['rps'] / base['rps']:.1f} % "
          f"(target >= 50 %)")
    if base["cpu_ms"] and api["cpu_ms"]:
        print(f"  CPU-time ratio baseline / kiosk API per request: "
              f"{100 * base['cpu_ms'] / api['cpu_ms']:.1f} % (the same comparison, insensitive "
              "to other load on the machine)")
    ok = all(r["errors"] == 0 and r["stored"] == r["ok"] for r in results.values())
    print(f"  0 errors and stored rows = 2xx replies: {'yes' if ok else 'NO'}")
    page = api["page"]
    print(f"Kiosk start page total: {sum(page.values())} bytes "
          f"({sum(page.values()) / 1024:.1f} KiB, limit 150 KiB), uncompressed:")
    for path, n in page.items():
        print(f"  {n:7d}  {path}")


if __name__ == "__main__":
    main()
