"""The receipt key ring: the keys that sign receipt links and key the dossier-code HMAC,
kept apart from ``SECRET_KEY`` so that rotating that one (sessions, CSRF, forms) leaves every
printed receipt working.

``RECEIPT_KEYS`` (environment: ``SIPAS_RECEIPT_KEYS``) lists ``<id>:<secret>`` entries,
separated by commas, **newest first**; each secret is base64 (standard or URL-safe, padding
optional) of random bytes::

    SIPAS_RECEIPT_KEYS="k2:q5Vh…Yw=,k1:3dQm…kE=,legacy:c2Vy…"

The first key signs new links and hashes the codes of new dossiers; every key still verifies
the links it signed and finds the dossiers it hashed (so a dossier minted under an older key
gets its existing link back, and an answered one stays answered). Rotating is putting a new
entry first (with several app instances: first add it last everywhere, where it only
verifies, then move it first); dropping an entry kills the links it signed. A list of
entries is accepted too (``instance/config.py`` or JSON in the environment).

``legacy`` is the material links were signed with before the ring existed: ``SECRET_KEY``
itself (its UTF-8 bytes, base64-encoded in the entry). Outside production, when
``RECEIPT_KEYS`` is not set, the ring is that one key, derived from ``SECRET_KEY``; in
production the app refuses to start without ``RECEIPT_KEYS`` (see ``core/__init__.py``).

Pure Python (no Flask): the app factory validates the setting with :func:`parse_ring`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

LEGACY_ID = "legacy"
_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class ReceiptKey:
    """One key of the ring: its id (names it in the setting and in error messages) and its
    secret bytes (never shown)."""

    id: str
    secret: bytes = field(repr=False)


def _decode(secret: str) -> bytes:
    text = secret.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


@lru_cache(maxsize=8)
def _parse(entries: tuple[str, ...]) -> tuple[ReceiptKey, ...]:
    ring: list[ReceiptKey] = []
    for number, entry in enumerate(entries, start=1):
        key_id, sep, secret = entry.strip().partition(":")
        key_id = key_id.strip()
        if not sep or not _ID.match(key_id):
            raise ValueError(f"entry {number} must be <id>:<base64 secret>, the id made of "
                             "1-32 letters, digits, '-' or '_'")
        try:
            raw = _decode(secret)
        except (binascii.Error, ValueError):
            raise ValueError(f"the secret of key {key_id!r} is not base64") from None
        if not raw:
            raise ValueError(f"the secret of key {key_id!r} is empty")
        if any(key.id == key_id for key in ring):
            raise ValueError(f"key id {key_id!r} appears twice")
        ring.append(ReceiptKey(key_id, raw))
    if not ring:
        raise ValueError("no key given")
    return tuple(ring)


def parse_ring(value: str | Sequence[str]) -> tuple[ReceiptKey, ...]:
    """The keys of a ``RECEIPT_KEYS`` value, newest first. Raises ValueError (naming the
    entry, never its secret) for a malformed entry, a secret that is not base64 or empty, a
    repeated id, or no entry at all."""
    entries = value.split(",") if isinstance(value, str) else value
    return _parse(tuple(str(e) for e in entries if str(e).strip()))


def legacy_key(secret_key: str) -> ReceiptKey:
    """The key links were signed with before the ring existed: ``SECRET_KEY`` itself."""
    return ReceiptKey(LEGACY_ID, str(secret_key).encode("utf-8"))


def receipt_keys(config: Mapping[str, Any]) -> tuple[ReceiptKey, ...]:
    """The ring of an app's configuration: ``RECEIPT_KEYS``, else (outside production: the
    app does not start there without it) the legacy key derived from ``SECRET_KEY``."""
    value = config.get("RECEIPT_KEYS")
    if value:
        return parse_ring(value)
    return (legacy_key(config["SECRET_KEY"]),)
