"""Vietnamese first: every user-facing string has a Vietnamese translation; Vietnamese
number and date formats."""

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from babel.messages.pofile import read_po

from core import REPO_ROOT
from core.i18n import fmt_date, fmt_month, fmt_number, fmt_percent, fmt_points


def _vi_catalog():
    with (Path(REPO_ROOT) / "translations/vi/LC_MESSAGES/messages.po").open("rb") as f:
        return read_po(f, locale="vi")


def test_every_extracted_message_has_a_vietnamese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract",
                    "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
                   cwd=REPO_ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        template = read_po(f)
    catalog = _vi_catalog()
    missing = [m.id for m in template if m.id and (
        catalog.get(m.id) is None or not catalog.get(m.id).string or catalog.get(m.id).fuzzy)]
    assert missing == []
    assert len(template) > 50


def test_vietnamese_translations_keep_their_placeholders():
    catalog = _vi_catalog()

    for m in catalog:
        if m.id and m.string:
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            want = set(re.findall(r"%\((\w+)\)", ids[0]))
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            assert set(re.findall(r"%\((\w+)\)", strings[0])) == want, m.id


def test_vietnamese_number_and_date_formats(app):
    assert fmt_percent(87.11, "vi") == "87,11\u00a0%"
    assert fmt_percent(87.108, "en") == "87.11%"
    assert fmt_percent(None, "vi") == "—"
    assert fmt_points(1.254, "vi") == "+1,25" and fmt_points(-0.4, "vi") == "-0,40"
    assert fmt_number(12345, "vi") == "12.345"
    assert fmt_date(date(2022, 7, 8), "vi") == "08/07/2022"
    assert fmt_month("2022-07", "vi") == "tháng 7/2022"
    assert fmt_month("2022-07", "en") == "July 2022"
