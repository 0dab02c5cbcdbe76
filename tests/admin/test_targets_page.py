"""The targets page: administrators set an office's yearly targets in a form."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login

world = admin_fixtures.world


def test_admin_edits_targets_in_the_browser_form(client, world, offices):
    from core.services.targets import own_targets

    login(client, "city")
    r = client.post("/admin/targets?office=BD&year=2023", data={"t_I.1": "92,5", "t_II": ""})
    assert r.status_code == 302
    assert own_targets(offices["BD"], 2023) == {"I.1": 92.5}
    r = client.post("/admin/targets?office=BD&year=2023", data={"t_I.1": "abc"})
    assert r.status_code == 400
    assert own_targets(offices["BD"], 2023) == {"I.1": 92.5}
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "target.set"))


def test_the_targets_page_sets_how_each_target_is_read(client, world, offices):
    from core.services.targets import own_operators

    login(client, "city")
    page = client.get("/admin/targets?office=HN&year=2023").get_data(as_text=True)
    # unset targets default to the plan's reading: the overall strict, criteria at least
    assert 'name="o_overall"' in page and 'name="o_I.1"' in page
    r = client.post("/admin/targets?office=HN&year=2023",
                    data={"t_overall": "88", "o_overall": ">", "t_I.1": "90", "o_I.1": ">=",
                          "t_II": "90"})
    assert r.status_code == 302
    assert own_operators(offices["HN"], 2023) == {"overall": ">", "I.1": ">=", "II": ">"}
    page = client.get("/admin/targets?office=HN&year=2023").get_data(as_text=True)
    assert "&gt;&nbsp;88,00\u00a0%" in page and "≥&nbsp;90,00\u00a0%" in page
    r = client.post("/admin/targets?office=HN&year=2023", data={"t_I.1": "90", "o_I.1": "="})
    assert r.status_code == 400 and own_operators(offices["HN"], 2023)["I.1"] == ">="
