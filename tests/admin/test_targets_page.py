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
