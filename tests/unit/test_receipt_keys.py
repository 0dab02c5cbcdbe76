"""The receipt key ring's setting (core/receipt_keys.py): format, order, and errors that
never show a secret."""

from __future__ import annotations

import base64

import pytest

from core.receipt_keys import LEGACY_ID, parse_ring, receipt_keys

SECRET = bytes(range(200, 232))  # 32 bytes whose base64 has '+' and '/'


def test_entries_newest_first_in_standard_or_url_safe_base64():
    std = base64.b64encode(SECRET).decode()
    url = base64.urlsafe_b64encode(SECRET).decode().rstrip("=")
    assert "+" in std or "/" in std
    ring = parse_ring(f"k3:{std}, k2:{url} ,legacy:{base64.b64encode(b'old').decode()}")
    assert [k.id for k in ring] == ["k3", "k2", "legacy"]
    assert ring[0].secret == ring[1].secret == SECRET and ring[2].secret == b"old"
    # a list (instance/config.py, or JSON in the environment) is the same ring
    assert parse_ring([f"k3:{std}", f"k2:{url}", f"legacy:{base64.b64encode(b'old').decode()}"]
                      ) == ring
    assert SECRET.hex() not in repr(ring) and std not in repr(ring)


@pytest.mark.parametrize(("value", "message"), [
    ("", "no key given"),
    (" , ", "no key given"),
    ("k1", "entry 1 must be"),
    (":abcd", "entry 1 must be"),
    ("k é:abcd", "entry 1 must be"),
    ("x" * 33 + ":abcd", "entry 1 must be"),
    ("k1:ab$d", "key 'k1' is not base64"),
    ("k1:abcde", "key 'k1' is not base64"),
    ("k1:", "key 'k1' is empty"),
    ("k1:abcd,k1:efgh", "'k1' appears twice"),
])
def test_malformed_rings_are_refused(value, message):
    with pytest.raises(ValueError, match=message) as err:
        parse_ring(value)
    assert "abcd" not in str(err.value) and "efgh" not in str(err.value)


def test_without_a_ring_the_key_is_secret_key_itself():
    """The material links were signed with before the ring existed (development and tests;
    production refuses to start without a ring)."""
    ring = receipt_keys({"RECEIPT_KEYS": None, "SECRET_KEY": "dev-secret"})
    assert [(k.id, k.secret) for k in ring] == [(LEGACY_ID, b"dev-secret")]
    given = receipt_keys({"RECEIPT_KEYS": "k1:YWJj", "SECRET_KEY": "dev-secret"})
    assert [(k.id, k.secret) for k in given] == [("k1", b"abc")]
