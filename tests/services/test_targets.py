"""Yearly targets: inherited from the nearest ancestor, carried over to later years, set
all or nothing from a file or from the targets page."""

from __future__ import annotations

from core.extensions import db
from core.services.targets import DEFAULT_FILE, import_targets, set_target, targets_for


def test_targets_are_inherited_from_the_nearest_ancestor_and_carry_over(offices, instrument):
    with DEFAULT_FILE.open(encoding="utf-8-sig", newline="") as stream:
        assert import_targets(stream, offices["HN"], instrument, actor="test") == 30
    set_target(offices["BD"], 2022, "I.1", 95.0, actor="test")
    db.session.commit()
    km = targets_for(offices["BD-KM"], 2022)
    assert km["I.1"].value == 95.0 and km["I.1"].office_code == "BD" and km["I.1"].inherited
    assert km["overall"].value == 88.0 and km["V.4"].value == 81.0
    assert targets_for(offices["STP"], 2022)["I.1"].value == 91.0
    # a later year without targets carries the latest earlier year over
    later = targets_for(offices["STP"], 2025)
    assert later["I"].value == 91.0 and later["I"].year == 2022
    assert targets_for(offices["STP"], 2021) == {}
