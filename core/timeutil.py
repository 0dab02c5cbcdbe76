"""Months are calendar months in Vietnam time (Asia/Ho_Chi_Minh, UTC+7). Pure Python."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def utcnow() -> datetime:
    """Timezone-aware current UTC time."""
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """A naive datetime is taken as Vietnam local time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=VN_TZ)
    return value.astimezone(UTC)


def parse_timestamp(text: str) -> datetime:
    """ISO 8601 date or datetime; without a zone it is Vietnam time. Returns aware UTC.

    Raises ValueError when the text is not a date or datetime.
    """
    text = text.strip()
    if not text:
        raise ValueError("empty date")
    if len(text) == 10:
        return to_utc(datetime.combine(date.fromisoformat(text), time(12, 0)))
    return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def month_of(moment: datetime) -> str:
    """'YYYY-MM' of the Vietnam calendar month containing ``moment`` (naive = UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(VN_TZ)
    return f"{local.year:04d}-{local.month:02d}"


def parse_month(text: str) -> str:
    """Validate 'YYYY-MM'. Raises ValueError for anything else (e.g. '2022-13')."""
    m = _MONTH_RE.match(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        raise ValueError(f"'{text}' is not a month in the form YYYY-MM")
    return text


def shift_month(month: str, delta: int) -> str:
    """The month ``delta`` months after ``month`` (negative goes back)."""
    y, m = int(month[:4]), int(month[5:7])
    total = y * 12 + (m - 1) + delta
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def month_bounds_utc(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a Vietnam calendar month, as aware UTC datetimes."""
    parse_month(month)
    start = datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=VN_TZ)
    nxt = shift_month(month, 1)
    end = datetime(int(nxt[:4]), int(nxt[5:7]), 1, tzinfo=VN_TZ)
    return start.astimezone(UTC), end.astimezone(UTC)


def last_complete_month(now: datetime | None = None) -> str:
    return shift_month(month_of(now or utcnow()), -1)
