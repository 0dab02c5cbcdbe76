"""Wiring in one place: ``create_app`` calls one ``init_app`` per area, which registers the
area's blueprints, commands and OpenAPI fragment; defaults live only in ``core/config.py``;
services and the database setup never read the request. Checked by parsing the source, and
by looking at what a fresh app holds."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from flask import Blueprint

from core import create_app

REPO = Path(__file__).resolve().parents[2]
AREAS = ("kiosk", "survey", "admin")
PACKAGES = ("core", *AREAS)
#: the only functions that may register blueprints and commands on the app
WIRING_FUNCTIONS = {"init_app", "_init_shared"}


def _files(*folders: str) -> list[Path]:
    files = [p for folder in folders for p in sorted((REPO / folder).rglob("*.py"))]
    assert files
    return files


def _repo_python_files() -> list[Path]:
    skip = {".venv", "node_modules", "migrations", "instance"}
    return [p for p in sorted(REPO.rglob("*.py"))
            if not skip.intersection(p.relative_to(REPO).parts)]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"


def _calls_with_function(tree: ast.Module) -> Iterator[tuple[ast.Call, str | None]]:
    """Every call, with the name of the function it is written in (None: module level)."""

    def visit(node: ast.AST, function: str | None) -> Iterator[tuple[ast.Call, str | None]]:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) \
                else function
            if isinstance(child, ast.Call):
                yield child, function
            yield from visit(child, inner)

    yield from visit(tree, None)


def _is_config(node: ast.expr) -> bool:
    text = ast.unparse(node)
    return text == "cfg" or text.endswith("config")


def _imported_modules(tree: ast.Module) -> Iterator[tuple[ast.AST, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node, node.module
            for alias in node.names:
                yield node, f"{node.module}.{alias.name}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# --- by parsing the source -----------------------------------------------------------------

def test_no_blueprint_registers_things_from_a_record_once_hook():
    offenders = [_where(path, call) for path in _repo_python_files()
                 for call, _fn in _calls_with_function(_tree(path))
                 if isinstance(call.func, ast.Attribute)
                 and (call.func.attr == "record_once"
                      or (call.func.attr == "record" and ast.unparse(call.func.value)
                          .endswith("bp")))]
    assert offenders == []


def test_blueprints_and_commands_are_registered_on_the_app_by_an_init_app_only():
    offenders = []
    for path in _files(*PACKAGES):
        for call, function in _calls_with_function(_tree(path)):
            if not isinstance(call.func, ast.Attribute):
                continue
            target = ast.unparse(call.func.value)
            if call.func.attr == "register_blueprint" and (
                    target != "app" or function not in WIRING_FUNCTIONS):
                offenders.append(f"{_where(path, call)} {target}.register_blueprint")
            if call.func.attr == "add_command" and (
                    target != "app.cli" or function not in WIRING_FUNCTIONS):
                offenders.append(f"{_where(path, call)} {target}.add_command")
    assert offenders == []


def test_defaults_are_set_in_core_config_only():
    """No ``config.setdefault(...)`` and no ``config.get(KEY, default)`` outside config.py."""
    offenders = []
    for path in _files(*PACKAGES):
        if path == REPO / "core" / "config.py":
            continue
        for call, _fn in _calls_with_function(_tree(path)):
            func = call.func
            if not isinstance(func, ast.Attribute) or not _is_config(func.value):
                continue
            if func.attr == "setdefault" or (func.attr == "get" and len(call.args) > 1):
                offenders.append(f"{_where(path, call)} {ast.unparse(call)}")
    assert offenders == []


def test_every_setting_read_has_a_default(make_app):
    """Every ``config["KEY"]`` read in the code exists in a fresh app's configuration (from
    core/config.py, Flask or an extension), so no reader needs a fallback of its own."""
    keys: dict[str, str] = {}
    for path in _files(*PACKAGES):
        for node in ast.walk(_tree(path)):
            if (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
                    and _is_config(node.value) and isinstance(node.slice, ast.Constant)
                    and isinstance(node.slice.value, str)):
                keys.setdefault(node.slice.value, _where(path, node))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "get" and _is_config(node.func.value) and node.args
                  and isinstance(node.args[0], ast.Constant)):
                keys.setdefault(node.args[0].value, _where(path, node))
    assert "KIOSK_MAX_BODY" in keys and "CONTENT_SECURITY_POLICY" in keys
    config = make_app().config
    assert {key: where for key, where in keys.items() if key not in config} == {}


@pytest.mark.parametrize("path", [*_files("core/services"), REPO / "core" / "db_setup.py"],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_services_and_the_database_setup_never_read_the_request(path):
    forbidden = {"flask.request", "flask.has_request_context", "flask.session", "flask.g",
                 "werkzeug.wrappers.Request"}
    tree = _tree(path)
    offenders = [f"{_where(path, node)} {name}" for node, name in _imported_modules(tree)
                 if name in forbidden]
    offenders += [_where(path, node) for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and ast.unparse(node) in forbidden]
    assert offenders == []


def test_a_blueprint_never_imports_another_area():
    offenders = []
    for area in AREAS:
        others = [a for a in AREAS if a != area]
        for path in _files(area):
            for node, name in _imported_modules(_tree(path)):
                if name.split(".")[0] in others:
                    offenders.append(f"{_where(path, node)} {name}")
    # core depends on no area; only the factory (core/__init__.py) knows them all
    for path in _files("core"):
        if path == REPO / "core" / "__init__.py":
            continue
        for node, name in _imported_modules(_tree(path)):
            if name.split(".")[0] in AREAS:
                offenders.append(f"{_where(path, node)} {name}")
    assert offenders == []


# --- by looking at a fresh app -------------------------------------------------------------

def _package_objects() -> list[tuple[str, str, object]]:
    found = []
    for path in _files(*PACKAGES):
        module = importlib.import_module(_module_name(path))
        for attr, value in vars(module).items():
            if isinstance(value, Blueprint | click.Command):
                found.append((module.__name__, attr, value))
    return found


def test_create_app_registers_every_blueprint():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test-secret"})
    blueprints = {id(v): f"{m}.{a}" for m, a, v in _package_objects()
                  if isinstance(v, Blueprint)}
    assert len(blueprints) >= 9
    missing = [where for key, where in blueprints.items()
               if key not in {id(bp) for bp in app.blueprints.values()}]
    assert missing == []


def test_create_app_registers_every_command_group_and_command():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test-secret"})
    commands = {id(v): (f"{m}.{a}", v) for m, a, v in _package_objects()
                if isinstance(v, click.Command)}
    subcommands = {id(sub) for _where, cmd in commands.values()
                   if isinstance(cmd, click.Group) for sub in cmd.commands.values()}
    top_level = {key: where for key, (where, _cmd) in commands.items()
                 if key not in subcommands}
    assert len(top_level) >= 12
    registered = {id(cmd) for cmd in app.cli.commands.values()}
    assert {key: where for key, where in top_level.items() if key not in registered} == {}


def _imported_modules(tree: ast.Module) -> Iterator[tuple[ast.AST, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node, node.module


def test_benchmarks_and_tools_never_import_the_tests():
    """Helpers that bench/ and tests/ share live in tools/; tests/ is not a library."""
    offenders = [_where(path, node) for path in _files("bench", "tools")
                 for node, module in _imported_modules(_tree(path))
                 if module == "tests" or module.startswith("tests.")]
    assert offenders == []
