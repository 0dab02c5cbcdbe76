"""The one masking function and the contact rule, as pure functions (no app): a corpus of
realistic Vietnamese comments (tests/fixtures/comment_masking.json) with what must be masked
(phone numbers in every usual writing, ID numbers, e-mail addresses, dossier codes) and what
must stay (amounts, dates, times, counters, years, percentages, document numbers)."""

from __future__ import annotations

import ast
import json
import unicodedata
from pathlib import Path

import pytest

from core.personal_data import MARKER, Contact, mask_personal_data, normalize_contact

REPO = Path(__file__).resolve().parents[2]
CORPUS = json.loads((REPO / "tests/fixtures/comment_masking.json").read_text(encoding="utf-8"))
CASES = CORPUS["cases"]


def test_the_corpus_is_large_and_balanced():
    masked = [c for c in CASES if c["masked"] != unicodedata.normalize("NFC", c["text"])]
    kept = [c for c in CASES if c not in masked]
    assert len(CASES) >= 40 and len(masked) >= 20 and len(kept) >= 15
    assert CORPUS["marker"] == MARKER


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_comment_is_masked_as_expected(case):
    got = mask_personal_data(case["text"])
    assert got == case["masked"]
    assert mask_personal_data(got) == got  # masking masked text changes nothing


def test_no_digit_of_a_masked_number_survives():
    secrets = ["0912345678", "001090001234", "nguyenvana@gmail.com",
               "000.00.20.H26-220101-0001", "84912345678"]
    text = " ; ".join(f"số {s} nhé" for s in secrets)
    masked = mask_personal_data(text)
    assert masked.count(MARKER) == len(secrets)
    for secret in secrets:
        assert secret not in masked


@pytest.mark.parametrize(("text", "expected"), [
    ("0912 345 678", Contact("phone", "0912345678")),
    ("+84 912.345.678", Contact("phone", "0912345678")),
    ("0084912345678", Contact("phone", "0912345678")),
    ("84 (0) 912 345 678", Contact("phone", "0912345678")),
    ("(024) 3825-1234", Contact("phone", "02438251234")),
    ("  Nguyen.Van.A@Gmail.COM ", Contact("email", "Nguyen.Van.A@gmail.com")),
    ("an@hanoi.gov.vn", Contact("email", "an@hanoi.gov.vn")),
    ("912345678", None),  # no leading 0: which country?
    ("09123456", None),
    ("091234567890", None),
    ("an@localhost", None),
    ("an@@x.vn", None),
    ("an @x.vn", None),
    ("gọi tôi", None),
    ("", None),
    ("0912345678" + " " * 250, Contact("phone", "0912345678")),
    ("a" * 250 + "@x.vn", None),
    ("٠٩١٢٣٤٥٦٧٨", None),  # Arabic-Indic digits are not a phone number
])
def test_a_contact_is_a_phone_number_or_an_email_address(text, expected):
    assert normalize_contact(text) == expected


def test_the_module_is_pure():
    tree = ast.parse((REPO / "core/personal_data.py").read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "re", "unicodedata", "dataclasses"}
