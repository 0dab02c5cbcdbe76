"""The SIPAS survey app: application factory."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask

from core.config import DEV_SECRET_KEY, Defaults

REPO_ROOT = Path(__file__).resolve().parent.parent


MIN_SECRET_LENGTH = 24


class ConfigError(RuntimeError):
    """The configuration cannot run safely (e.g. no SECRET_KEY in production)."""


def _load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("SIPAS")
    for env_name, key in (("DATABASE_URL", "SQLALCHEMY_DATABASE_URI"),
                          ("SECRET_KEY", "SECRET_KEY"), ("SIPAS_ENV", "ENV")):
        if os.environ.get(env_name):
            app.config[key] = os.environ[env_name]
    if test_config:
        app.config.from_mapping(test_config)
        if "ENV" not in test_config:
            app.config["ENV"] = "testing"

    env = app.config["ENV"]
    if env not in ("production", "development", "testing"):
        raise ConfigError(f"SIPAS_ENV must be production, development or testing, not {env!r}")
    app.testing = env == "testing" or app.testing
    if not app.config.get("SECRET_KEY"):
        if env == "production":
            raise ConfigError(
                "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
                "value (e.g. python -c 'import secrets; print(secrets.token_hex(32))'), or set "
                "SIPAS_ENV=development on a developer machine.")
        app.config["SECRET_KEY"] = DEV_SECRET_KEY
    elif env == "production" and app.config["SECRET_KEY"] == DEV_SECRET_KEY:
        raise ConfigError("SECRET_KEY is the development default; set a real secret in production.")
    elif env == "production" and len(str(app.config["SECRET_KEY"])) < MIN_SECRET_LENGTH:
        raise ConfigError(f"SECRET_KEY is too short for production: use at least "
                          f"{MIN_SECRET_LENGTH} random characters.")
    if env == "production":
        _check_shared_limits(app.config)

    try:
        date.fromisoformat(str(app.config["IMPORT_EARLIEST"]))
    except ValueError:
        raise ConfigError(f"SIPAS_IMPORT_EARLIEST must be a date (YYYY-MM-DD), not "
                          f"{app.config['IMPORT_EARLIEST']!r}.") from None

    _check_receipt_keys(app.config, env)
    from core.privacy import check_notice_file

    check_notice_file(app.config, app.instance_path)

    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{Path(app.instance_path) / 'sipas.sqlite3'}"
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://"):]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri


def _check_shared_limits(config: Any) -> None:
    """Production: rate limits (sign-in, kiosks, generic links) kept in one process's memory
    are only right when there is one process. Raises ConfigError otherwise."""
    if not str(config["RATELIMIT_STORAGE_URI"]).startswith("memory://"):
        return
    if not config.get("SINGLE_PROCESS"):
        raise ConfigError(
            "SIPAS_RATELIMIT_STORAGE_URI is memory://, so each worker process would count rate "
            "limits (failed sign-ins, kiosk answers) alone. Set "
            "SIPAS_RATELIMIT_STORAGE_URI=redis://HOST:6379/0 to share them between processes, "
            "or run a single process: SIPAS_SINGLE_PROCESS=1 with one gunicorn worker "
            "(WEB_CONCURRENCY=1).")
    workers = int(config.get("SERVER_WORKERS") or 1)
    if workers > 1:
        raise ConfigError(
            f"SIPAS_SINGLE_PROCESS=1 but {workers} gunicorn workers are starting, each counting "
            "rate limits alone. Set WEB_CONCURRENCY=1, or set "
            "SIPAS_RATELIMIT_STORAGE_URI=redis://HOST:6379/0 to run several workers.")


def _in_flask_command() -> bool:
    """True while a ``flask`` command loads the app (click is running it)."""
    import click

    return click.get_current_context(silent=True) is not None


def _refuse_demo_accounts(app: Flask) -> None:
    """Production: no account may still sign in with the published demo password. Raises
    ConfigError naming them. A database that cannot be read yet (down, not migrated) is
    logged and left to the readiness check."""
    from sqlalchemy.exc import SQLAlchemyError

    from core.db_setup import read_only_transactions
    from core.extensions import db
    from core.services.demo import demo_accounts

    with app.app_context(), read_only_transactions():
        try:
            names = [u.username for u in demo_accounts()]
        except SQLAlchemyError as exc:
            app.logger.warning("demo accounts not checked at start-up: database unavailable",
                               extra={"fields": {"error": type(exc).__name__}})
            names = []
        finally:
            db.session.remove()
    if names:
        raise ConfigError(
            f"Demo accounts with the published password exist ({', '.join(names)}); "
            "production does not start with them. Remove them with: flask users remove-demo")
def _check_receipt_keys(config: dict[str, Any], env: str) -> None:
    """``RECEIPT_KEYS`` must be set in production, well-formed everywhere (see
    core/receipt_keys.py). Raises ConfigError, never showing a secret."""
    from core.receipt_keys import parse_ring

    if config.get("RECEIPT_HASH_KEY"):
        raise ConfigError("RECEIPT_HASH_KEY is no longer read: the dossier-code HMAC is keyed "
                          "by the receipt key ring, SIPAS_RECEIPT_KEYS (see docs/deploy.md).")
    value = config.get("RECEIPT_KEYS")
    if not value:
        if env == "production":
            raise ConfigError(
                "SIPAS_RECEIPT_KEYS is not set. Receipt links have keys of their own, apart "
                "from SECRET_KEY: set SIPAS_RECEIPT_KEYS=k1:<base64 of 32 random bytes> (a "
                "new installation), or k1:<new key>,legacy:<base64 of the current "
                "SECRET_KEY> so that receipts printed before keep working. See docs/deploy.md "
                "(Receipt keys), or set SIPAS_ENV=development on a developer machine.")
        return
    try:
        ring = parse_ring(value)
    except ValueError as exc:
        raise ConfigError(f"SIPAS_RECEIPT_KEYS is not valid: {exc}.") from None
    short = [key.id for key in ring if len(key.secret) < MIN_SECRET_LENGTH]
    if env == "production" and short:
        raise ConfigError(f"SIPAS_RECEIPT_KEYS: the secret of key {short[0]!r} is too short "
                          f"for production: use at least {MIN_SECRET_LENGTH} random bytes.")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Raises ConfigError when the configuration is unsafe."""
    from core.request import Request

    app = Flask(__name__, instance_path=str(REPO_ROOT / "instance"))
    app.request_class = Request
    _load_config(app, test_config)

    from core import db_setup, http, http_errors, i18n, logs, ratelimit
    from core.extensions import csrf, db, migrate
    from core.instrument import BUILTIN_DIR, InstrumentRegistry

    logs.init_app(app)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = db_setup.engine_options(app.config)
    http.init_app(app)
    db.init_app(app)
    http.init_session_teardown(app)
    migrate.init_app(app, db, directory=str(REPO_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    i18n.init_app(app)
    ratelimit.init_app(app)
    app.extensions["sipas_instruments"] = InstrumentRegistry(
        [BUILTIN_DIR, *map(Path, app.config["INSTRUMENT_DIRS"])])

    # every blueprint, CLI command and OpenAPI fragment is registered here, one area at a time
    import admin
    import kiosk
    import survey

    _init_shared(app)
    kiosk.init_app(app)
    survey.init_app(app)
    admin.init_app(app)
    http_errors.init_app(app)
    # a flask command still starts, so that `flask users remove-demo` can run
    if app.config["ENV"] == "production" and not _in_flask_command():
        _refuse_demo_accounts(app)
    return app


def _init_shared(app: Flask) -> None:
    """What belongs to no area: the home page and language switch, the operators' endpoints
    (``/healthz``, ``/readyz``, ``/metrics``), ``/api/v1/openapi.json`` and the shared
    commands (offices, responses, tallies, report, demo-data, backup)."""
    from core import api, cli, ops, web

    app.register_blueprint(web.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(api.bp)
    # the package is not called "public": aiosmtpd's dependency atpublic owns that module name
    import public_site

    app.register_blueprint(public_site.bp)  # /phan-hoi/, /ket-qua/ (no sign-in)
    cli.init_app(app)
