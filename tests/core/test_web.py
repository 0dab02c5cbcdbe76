"""Home page, language, error pages (HTML for people, JSON under /api/)."""

import base64

import pytest

from core import ConfigError, create_app


def test_home_page_is_vietnamese_by_default(client):
    resp = client.get("/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert '<html lang="vi">' in html
    assert "Sự hài lòng của người dân về dịch vụ hành chính" in html
    for area in ("/kiosk/", "/survey/", "/admin/"):
        assert f'href="{area}' in html


def test_language_switch_sets_a_cookie_and_english_follows(client):
    resp = client.get("/lang/en?next=/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html and "Citizen satisfaction" in html
    client.get("/lang/vi")
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_language_switch_refuses_offsite_redirects(client):
    resp = client.get("/lang/en?next=//evil.example/")
    assert resp.headers["Location"] == "/"


def test_unknown_page_is_a_friendly_vietnamese_404(client):
    resp = client.get("/khong-co")
    assert resp.status_code == 404
    html = resp.get_data(as_text=True)
    assert "Không tìm thấy trang" in html and "Về trang chủ" in html


def test_api_errors_are_json(client):
    resp = client.get("/api/v1/khong-co")
    assert resp.status_code == 404
    assert resp.is_json and resp.json["error"] == "not_found"
    assert resp.json["message"].startswith("Trang")


def test_unexpected_error_is_500_page_without_details(make_app):
    app = make_app()

    @app.get("/api/boom")
    def boom():
        raise RuntimeError("secret detail")

    @app.get("/boom")
    def boom_page():
        raise RuntimeError("secret detail")

    client = app.test_client()
    resp = client.get("/api/boom")
    assert resp.status_code == 500 and resp.json["error"] == "server_error"
    assert "secret" not in resp.get_data(as_text=True)
    page = client.get("/boom")
    assert page.status_code == 500 and "Đã xảy ra lỗi" in page.get_data(as_text=True)


def test_openapi_document_is_served(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.") and "Error" in doc["components"]["schemas"]


def test_production_refuses_to_start_without_a_real_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/p.sqlite3")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"ENV": "production"})
    with pytest.raises(ConfigError, match="development default"):
        create_app({"ENV": "production", "SECRET_KEY": "dev-only-not-secret"})
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-from-the-environment")
    monkeypatch.setenv("SIPAS_RECEIPT_KEYS", "k1:" + base64.b64encode(b"r" * 32).decode())
    app = create_app({"ENV": "production", "SINGLE_PROCESS": True})
    assert app.config["SECRET_KEY"] == "a-real-secret-from-the-environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("/p.sqlite3")


def test_database_url_forms_are_normalised(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h:5432/db")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h:5432/db"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    from core.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_reads_do_not_take_the_write_lock(make_app, backend):
    """A GET must not queue behind a writer on SQLite; a POST takes the lock up front."""
    import sqlite3

    if backend != "sqlite":
        pytest.skip("SQLite only")
    app = make_app()
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    writer = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    writer.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        client = app.test_client()
        assert client.get("/api/v1/openapi.json").status_code == 200
        from core.db_setup import read_only_transactions
        from core.extensions import db
        from core.models import Office

        with app.app_context(), read_only_transactions():
            assert db.session.query(Office).count() == 0
            db.session.rollback()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_sqlite_transactions_are_deferred_for_get_and_head_only(make_app, backend):
    """GET and HEAD begin a deferred transaction; POST, and work outside any request (the
    CLI), take the write lock up front; the switch never outlives its request."""
    import sqlalchemy as sa

    from core import db_setup
    from core.extensions import db

    if backend != "sqlite":
        pytest.skip("SQLite only")
    app = make_app()

    def probe():
        db.session.execute(sa.text("SELECT 1"))
        return "ok"

    app.add_url_rule("/_probe", "probe", probe, methods=["GET", "HEAD", "POST"])
    begun: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(_conn, _cursor, statement, *_args):
        if statement.startswith("BEGIN"):
            begun.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        client = app.test_client()
        for method, expected in (("GET", "BEGIN"), ("HEAD", "BEGIN"),
                                 ("POST", "BEGIN IMMEDIATE"), ("GET", "BEGIN")):
            begun.clear()
            assert client.open("/_probe", method=method).status_code == 200
            assert begun == [expected], method
            assert db_setup.read_only() is False  # this thread serves the next request
        begun.clear()
        with app.app_context():
            db.session.execute(sa.text("SELECT 1"))
            db.session.rollback()
        assert begun == ["BEGIN IMMEDIATE"]
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_control_characters_in_an_office_code_are_a_404_not_a_server_error(client, offices):
    from core.errors import NotFound
    from core.services.offices import get_office

    with pytest.raises(NotFound):
        get_office("HN\x00")
    resp = client.get("/o/HN%00")
    assert resp.status_code == 404


def test_a_value_the_database_refuses_is_a_400(make_app, backend):
    """PostgreSQL refuses NUL characters in text; whatever lets one through answers 400."""
    import sqlalchemy as sa

    from core.extensions import db

    app = make_app()

    @app.post("/api/nul")
    def nul():
        db.session.execute(sa.text("SELECT CAST(:v AS VARCHAR)"), {"v": "a\x00b"})
        if db.engine.dialect.name == "sqlite":  # SQLite stores NUL; emulate the refusal
            from sqlalchemy.exc import DataError

            raise DataError("SELECT", {}, ValueError("NUL"))
        return {"ok": True}

    resp = app.test_client().post("/api/nul")
    assert resp.status_code == 400 and resp.json["error"] == "invalid_data"
