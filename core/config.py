"""Configuration: these defaults, then ``instance/config.py``, then environment variables,
then the test mapping given to :func:`core.create_app`.

Environment variables: ``DATABASE_URL``, ``SECRET_KEY``, ``SIPAS_ENV`` (production,
development or testing; production when unset) and any ``SIPAS_<KEY>`` for the keys below
(values are parsed as JSON when they can be, e.g. ``SIPAS_MIN_SAMPLE=50``).
"""

from __future__ import annotations

from pathlib import Path

DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused outside development/testing


class Defaults:
    ENV = "production"
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = None  # default: sqlite file in the instance folder
    # explicit engine options; core.db_setup.engine_options chooses the rest per database
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # i18n
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).resolve().parent.parent / "translations")
    # the questionnaire
    INSTRUMENT_DIRS: tuple[str, ...] = ()  # extra folders of instrument files
    DEFAULT_INSTRUMENT = "hanoi-2022"
    # what a citizen may write (every channel: kiosk, phone, paper; forms and the kiosk
    # script read it from the page)
    COMMENT_MAX_LENGTH = 2000  # characters of a free-text comment
    # personal data in comments (core/personal_data.py): phone numbers, ID numbers, e-mail
    # addresses and dossier codes are replaced by "[đã ẩn]" before a comment is stored, on
    # every channel (paper too); False keeps comments as written (a city's decision)
    MASK_COMMENTS = True
    # retention (core/services/retention.py, `flask retention apply`), in days; None keeps for
    # ever. Defaults for the city's legal staff to confirm
    RETENTION_COMMENT_DAYS = 365  # comment text on answers (and its handling), from its day
    RETENTION_CONTACT_DAYS = 30  # a contact request (comment + contact), after it is closed
    RETENTION_CONTACT_MAX_DAYS = 180  # any contact request, closed or not, from its day
    RETENTION_AUDIT_DAYS = 365  # audit log events (user names, client addresses), from their time
    # paper imports: answers dated before this day (Vietnam time) or in the future are refused
    IMPORT_EARLIEST = "2015-01-01"
    # where browser uploads of paper files wait for their preview to be confirmed (default:
    # the instance folder's paper-uploads; core/services/paper_uploads.py)
    PAPER_UPLOAD_DIR = None
    # what citizens are told about their personal data (core/privacy.py, /quyen-rieng-tu;
    # Law on Personal Data Protection 91/2025/QH15)
    PRIVACY_CONTROLLER = None  # who is responsible for the data, e.g. "UBND thành phố Hà Nội";
    # None: the notice names the office whose one-stop desk served the citizen
    PRIVACY_CONTACT = None  # where citizens exercise their rights (address, phone, e-mail);
    # None: the notice sends them to that office's one-stop desk
    # an HTML fragment replacing the full notice's built-in text; "{locale}" in the path gives
    # one file per language (the default language's file must exist); relative to instance/
    PRIVACY_NOTICE_FILE = None
    # reporting
    MIN_SAMPLE = 30  # fewer answers than this: the figure is marked as resting on too few
    # finished period reports kept per worker process until the figures under them change
    # (core/services/report_cache.py); 0 turns the cache off
    REPORT_CACHE_SIZE = 512
    # report PDFs kept per worker process likewise (about 100 kB each); 0 turns it off
    PDF_CACHE_SIZE = 32
    PRIORITY_MIN_RESPONDENTS = 100  # "what to fix first" needs at least this many respondents
    PEER_MIN_OFFICES = 5  # peers' median and rank need this many peers with enough answers
    # sign-in to the results area (admin/)
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - werkzeug scrypt (n=2**15, r=8, p=1)
    # failed sign-ins (core/services/signin_throttle.py): per client address whatever the
    # account; per account from one address; per account from every address (a slower
    # backstop that administrators can unlock)
    SIGNIN_LIMIT_CLIENT = "20/15minute"
    SIGNIN_LIMIT_ACCOUNT_CLIENT = "5/15minute"
    SIGNIN_LIMIT_ACCOUNT = "30/hour"
    # a signed-in session unused this long ends (server-side sessions, core/services/sessions.py)
    SESSION_IDLE_HOURS = 12
    REPORT_PLACE = "Hà Nội"  # place written in the date line of PDF reports
    # receipt links and the QR survey (survey/)
    RECEIPT_VALIDITY_DAYS = 30  # a receipt's link can be answered for this many days
    # keys that sign receipt links and key the dossier-code HMAC, apart from SECRET_KEY:
    # "<id>:<base64 secret>,…", newest first (core/receipt_keys.py). Required in production;
    # elsewhere the default is one key derived from SECRET_KEY
    RECEIPT_KEYS = None
    RECEIPT_HASH_KEY = None  # retired (the ring keys the dossier HMAC): refused when set
    PUBLIC_BASE_URL = None  # e.g. "https://sipas.hanoi.gov.vn"; default: the request's host
    QR_ERROR_CORRECTION = "Q"  # L, M, Q or H; Q survives smudged or faded thermal paper
    GENERIC_RATE_LIMIT = "5/hour"  # answers per client and office through the generic link
    GENERIC_FORM_MAX_AGE = 4 * 3600  # seconds a generic-link form stays valid
    # public pages (public_site/): follow-up codes, published replies, public results
    FOLLOWUP_RATE_LIMIT = "20/hour"  # /phan-hoi/<code> look-ups per client address
    PUBLIC_CACHE_SECONDS = 300  # public results and boards: server cache and max-age
    KIOSK_FOLLOWUP_SECONDS = 30  # how long the kiosk's thank-you stays when it shows a code
    # cookies (admin/ turns SESSION_COOKIE_SECURE on when PREFERRED_URL_SCHEME is "https",
    # and gives the remember-me cookie the session cookie's Secure and SameSite)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    PREFERRED_URL_SCHEME = "http"
    # production operations (core/http.py, core/ops.py, core/db_setup.py; docs/deploy.md)
    PROXY_FIX = 0  # how many reverse proxies to trust for X-Forwarded-*; 0 = none
    ACCESS_LOG = True  # one JSON line per request on stdout
    # logged as /s/<token>, /phan-hoi/<token>
    LOG_REDACTED_ROUTE_ARGS: tuple[str, ...] = ("token",)
    REFERRER_POLICY = "strict-origin-when-cross-origin"
    # scripts and styles only from this site; templates carry no inline code
    CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
                               "object-src 'none'; base-uri 'self'; form-action 'self'; "
                               "frame-ancestors 'none'")
    HSTS_MAX_AGE = 31536000  # sent only on HTTPS requests; 0 = never
    JSON_MAX_DEPTH = 32  # deeper JSON bodies under /api/ are refused with 400
    METRICS_ENABLED = False  # serve /metrics at all
    METRICS_ALLOWED: tuple[str, ...] = ("127.0.0.0/8", "::1/128")  # who may read /metrics
    DB_RETRY_AFTER = 5  # seconds, in the Retry-After of a 503 when the database is down
    # store of the rate limits (core/ratelimit.py): one process's memory by default; a Redis
    # URI (redis://127.0.0.1:6379/0) when several app processes must share their limits
    RATELIMIT_STORAGE_URI = "memory://"
    # production refuses memory:// unless the app runs as one process: SINGLE_PROCESS = 1 and
    # one gunicorn worker (gunicorn.conf.py tells the app how many as SERVER_WORKERS)
    SINGLE_PROCESS = False
    SERVER_WORKERS: int | None = None
    # PostgreSQL only: pool per process, timeouts (see core/db_setup.py)
    DB_POOL_SIZE = 5
    DB_MAX_OVERFLOW = 10
    DB_POOL_TIMEOUT = 10  # seconds to wait for a free connection before a 503
    DB_POOL_RECYCLE = 1800
    DB_CONNECT_TIMEOUT = 5
    DB_STATEMENT_TIMEOUT_MS = 30000
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60000
    # e-mail alerts (core/services/alerts.py, `flask alerts send` from cron): nothing is sent
    # while MAIL_URL is unset; smtp://user:password@host:587?starttls=1&from=... or smtps://
    MAIL_URL = None
    MAIL_FROM = "sipas@localhost"  # sender unless MAIL_URL has ?from=
    ALERT_DIGEST_DAYS = 3  # a released office-day's digest is sent at most this many days late
    ALERT_OFFLINE_MINUTES = 30  # a tablet silent this long during opening hours is reported
    # opening hours (Vietnam time) until offices have their own (alerts.set_opening_hours)
    ALERT_OPENING_HOURS = "07:30-11:30,13:30-17:00"
    ALERT_OPENING_DAYS: tuple[int, ...] = (0, 1, 2, 3, 4)  # 0 = Monday
    # the mixing stage (core/services/mixing.py, `flask responses mix`)
    MIX_MIN_BATCH = 5  # an office-day is released with at least this many answers
    SUBMISSION_KEY_DAYS = 31  # a kiosk's re-sent copy is recognised this long (digest only)
    # Partial responses (a kiosk questionnaire left before the end) enter the figures only when
    # this is on (SIPAS_COUNT_PARTIAL=true; then run `flask tallies rebuild`): people who
    # leave are not a random sample, and dimension V always comes last.
    COUNT_PARTIAL = False
    # kiosk tablets (kiosk/)
    KIOSK_IDLE_SECONDS = 60  # default per kiosk: idle time before a reset (finished parts: partial)
    KIOSK_THANKS_SECONDS = 8  # how long the thank-you screen stays
    KIOSK_MIN_SECONDS_BETWEEN = 5  # per-kiosk rate limit: one new submission per N s (0 = off)
    KIOSK_CLOCK_WINDOW_DAYS = 7  # client submitted_at older than this: server time + "clock" flag
    KIOSK_CLOCK_SKEW_SECONDS = 300  # client clocks may run this far ahead of the server
    KIOSK_BURST_COUNT = 4  # this many identical answer patterns in a row from one kiosk...
    KIOSK_BURST_WINDOW_SECONDS = 300  # ...within this time: held back (counted=False, "burst")
    KIOSK_ACTIVATION_DAYS = 7  # an activation code expires after this many days
    KIOSK_HEARTBEAT_SECONDS = 60
    KIOSK_RETRY_SECONDS = 15  # the tablet retries its offline queue at least this often
    KIOSK_MAX_BODY = 32 * 1024  # bytes; larger POST /api/v1/responses bodies get 413
    KIOSK_NOJS_RESET_SECONDS = 900  # without JavaScript the kiosk form reloads after this
