"""What production refuses at start-up besides a missing secret: rate limits that each
process would count alone, and published demo sign-ins; and `flask demo-data` refuses to run
there at all."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core import REPO_ROOT, ConfigError, create_app
from core.extensions import db
from tools.servers import TEST_RECEIPT_KEYS

SECRET = "a-production-secret-of-forty-characters!!"


@pytest.fixture
def prod_env(monkeypatch, tmp_path):
    """A production environment on an empty SQLite file: every test sets the rest."""
    for name in list(os.environ):
        if name.startswith("SIPAS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SIPAS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("SIPAS_RECEIPT_KEYS", TEST_RECEIPT_KEYS)
    url = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_memory_rate_limits_need_the_single_process_setting(prod_env, monkeypatch):
    """Attack: behind 3 gunicorn workers each worker counted alone (11 wrong passwords were
    checked before the first 429; 3 kiosk answers in one second against one per 5 s)."""
    with pytest.raises(ConfigError) as refused:
        create_app()
    message = str(refused.value)
    assert "SIPAS_RATELIMIT_STORAGE_URI=redis://" in message
    assert "SIPAS_SINGLE_PROCESS=1" in message and "WEB_CONCURRENCY=1" in message
    monkeypatch.setenv("SIPAS_SINGLE_PROCESS", "1")
    assert create_app().config["RATELIMIT_STORAGE_URI"] == "memory://"
    # gunicorn.conf.py tells the app how many workers serve it
    monkeypatch.setenv("SIPAS_SERVER_WORKERS", "3")
    with pytest.raises(ConfigError, match="3 gunicorn workers"):
        create_app()
    monkeypatch.setenv("SIPAS_SERVER_WORKERS", "1")
    create_app()


def test_a_shared_store_needs_no_single_process_setting(prod_env, monkeypatch):
    monkeypatch.setenv("SIPAS_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/5")
    monkeypatch.setenv("SIPAS_SERVER_WORKERS", "3")
    assert create_app().config["ENV"] == "production"


def _with_demo_accounts(url: str) -> None:
    from core.services.common import get_instrument
    from core.services.demo import load_demo, load_demo_extras

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ENV": "development",
                      "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})
    with app.app_context():
        db.create_all()
        instrument = get_instrument("hanoi-2022")
        load_demo(instrument, months=1)
        load_demo_extras(instrument)
        db.session.remove()
        db.engine.dispose()


def test_production_refuses_to_start_while_a_demo_account_exists(prod_env, monkeypatch):
    """Attack: a database first filled with `flask demo-data` goes live; the README publishes
    admin / demo-sipas-2026."""
    monkeypatch.setenv("SIPAS_SINGLE_PROCESS", "1")
    _with_demo_accounts(prod_env)
    with pytest.raises(ConfigError) as refused:
        create_app()
    message = str(refused.value)
    assert "admin" in message and "truong-cn1" in message
    assert "flask users remove-demo" in message
    # the flask command line still starts in production, so that the remedy can run
    env = {**os.environ, "FLASK_APP": "wsgi:app"}
    done = subprocess.run([sys.executable, "-m", "flask", "users", "remove-demo"], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "admin" in done.stdout and "truong-cn1" in done.stdout
    app = create_app()
    with app.app_context():
        from core.services.accounts import list_users

        assert list_users() == []


def test_an_account_named_like_a_demo_one_with_its_own_password_is_no_demo(prod_env,
                                                                          monkeypatch):
    monkeypatch.setenv("SIPAS_SINGLE_PROCESS", "1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": prod_env, "ENV": "development",
                      "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})
    with app.app_context():
        from core.services.accounts import create_user

        db.create_all()
        create_user("admin", "admin", None, "Hoan-Kiem-lake-1", actor="t")
        db.engine.dispose()
    create_app()


def test_flask_demo_data_refuses_to_run_in_production(prod_env, monkeypatch):
    monkeypatch.setenv("SIPAS_SINGLE_PROCESS", "1")
    app = create_app()
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["demo-data"])
        assert result.exit_code == 1
        assert result.output.startswith("Lỗi: ") and "SIPAS_ENV=production" in result.output
        from core.services.demo import database_is_empty

        assert database_is_empty()
