"""Seeding and loopback load clients for the multi-server, load and fault tests
(tests/deploy/test_scale_and_faults.py) and bench/scale_bench.py.

``seed(url, kiosks=, receipts=)`` empties the database and creates offices, kiosks with
device credentials and minted receipt links, signed with the gunicorn test receipt keys (so the
servers of tools/servers.py accept them). ``run_load(...)`` drives kiosk API and QR phone
submissions from many threads for a bounded time; clients retry idempotently (same response
id, same receipt) on a dropped connection or a 503, as the kiosk's offline queue does.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import random
import re
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from core import create_app
from core.extensions import db
from tools.sample_data import SMALL_TREE
from tools.servers import TEST_RECEIPT_KEYS, TEST_SECRET, GunicornServer

CODES = ["I.1", "I.2", "I.3", "I.4", "II.1", "II.2", "II.3", "II.4", "II.5", "III.1", "III.2",
         "III.3", "III.4", "III.5", "III.6", "III.7", "IV.1", "IV.2", "IV.3", "IV.4", "V.1",
         "V.2", "V.3", "V.4"]
OFFICES = ("BD-KM", "BD-DB", "STP")


def sa_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) \
        if url.startswith("postgresql://") else url


def seed_app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": sa_url(url), "SECRET_KEY": TEST_SECRET,
                       "RECEIPT_KEYS": TEST_RECEIPT_KEYS})


@dataclass
class Seeded:
    credentials: list[str]
    tokens: list[str]
    receipt_ids: dict[str, int]  # token -> receipt id


def seed(url: str, *, kiosks: int, receipts: int) -> Seeded:
    """Empty every table of ``url`` (schema must exist) and create the small office tree,
    ``kiosks`` kiosks with credentials and ``receipts`` receipt links."""
    from core.services.kiosks import add_kiosk
    from core.services.offices import get_office, import_offices
    from core.services.receipts import mint_receipt

    app = seed_app(url)
    with app.app_context():
        tables = db.metadata.sorted_tables
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in reversed(tables):
                db.session.execute(t.delete())
        db.session.commit()
        import_offices(io.StringIO(SMALL_TREE))
        offices = [get_office(code) for code in OFFICES]
        creds = [add_kiosk(offices[i % len(offices)], f"Quầy {i + 1}",
                           with_credential=True).credential for i in range(kiosks)]
        tokens, ids = [], {}
        for i in range(receipts):
            minted = mint_receipt(offices[i % len(offices)], f"000.00.20.H26-261128-{i:05d}")
            tokens.append(minted.token)
            ids[minted.token] = minted.receipt.id
        db.session.remove()
        db.engine.dispose()
    return Seeded([c for c in creds if c], tokens, ids)


def kiosk_body(uid: str | None = None) -> dict:
    return {"id": uid or str(uuid.uuid4()), "instrument": "hanoi-2022",
            "answers": {c: random.randint(1, 5) for c in CODES}}  # noqa: S311


def qr_form(csrf: str) -> dict[str, str]:
    form = {"c_" + c.replace(".", "_"): str(random.randint(1, 5)) for c in CODES}  # noqa: S311
    form["csrf_token"] = csrf
    return form


# --- plain HTTP on loopback ------------------------------------------------------------------

def http_request(port: int, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None, timeout: float = 30.0
                 ) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection. Raises OSError / http.client errors when the
    connection is refused or dropped."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def post_kiosk(port: int, credential: str, payload: dict, timeout: float = 30.0
               ) -> tuple[int, dict[str, str], bytes]:
    return http_request(port, "POST", "/api/v1/responses", json.dumps(payload).encode(),
                        {"Authorization": f"Bearer {credential}",
                         "Content-Type": "application/json"}, timeout)


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def open_form(port: int, token: str, timeout: float = 30.0) -> tuple[int, str, str]:
    """GET the phone form: (status, session cookie, CSRF token) — cookie and token are ''
    unless the status is 200."""
    status, headers, body = http_request(port, "GET", f"/s/{token}", timeout=timeout)
    if status != 200:
        return status, "", ""
    cookie = headers.get("set-cookie", "").split(";", 1)[0]
    match = _CSRF.search(body.decode("utf-8"))
    return status, cookie, match.group(1) if match else ""


def post_form(port: int, token: str, cookie: str, csrf: str, timeout: float = 30.0
              ) -> tuple[int, dict[str, str], bytes]:
    return http_request(port, "POST", f"/s/{token}",
                        urllib.parse.urlencode(qr_form(csrf)).encode(),
                        {"Content-Type": "application/x-www-form-urlencoded",
                         "Cookie": cookie}, timeout)


# --- the load ------------------------------------------------------------------------------

@dataclass
class LoadResult:
    kiosk_acked: set[str] = field(default_factory=set)     # ids answered 201/200
    kiosk_created: int = 0                                 # 201s
    kiosk_pending: set[str] = field(default_factory=set)   # never acknowledged
    qr_acked: set[str] = field(default_factory=set)        # tokens answered 302
    qr_late: set[str] = field(default_factory=set)         # 409 on a retry: stored earlier
    qr_pending: set[str] = field(default_factory=set)
    statuses: Counter = field(default_factory=Counter)     # every HTTP status seen
    dropped: int = 0                                       # connection errors
    latencies: list[float] = field(default_factory=list)   # acknowledged kiosk posts, s
    errors: list[str] = field(default_factory=list)        # unexpected answers
    timeline: list[tuple[float, int | None]] = field(default_factory=list)  # (s, status)
    duration: float = 0.0

    @property
    def server_errors(self) -> Counter:
        return Counter({s: n for s, n in self.statuses.items() if s >= 500})


def run_load(servers: Sequence[GunicornServer], seeded: Seeded, *, clients: int,
             qr_clients: int, seconds: float, grace: float = 60.0,
             during: Callable[[float], None] | None = None, retry_pause: float = 0.2
             ) -> LoadResult:
    """Drive ``clients`` kiosk clients and ``qr_clients`` phone clients (round-robin over
    ``servers``) for ``seconds``; then let clients that still hold an unacknowledged
    submission retry it for up to ``grace`` seconds. ``during(elapsed)`` runs in the main
    thread about every 0.1 s (fault injection)."""
    result = LoadResult()
    lock = threading.Lock()
    start = time.monotonic()
    stop_new = start + seconds
    hard_stop = stop_new + grace
    tokens = list(seeded.tokens)
    ports = [s.port for s in servers]

    def note(status: int | None) -> None:
        with lock:
            result.timeline.append((time.monotonic() - start, status))
            if status is None:
                result.dropped += 1
            else:
                result.statuses[status] += 1

    def kiosk_client(n: int) -> None:
        cred = seeded.credentials[n % len(seeded.credentials)]
        i = n
        while time.monotonic() < stop_new:
            payload = kiosk_body()
            uid = payload["id"]
            while True:
                port = ports[i % len(ports)]
                i += 1
                t0 = time.monotonic()
                try:
                    status, _h, body = post_kiosk(port, cred, payload)
                except (OSError, http.client.HTTPException):
                    status = None
                note(status)
                if status in (200, 201):
                    with lock:
                        result.kiosk_acked.add(uid)
                        result.kiosk_created += status == 201
                        result.latencies.append(time.monotonic() - t0)
                    break
                if status not in (None, 503, 429):
                    with lock:
                        result.errors.append(f"kiosk {status}: {body[:200]!r}")
                    break
                if time.monotonic() > hard_stop:
                    with lock:
                        result.kiosk_pending.add(uid)
                    return
                time.sleep(retry_pause)

    def qr_client(n: int) -> None:
        i = n
        while time.monotonic() < stop_new:
            with lock:
                if not tokens:
                    return
                token = tokens.pop()
            tried = False
            while True:
                port = ports[i % len(ports)]
                i += 1
                try:
                    status, cookie, csrf = open_form(port, token)
                    note(status)
                    if status == 200:
                        status, _h, body = post_form(port, token, cookie, csrf)
                        note(status)
                    else:
                        body = b""
                except (OSError, http.client.HTTPException):
                    note(None)
                    status = None
                if status == 302:
                    with lock:
                        result.qr_acked.add(token)
                    break
                if status == 409 and tried:
                    with lock:
                        result.qr_late.add(token)
                    break
                if status not in (None, 503):
                    with lock:
                        result.errors.append(f"qr {status}: {body[:200]!r}")
                    break
                tried = True
                if time.monotonic() > hard_stop:
                    with lock:
                        result.qr_pending.add(token)
                    return
                time.sleep(retry_pause)

    threads = [threading.Thread(target=kiosk_client, args=(n,), daemon=True)
               for n in range(clients)]
    threads += [threading.Thread(target=qr_client, args=(n,), daemon=True)
                for n in range(qr_clients)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if during is not None:
            during(time.monotonic() - start)
        time.sleep(0.1)
        if time.monotonic() > hard_stop + 60:
            result.errors.append("clients did not finish")
            break
    result.duration = time.monotonic() - start
    return result


def submission_key(uid: str) -> str:
    """How the server records a kiosk submission id it acknowledged (a digest, see
    core.services.mixing.claim_submission_key)."""
    return hashlib.sha256(uid.encode("ascii")).hexdigest()


def stored_state(url: str) -> dict:
    """Release every pending answer (``flask responses mix --include-today --min-batch 1``),
    then what the database holds: the kiosk submission ids acknowledged (as digests), used
    receipt ids, released responses per channel, answers still pending, and the mix's
    output."""
    from core.models import PendingAnswer, ReceiptUse, Response, SubmissionKey

    app = seed_app(url)
    with app.app_context():
        mixed = app.test_cli_runner().invoke(
            args=["responses", "mix", "--include-today", "--min-batch", "1"])
        keys = set(db.session.scalars(sa.select(SubmissionKey.key_hash)))
        used = set(db.session.scalars(sa.select(ReceiptUse.receipt_id)))
        channels = dict(db.session.execute(
            sa.select(Response.channel, sa.func.count()).group_by(Response.channel)).all())
        pending = db.session.scalar(sa.select(sa.func.count()).select_from(PendingAnswer))
        db.session.remove()
        db.engine.dispose()
    return {"kiosk_keys": keys, "used_receipts": used, "channels": channels,
            "pending": pending, "mix_output": mixed.output, "mix_exit": mixed.exit_code}


def rebuild_changes(url: str) -> tuple[int, str]:
    """Run ``flask tallies rebuild`` on ``url``: (changed rows it reports, its output)."""
    app = seed_app(url)
    with app.app_context():
        out = app.test_cli_runner().invoke(args=["tallies", "rebuild"]).output
        db.session.remove()
        db.engine.dispose()
    numbers = re.findall(r"\d+", out)
    return (int(numbers[0]) if numbers else -1), out
