"""Unbound extensions, wired to the app in :func:`core.create_app`."""

from typing import Any

import click
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from core.models.base import Base


class LazyMigrate:
    """Flask-Migrate, imported (with alembic: a fifth of a second) only when a migration
    command or function runs, not by every command and worker start-up. ``flask db …`` and
    ``flask_migrate.upgrade()`` work as with ``Migrate().init_app(app, db, **options)``."""

    def init_app(self, app: Any, db: Any, **options: Any) -> None:
        app.extensions["migrate"] = _LazyMigrateConfig(app, db, options)
        app.cli.add_command(_LazyDbGroup("db", help="Perform database migrations."))


class _LazyMigrateConfig:
    def __init__(self, app: Any, db: Any, options: dict[str, Any]) -> None:
        self._args = (app, db, options)

    def __getattr__(self, name: str) -> Any:
        from flask_migrate import Migrate

        app, db, options = self._args
        Migrate().init_app(app, db, **options)  # replaces this stand-in
        return getattr(app.extensions["migrate"], name)


class _LazyDbGroup(click.Group):
    @staticmethod
    def _real() -> click.Group:
        from flask_migrate.cli import db as db_group

        return db_group

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._real().get_command(ctx, name)

    # the real group's options (-d/--directory, -x) and its callback, which sets them up
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return self._real().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        return self._real().invoke(ctx)

    def get_help(self, ctx: click.Context) -> str:
        return self._real().get_help(ctx)


db = SQLAlchemy(model_class=Base)
migrate = LazyMigrate()
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
