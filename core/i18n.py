"""Locale selection and locale-aware formatting (Babel) for templates and exports."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date as _babel_date
from babel.numbers import format_decimal, format_percent
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale, refresh

from core.extensions import babel
from core.scoring import displayed
from core.timeutil import VN_TZ

LOCALE_COOKIE = "lang"
_PERCENT = {"vi": "#,##0.00\u00a0%", "en": "#,##0.00%"}


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and background work: the default locale
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if chosen in supported:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def locale_code(locale: str | None = None) -> str:
    return locale or str(get_locale() or "vi")


def fmt_percent(value: float | None, locale: str | None = None, missing: str = "—") -> str:
    """87.1125 -> '87,11 %' (vi) / '87.11%' (en); None -> '—'. The two decimals are
    :func:`core.scoring.displayed`'s (half up), the value targets are judged on."""
    if value is None:
        return missing
    loc = locale_code(locale)
    return format_percent(displayed(value) / 100, format=_PERCENT.get(loc, _PERCENT["en"]),
                          locale=loc)


def fmt_points(value: float | None, locale: str | None = None, signed: bool = True) -> str:
    """A difference in percentage points: '+1,25' / '-0,40' / '0,00' (never '-0,00')."""
    if value is None:
        return "—"
    shown = displayed(value)
    text = format_decimal(shown, format="#,##0.00", locale=locale_code(locale))
    return ("+" + text) if signed and shown > 0 else text


def fmt_target(target: dict | None, locale: str | None = None) -> str:
    """A report's target object as the plan writes it: '> 88,00 %' (strictly above) or
    '≥ 91,00 %' (at least); None -> '—'."""
    if target is None:
        return "—"
    sign = ">" if target["operator"] == ">" else "≥"
    return f"{sign}\u00a0{fmt_percent(target['value'], locale)}"


def fmt_number(value: int | float | None, locale: str | None = None) -> str:
    if value is None:
        return "—"
    return format_decimal(value, locale=locale_code(locale))


def fmt_date(value: date | datetime | None, locale: str | None = None) -> str:
    """Vietnamese style dd/MM/yyyy; datetimes are shown in Vietnam time."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(VN_TZ).date()
    loc = locale_code(locale)
    return _babel_date(value, "dd/MM/yyyy" if loc == "vi" else "medium", locale=loc)


def fmt_month(month: str, locale: str | None = None) -> str:
    """'2022-07' -> 'tháng 7/2022' (vi) / 'July 2022' (en)."""
    loc = locale_code(locale)
    y, m = int(month[:4]), int(month[5:7])
    if loc == "vi":
        return f"tháng {m}/{y}"
    return _babel_date(date(y, m, 1), "MMMM yyyy", locale=loc)


def fmt_period(label: str, locale: str | None = None) -> str:
    """A period label in words: '2022-07' as :func:`fmt_month`; '2022-Q3' -> 'quý 3/2022'
    (vi) / 'Q3 2022' (en); '2022-H1' -> '6 tháng đầu năm 2022' / 'first half of 2022';
    '2022' -> 'năm 2022' / '2022'; a range -> its first and last months."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from core.periods import parse_period

    try:
        period = parse_period(label)
    except ValueError:
        return label
    if period.is_month:
        return fmt_month(period.first, locale)
    loc = locale_code(locale)
    with force_locale(loc):
        year = period.year
        if period.kind == "quarter":
            return _("quarter %(q)s/%(year)s", q=int(period.label[-1]), year=year)
        if period.kind == "half":
            return (_("first half of %(year)s", year=year) if period.label.endswith("1")
                    else _("second half of %(year)s", year=year))
        if period.kind == "year":
            return _("year %(year)s", year=year)
        return _("%(first)s to %(last)s", first=fmt_month(period.first, loc),
                 last=fmt_month(period.last, loc))


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_timezone="Asia/Ho_Chi_Minh")
    app.jinja_env.filters.update(
        pct=fmt_percent, points=fmt_points, num=fmt_number, vdate=fmt_date, month=fmt_period,
        period=fmt_period, target=fmt_target)

    @app.before_request
    def _fresh_locale() -> None:
        # the locale is cached on the app context, which may outlive one request
        # (e.g. a CLI or test context): choose it again for every request
        refresh()

    @app.context_processor
    def _locale_context() -> dict:
        return {"current_locale": locale_code(), "languages": app.config["LANGUAGES"]}
