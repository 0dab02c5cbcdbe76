"""Paper files uploaded in the browser and waiting for their preview to be confirmed.

The results area's upload (``/admin/paper``) shows a preview first and imports only when the
user confirms, so the file is kept in between: on the server's disk (``PAPER_UPLOAD_DIR``,
default the instance folder's ``paper-uploads``), owner-only, under a random token, with the
user id it belongs to. It is deleted when imported or cancelled, and every upload deletes the
files older than :data:`MAX_AGE_SECONDS` (an abandoned preview). Nothing of it is logged.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from core.errors import Gone

MAX_AGE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


@dataclass(frozen=True)
class Upload:
    token: str
    file_name: str
    data: bytes


def _folder() -> Path:
    folder = Path(current_app.config.get("PAPER_UPLOAD_DIR")
                  or Path(current_app.instance_path) / "paper-uploads")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _purge(folder: Path) -> None:
    limit = time.time() - MAX_AGE_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass


def keep(user_id: int, file_name: str, data: bytes) -> str:
    """Keep an uploaded file for its preview; returns its token."""
    folder = _folder()
    _purge(folder)
    token = secrets.token_urlsafe(32)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    with os.fdopen(os.open(folder / f"{token}.bin", flags, 0o600), "wb") as f:
        f.write(data)
    meta = json.dumps({"user": user_id, "name": file_name[:255]})
    with os.fdopen(os.open(folder / f"{token}.json", flags, 0o600), "w") as f:
        f.write(meta)
    return token


def load(token: str, user_id: int) -> Upload:
    """The file kept under ``token`` for this user. Raises Gone when there is none (never
    uploaded, another user's, already imported, cancelled or expired)."""
    gone = Gone("upload_gone", _("This upload is no longer available; please upload the "
                                 "file again."))
    if not _TOKEN.match(token or ""):
        raise gone
    folder = _folder()
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        data = (folder / f"{token}.bin").read_bytes()
    except (FileNotFoundError, ValueError):
        raise gone from None
    if meta.get("user") != user_id:
        raise gone
    return Upload(token, str(meta.get("name") or "upload"), data)


def discard(token: str) -> None:
    if not _TOKEN.match(token or ""):
        return
    folder = _folder()
    for suffix in (".bin", ".json"):
        try:
            (folder / f"{token}{suffix}").unlink()
        except FileNotFoundError:
            pass
