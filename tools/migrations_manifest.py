"""The digests of merged migrations, so that nobody edits one by accident.

    .venv/bin/python tools/migrations_manifest.py          # check; says what is wrong, exits 1
    .venv/bin/python tools/migrations_manifest.py --write  # record the files not recorded yet

`migrations/merged.sha256` holds one `<sha256>  versions/<file name>` line per migration that
has been merged, in the format of `sha256sum` (`cd migrations && sha256sum -c merged.sha256`
checks it too). A database that ran a migration never runs it again, so editing a merged
migration changes nothing on existing databases and makes new ones differ from them: a change
to the schema is always a new migration. `--write` only adds files; it never changes the digest
of a recorded file.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = REPO_ROOT / "migrations"
MANIFEST_NAME = "merged.sha256"
WRITE_COMMAND = ".venv/bin/python tools/migrations_manifest.py --write"


def migration_files(migrations: Path = MIGRATIONS) -> list[Path]:
    """The migration scripts in `versions/`, sorted by file name."""
    return sorted((migrations / "versions").glob("*.py"))


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(migrations: Path = MIGRATIONS) -> dict[str, str]:
    """File name -> sha256 hex digest, as recorded in `merged.sha256` (empty if absent).

    Raises ValueError on a line that is not `<64 hex digits>  versions/<name>`.
    """
    path = migrations / MANIFEST_NAME
    if not path.exists():
        return {}
    recorded: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name.startswith("versions/"):
            raise ValueError(f"{path}:{number}: expected '<sha256>  versions/<file name>'")
        recorded[name.removeprefix("versions/")] = digest
    return recorded


def write_manifest(recorded: dict[str, str], migrations: Path = MIGRATIONS) -> None:
    lines = [f"{digest}  versions/{name}\n" for name, digest in sorted(recorded.items())]
    (migrations / MANIFEST_NAME).write_text("".join(lines), encoding="utf-8")


def problems(migrations: Path = MIGRATIONS) -> tuple[list[str], list[str]]:
    """(changed, unrecorded): messages about recorded migrations that were edited, renamed or
    deleted, and about migration files that the manifest does not list yet."""
    recorded = read_manifest(migrations)
    files = {p.name: file_digest(p) for p in migration_files(migrations)}
    manifest = f"migrations/{MANIFEST_NAME}"
    changed = []
    for name, digest in recorded.items():
        if name not in files:
            changed.append(
                f"{name} is listed in {manifest} but is not in migrations/versions/: a merged "
                "migration is never renamed or deleted (databases have already run it); "
                "restore it.")
        elif files[name] != digest:
            changed.append(
                f"{name} differs from its digest in {manifest}: a merged migration is never "
                "edited (databases that already ran it will not run it again). Restore it "
                f"(git checkout main -- migrations/versions/{name}) and make the change in a "
                "new migration (flask db migrate -m '...'). Only if this migration was never "
                f"merged (it exists only on your branch): delete its line from {manifest} and "
                f"run {WRITE_COMMAND}.")
    unrecorded = [
        f"{name} is not listed in {manifest}: once you have read and tested the script, run "
        f"{WRITE_COMMAND} and commit the manifest with the migration."
        for name in files if name not in recorded]
    return changed, unrecorded


def record_new(migrations: Path = MIGRATIONS) -> list[str]:
    """Add the migration files not yet in the manifest; return their names.

    Raises ValueError if a recorded migration was edited, renamed or deleted: that is never
    written over.
    """
    changed, _ = problems(migrations)
    if changed:
        raise ValueError("\n".join(changed))
    recorded = read_manifest(migrations)
    new = [p for p in migration_files(migrations) if p.name not in recorded]
    recorded.update({p.name: file_digest(p) for p in new})
    write_manifest(recorded, migrations)
    return [p.name for p in new]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true",
                        help="add the migration files that are not listed yet")
    args = parser.parse_args(argv)
    try:
        if args.write:
            for name in record_new():
                print(f"recorded {name}")
            return 0
        changed, unrecorded = problems()
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    for message in changed + unrecorded:
        print(message, file=sys.stderr)
    return 1 if changed or unrecorded else 0


if __name__ == "__main__":
    sys.exit(main())
