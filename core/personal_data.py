"""Personal data in citizens' free text: the one masking function, and the contact rules.

Pure Python (no Flask, no database): :func:`mask_personal_data` is what every channel's
comment goes through before it is stored (the intake's rules, :mod:`core.services.intake`,
which paper rows share), and the one place to call for any other text that is published
(there is no public replies board yet). :func:`normalize_contact` checks the phone number or
e-mail address a citizen gives, apart from the comment, to be contacted.

What is masked (each replaced by :data:`MARKER`):

* e-mail addresses;
* dossier codes: the national shape ``000.00.20.H26-220101-0001`` anywhere, and any code
  written after "mã hồ sơ", "số hồ sơ", "hồ sơ số", "mã biên nhận" …;
* Vietnamese phone numbers: ``0`` and 9 or 10 more digits, or ``+84`` / ``84`` / ``0084``
  and 9 or 10 digits, written together or in groups separated by one space, dot or hyphen,
  the area code possibly in parentheses (``(024) 3825 1234``, ``+84 (0) 912 345 678``);
* ID numbers: any run of 9 or more digits written together (9-digit CMND, 12-digit CCCD, and
  with them tax codes and bank accounts), a 12-digit number starting with ``0`` written in
  groups (``001 090 001 234``), and whatever number follows "CMND", "CCCD", "căn cước",
  "hộ chiếu", "số điện thoại", "SĐT", "số tài khoản", "mã số thuế" … (8 digits or more, or
  a passport's letter and 7 digits).

What is not: amounts (``50.000 đồng``, ``1.500.000.000``, ``150000000 đ``: thousands groups,
or a unit right after), dates (``12/11/2026``, ``12.11.2026``), times (``8h30``, ``08:30``),
counter and room numbers, years, percentages, document numbers (``192/KH-UBND``), and names:
names cannot be told from other words, so a comment's text is shown only to the people who
handle comments for its office.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: What a masked piece of text is replaced by.
MARKER = "[đã ẩn]"

_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")

#: 000.00.20.H26-220101-0001: an agency code of dotted parts, a yymmdd date, a sequence.
_DOSSIER = re.compile(r"(?<![\w.\-/])[A-Z0-9]{1,12}(?:\.[A-Z0-9]{1,12}){1,6}-\d{6}-\d{3,6}"
                      r"(?![\w\-])", re.IGNORECASE)
_DOSSIER_WORDS = re.compile(
    r"(?P<lead>\b(?:mã\s+hồ\s+sơ|số\s+hồ\s+sơ|hồ\s+sơ\s+số|mã\s+hs|số\s+biên\s+nhận|"
    r"mã\s+biên\s+nhận|biên\s+nhận\s+số|giấy\s+hẹn\s+số)\b[\s:#.\-]*(?:(?:là|số)\b\s*:?\s*)?)"
    r"(?P<code>[A-Z0-9][A-Z0-9._/\-]{3,63})(?![\w])", re.IGNORECASE)

#: Words after which a number is someone's phone, ID, passport, tax code or account.
_ID_WORDS = re.compile(
    r"(?P<lead>(?<!\w)(?:cmnd|cmt|cccd|căn\s+cước(?:\s+công\s+dân)?|chứng\s+minh(?:\s+nhân\s+dân|"
    r"\s+thư)?|định\s+danh(?:\s+cá\s+nhân)?|hộ\s+chiếu|passport|số\s+điện\s+thoại|điện\s+thoại|"
    r"sđt|sdt|đt|zalo|số\s+tài\s+khoản|stk|tài\s+khoản|mã\s+số\s+thuế|mst)(?!\w)"
    r"[\s:#.\-]*(?:(?:là|số|của\s+tôi|của\s+em|của\s+mình)(?!\w)[\s:#.\-]*)*)"
    r"(?P<value>(?:[A-Z]{1,2}\s?)?\+?\(?\d[\d()]*(?:[ .\-]\(?\d[\d()]*)*)", re.IGNORECASE)

#: Digits in groups: one space, dot or hyphen between groups; a group may be in parentheses.
_NUMBER = re.compile(r"(?<![\d+])(?<!\d[.,])(?:\(\+?\d{1,4}\)|\+?\d+)"
                     r"(?:[ .\-](?:\(\+?\d{1,4}\)|\d+))*(?![\w])(?![.,]\d)")
_GROUP = re.compile(r"\(?\+?\d+\)?")
#: A unit right after a number makes it an amount.
_UNIT = re.compile(r"\s?(?:đồng|đ|vnđ|vnd|₫|nghìn|ngàn|triệu|tr|tỷ|tỉ|k|usd)(?!\w)",
                   re.IGNORECASE)
#: Thousands groups with dots (1.500.000.000) are an amount even without a unit.
_AMOUNT = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+")
_COUNTRY = ("+84", "84", "0084", "(+84)", "(84)")


def _is_phone(digits: str) -> bool:
    """National form: 0 and 9 or 10 digits."""
    return digits.startswith("0") and len(digits) in (10, 11)


def _mask_number(text: str) -> str:
    """One run of digit groups (a match of ``_NUMBER``) with every phone or ID number in it
    masked; an amount is left as it is."""
    groups = [(m.start(), m.end(), re.sub(r"\D", "", m.group()), m.group())
              for m in _GROUP.finditer(text)]
    if _AMOUNT.fullmatch(text):
        return text
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(groups):
        found = None
        for j in range(len(groups) - 1, i - 1, -1):  # the longest window first
            digits = "".join(g[2] for g in groups[i:j + 1])
            first = groups[i][3]
            if first in _COUNTRY and j > i:
                rest = "".join(g[2] for g in groups[i + 1:j + 1])
                rest = rest[1:] if rest.startswith("0") else rest
                hit = len(rest) in (9, 10) and not rest.startswith("0")
            elif first.startswith(("+84", "0084")) and j == i:
                rest = digits[4:] if first.startswith("0084") else digits[2:]
                hit = len(rest) in (9, 10)
            else:
                together = j == i
                # a phone's first group is its area or network code (024, 0912, (028));
                # "05.12.2026 08.30" is a date and a time
                lead = together or first.startswith("(") or 3 <= len(groups[i][2]) <= 5
                hit = ((lead and _is_phone(digits))
                       or (together and len(digits) >= 9)  # written together: an ID number
                       or (len(digits) == 12 and digits.startswith("0")
                           and all(3 <= len(g[2]) <= 4 for g in groups[i:j + 1])))
            if hit:
                found = j
                break
        if found is None:
            i += 1
            continue
        spans.append((groups[i][0], groups[found][1]))
        i = found + 1
    for start, end in reversed(spans):
        text = text[:start] + MARKER + text[end:]
    return text


def _numbers(text: str) -> str:
    out, last = [], 0
    for m in _NUMBER.finditer(text):
        out.append(text[last:m.start()])
        after = text[m.end():m.end() + 8]
        if _UNIT.match(after):
            out.append(m.group())  # an amount: 150000000 đồng, 2.000.000đ
        else:
            out.append(_mask_number(m.group()))
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def _dossier_code(m: re.Match[str]) -> str:
    code = m.group("code")
    digits = sum(ch.isdigit() for ch in code)
    if digits and (not code.isdigit() or digits >= 6):
        return m.group("lead") + MARKER
    return m.group()


def _id_value(m: re.Match[str]) -> str:
    value = m.group("value")
    digits = sum(ch.isdigit() for ch in value)
    if digits >= 8 or (digits == 7 and value[0].isalpha()):  # a passport: C1234567
        return m.group("lead") + MARKER
    return m.group()


def mask_personal_data(text: str) -> str:
    """``text`` with every e-mail address, dossier code, phone number and ID number replaced
    by :data:`MARKER` (see the module's description). The text is returned in Unicode NFC
    (Vietnamese typed on some keyboards arrives decomposed; it looks the same). Masking masked
    text changes nothing."""
    text = unicodedata.normalize("NFC", text)
    text = _EMAIL.sub(MARKER, text)
    text = _DOSSIER.sub(MARKER, text)
    text = _DOSSIER_WORDS.sub(_dossier_code, text)
    text = _ID_WORDS.sub(_id_value, text)
    return _numbers(text)


# --- a citizen's contact, given to be called back -------------------------------------------

#: Longest contact the column holds (an e-mail address is at most 254 characters).
MAX_CONTACT = 254
_CONTACT_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+")
_PHONE_CHARS = re.compile(r"[\s.\-()]")


@dataclass(frozen=True)
class Contact:
    """How a citizen wants to be contacted: ``kind`` is ``phone`` or ``email``."""

    kind: str
    value: str


def normalize_contact(text: str) -> Contact | None:
    """The phone number (as ``0`` and 9 or 10 digits) or e-mail address (domain in lower
    case) in ``text``, or None when it is neither."""
    text = unicodedata.normalize("NFC", text.strip())
    if not text or len(text) > MAX_CONTACT:
        return None
    if "@" in text:
        if not _CONTACT_EMAIL.fullmatch(text):
            return None
        local, _at, domain = text.rpartition("@")
        return Contact("email", f"{local}@{domain.lower()}")
    digits = _PHONE_CHARS.sub("", text)
    for prefix in ("+84", "0084", "84"):
        if digits.startswith(prefix) and len(digits) - len(prefix) in (9, 10, 11):
            digits = "0" + digits[len(prefix):].removeprefix("0")
            break
    if digits.isascii() and digits.isdigit() and _is_phone(digits):
        return Contact("phone", digits)
    return None
