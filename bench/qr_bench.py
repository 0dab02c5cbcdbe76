"""Benchmark of the QR survey's printing path. Prints:

- minting throughput (links/s) through ``POST /api/v1/receipts`` on a live loopback server,
  for new dossiers and for idempotent repeats;
- QR PNG and SVG generation time per image;
- time to build an A4 PDF sheet of 100 receipt slips.

    .venv/bin/python bench/qr_bench.py [--db postgresql://postgres@127.0.0.1:5432/DB]
                                       [--mints 1000] [--threads 4] [--images 200]

Default database: a fresh SQLite file in a temporary folder. With --db the receipt, key and
office tables of that database are dropped and recreated first.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from core import create_app  # noqa: E402
from core.extensions import db  # noqa: E402

TREE = ("code,name,parent_code,level\nHN,Thành phố Hà Nội,,city\n"
        "BD-KM,UBND phường Kim Mã,HN,commune\n")


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # no access log in the figures
        pass


def build_app(db_url: str | None, tmp: Path):
    uri = db_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench-secret",
                      "PUBLIC_BASE_URL": "https://sipas.hanoi.gov.vn",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 16, "max_overflow": 8}})
    app.logger.disabled = True
    with app.app_context():
        db.drop_all()
        db.create_all()
        from core.services.offices import import_offices
        from core.services.receipts import create_api_key

        import_offices(io.StringIO(TREE))
        key = create_api_key("BD-KM", "bench")[1]
        db.session.remove()
    return app, key


def mint_run(port: int, key: str, codes: list[str], threads: int) -> tuple[float, list[int]]:
    chunks = [codes[i::threads] for i in range(threads)]
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def worker(chunk: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        barrier.wait()
        for code in chunk:
            conn.request("POST", "/api/v1/receipts", body=json.dumps({"dossier_code": code}),
                         headers={"Authorization": f"Bearer {key}",
                                  "Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            mine.append(resp.status)
        conn.close()
        with lock:
            statuses.extend(mine)

    workers = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter()
    for w in workers:
        w.join()
    return time.perf_counter() - start, statuses


def per_image(fn, urls: list[str]) -> tuple[float, float]:
    from core.services.qrcodes import qr_matrix

    times = []
    for url in urls:
        qr_matrix.cache_clear()  # time the whole generation, not the cache
        t = time.perf_counter()
        fn(url)
        times.append(time.perf_counter() - t)
    return statistics.mean(times) * 1000, statistics.quantiles(times, n=20)[18] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--mints", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        app, key = build_app(args.db, tmp)
        backend = app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            codes = [f"000.00.20.H26-221128-{i:05d}" for i in range(args.mints)]
            elapsed, statuses = mint_run(server.server_port, key, codes, args.threads)
            assert statuses.count(201) == args.mints, set(statuses)
            print(f"backend: {backend}; {args.threads} client threads over loopback HTTP")
            print(f"minting, new dossiers : {args.mints} links in {elapsed:.2f} s = "
                  f"{args.mints / elapsed:,.0f} links/s")
            elapsed, statuses = mint_run(server.server_port, key, codes, args.threads)
            assert statuses.count(200) == args.mints, set(statuses)
            print(f"minting, repeats (200): {args.mints} links in {elapsed:.2f} s = "
                  f"{args.mints / elapsed:,.0f} links/s")
        finally:
            server.shutdown()
            thread.join(timeout=5)

        from core.services.qrcodes import qr_matrix, qr_png, qr_svg
        from core.services.receipt_pdf import Slip, slips_pdf

        with app.app_context():
            from core.models import Receipt
            from core.services.receipts import token_for

            tokens = [token_for(r) for r in db.session.scalars(
                db.select(Receipt).limit(max(args.images, 100)))]
            db.session.remove()
        urls = [f"https://sipas.hanoi.gov.vn/s/{t}" for t in tokens]
        caption = "Quét mã để đánh giá · sipas.hanoi.gov.vn"
        level = app.config["QR_ERROR_CORRECTION"]
        png_mean, png_p95 = per_image(lambda u: qr_png(u, caption, level), urls[:args.images])
        svg_mean, svg_p95 = per_image(lambda u: qr_svg(u, caption, level), urls[:args.images])
        size_png = len(qr_png(urls[0], caption, level))
        size_svg = len(qr_svg(urls[0], caption, level))
        print(f"QR PNG (level {level}, 6 px/module, caption): mean {png_mean:.2f} ms, "
              f"p95 {png_p95:.2f} ms per image, {size_png:,} bytes")
        print(f"QR SVG (level {level}, caption): mean {svg_mean:.2f} ms, "
              f"p95 {svg_p95:.2f} ms per image, {size_svg:,} bytes")

        slips = [Slip(u, f"000.00.20.H26-221128-{i:05d}") for i, u in enumerate(urls[:100])]
        with app.test_request_context("/"):
            slips_pdf(slips[:1], "UBND phường Kim Mã")  # font loading, once per process
            runs = []
            for _ in range(3):
                qr_matrix.cache_clear()
                t = time.perf_counter()
                pdf = slips_pdf(slips, "UBND phường Kim Mã")
                runs.append(time.perf_counter() - t)
        print(f"PDF sheet of 100 slips (9 A4 pages): best {min(runs) * 1000:.0f} ms, "
              f"median {statistics.median(runs) * 1000:.0f} ms of 3, {len(pdf):,} bytes")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
