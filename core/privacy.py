"""What citizens are told about their personal data (Law on Personal Data Protection,
No. 91/2025/QH15): the facts behind the short notice on every survey start and the full
notice (the page ``/quyen-rieng-tu`` and the kiosk's privacy screen).

The notice's wording is translated text in ``core/templates/privacy/``; the facts it states
come from the configuration (who is responsible, whom to contact, how long things are kept).
An operator may replace the full notice's built-in text with an HTML fragment of their own,
``PRIVACY_NOTICE_FILE``, one file per language when its name holds ``{locale}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from core.instrument import Instrument

#: Settings of the retention code (``flask retention apply``) whose periods the notice states:
#: a number of days; 0 when the setting is there but keeps for ever (None); None when the
#: deployment has no such setting, and the notice then says "a limited time". Read by name
#: (like MASKING_SETTING), so that the notice follows whatever the deployment defines.
RETENTION_SETTINGS = {"comment": "RETENTION_COMMENT_DAYS", "contact": "RETENTION_CONTACT_DAYS",
                      "contact_max": "RETENTION_CONTACT_MAX_DAYS"}
#: True when phone numbers, ID numbers, e-mail addresses and dossier codes are masked in
#: comments before they are stored (the notice says so).
MASKING_SETTING = "MASK_COMMENTS"


@dataclass(frozen=True)
class NoticeFacts:
    """What the notices state, from the configuration."""

    controller: str | None  # None: the office whose one-stop desk served the citizen
    contact: str | None  # None: that office's one-stop desk
    #: retention periods in days (0: kept without limit; None: not configured here)
    comment_days: int | None  # comment text, from the answer's day
    contact_days: int | None  # a request to be contacted, after it has been handled
    contact_max_days: int | None  # ... and at the latest, from the day it was made
    masks_comments: bool  # contact details written in a comment are hidden before storing
    resend_days: int  # a kiosk answer's id (as a digest) is kept this long
    link_days: int  # a receipt's link can be answered this long


@dataclass(frozen=True)
class CustomNotice:
    """The operator's own full notice: an HTML fragment, and the language it is written in."""

    html: Markup
    lang: str


def _period(config: Mapping[str, Any], name: str) -> int | None:
    if name not in config:
        return None
    try:
        days = int(config[name] or 0)
    except (TypeError, ValueError):
        return None
    return max(days, 0)


def _text(value: Any) -> str | None:
    return (str(value).strip() or None) if value else None


def notice_facts(config: Mapping[str, Any]) -> NoticeFacts:
    periods = {kind: _period(config, name) for kind, name in RETENTION_SETTINGS.items()}
    return NoticeFacts(
        controller=_text(config["PRIVACY_CONTROLLER"]), contact=_text(config["PRIVACY_CONTACT"]),
        comment_days=periods["comment"], contact_days=periods["contact"],
        contact_max_days=periods["contact_max"],
        masks_comments=bool(config.get(MASKING_SETTING)),
        resend_days=int(config["SUBMISSION_KEY_DAYS"]),
        link_days=int(config["RECEIPT_VALIDITY_DAYS"]))


def notice_file(config: Mapping[str, Any], instance_path: str | Path,
                locale: str) -> Path | None:
    """The path ``PRIVACY_NOTICE_FILE`` names for ``locale`` (relative paths are inside the
    instance folder), or None when the setting is empty."""
    pattern = config["PRIVACY_NOTICE_FILE"]
    if not pattern:
        return None
    path = Path(str(pattern).replace("{locale}", locale))
    return path if path.is_absolute() else Path(instance_path) / path


def custom_notice(config: Mapping[str, Any], instance_path: str | Path,
                  locale: str) -> CustomNotice | None:
    """The operator's full notice in ``locale``, else in the default language; None when
    there is none (the built-in text is shown)."""
    for lang in dict.fromkeys((locale, str(config["BABEL_DEFAULT_LOCALE"]))):
        path = notice_file(config, instance_path, lang)
        if path is None:
            return None
        if path.is_file():
            # the operator's own file, trusted like instance/config.py; the CSP still
            # blocks any script or style attribute it might hold
            html = path.read_text(encoding="utf-8")
            return CustomNotice(Markup(html), lang)  # noqa: S704
    return None


def check_notice_file(config: Mapping[str, Any], instance_path: str | Path) -> None:
    """Start-up check: a configured notice file exists in the default language and is UTF-8.
    Raises ConfigError (a notice that silently fell back to the built-in text would tell
    citizens something the operator did not mean)."""
    from core import ConfigError

    path = notice_file(config, instance_path, str(config["BABEL_DEFAULT_LOCALE"]))
    if path is None:
        return
    try:
        path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"SIPAS_PRIVACY_NOTICE_FILE: cannot read {path} as UTF-8 text "
                          f"({type(exc).__name__}). Write the notice there, or unset the "
                          "setting to show the built-in notice.") from None


def full_notice(config: Mapping[str, Any], instance_path: str | Path, instrument: Instrument,
                locale: str) -> dict[str, Any]:
    """What a page showing the full notice needs besides :func:`notice_facts` (which every
    template has as ``privacy_facts``): the operator's text, if any, and the labels of the
    optional questions about the citizen."""
    return {"privacy_custom": custom_notice(config, instance_path, locale),
            "privacy_questions": [q.label.get(locale) for q in instrument.demographics]}
