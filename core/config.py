"""Configuration: these defaults, then ``instance/config.py``, then environment variables,
then the test mapping given to :func:`core.create_app`.

Environment variables: ``DATABASE_URL``, ``SECRET_KEY``, ``SIPAS_ENV`` (production,
development or testing; production when unset) and any ``SIPAS_<KEY>`` for the keys below
(values are parsed as JSON when they can be, e.g. ``SIPAS_MIN_SAMPLE=50``).
"""

from __future__ import annotations

DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused outside development/testing


class Defaults:
    ENV = "production"
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = None  # default: sqlite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # i18n
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    # the questionnaire
    INSTRUMENT_DIRS: tuple[str, ...] = ()  # extra folders of instrument files
    DEFAULT_INSTRUMENT = "hanoi-2022"
    # reporting
    MIN_SAMPLE = 30  # fewer answers than this: the figure is marked as resting on too few
    # sign-in to the results area (admin/)
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - werkzeug scrypt (n=2**15, r=8, p=1)
    SIGNIN_LIMIT_ACCOUNT = "5/15minute"  # failed attempts per account
    SIGNIN_LIMIT_CLIENT = "20/15minute"  # failed attempts per client address
    REPORT_PLACE = "Hà Nội"  # place written in the date line of PDF reports
    # cookies (SESSION_COOKIE_SECURE is turned on when PREFERRED_URL_SCHEME is "https")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = "http"
