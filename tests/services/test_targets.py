"""Yearly targets: inherited from the nearest ancestor, carried over to later years, set
all or nothing from a file or from the targets page."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from core.errors import Invalid
from core.extensions import db
from core.models import AuditEvent, Target
from core.services.offices import ImportFailed
from core.services.targets import (
    DEFAULT_FILE,
    import_targets,
    own_targets,
    save_targets,
    set_target,
    targets_for,
)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


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


def test_a_bad_targets_file_stores_nothing(offices, instrument):
    text = "year,code,target\n2022,I.1,91\n2022,IX.9,90\n2022,I.2,140\n2022,I.3,x\n"
    with pytest.raises(ImportFailed) as exc:
        import_targets(io.StringIO(text), offices["HN"], instrument, actor="test")
    assert [e.line for e in exc.value.errors] == [3, 4, 5]
    assert "IX.9" in str(exc.value.errors[0])
    assert _count(Target) == 0 and _count(AuditEvent) == 0
    with pytest.raises(ImportFailed):
        import_targets(io.StringIO("code,target\nI.1,91\n"), offices["HN"], instrument,
                       actor="test")
    ok = "year,code,target,office_code\n2023,I.1,90,BD\n2023,II,85,\n"
    assert import_targets(io.StringIO(ok), offices["HN"], instrument, actor="test") == 2
    assert own_targets(offices["BD"], 2023) == {"I.1": 90.0}
    assert own_targets(offices["HN"], 2023) == {"II": 85.0}


def test_saving_the_targets_page_is_all_or_nothing_and_audited(offices, instrument):
    bd = offices["BD"]
    save_targets(bd, 2023, {"I.1": "92,5", "II": " 80 ", "nonsense": "1"}, instrument,
                 actor="city")
    assert own_targets(bd, 2023) == {"I.1": 92.5, "II": 80.0}
    assert _count(AuditEvent) == 2
    with pytest.raises(Invalid) as exc:
        save_targets(bd, 2023, {"I.1": "abc", "II": "", "III": "101", "IV": "70"},
                     instrument, actor="city")
    assert set(exc.value.fields) == {"I.1", "III"}
    assert own_targets(bd, 2023) == {"I.1": 92.5, "II": 80.0}
    assert _count(AuditEvent) == 2
    save_targets(bd, 2023, {"I.1": "92,5"}, instrument, actor="city")  # II left empty: removed
    assert own_targets(bd, 2023) == {"I.1": 92.5}
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["target.set", "target.set", "target.delete"]


def test_the_plans_operators_are_loaded_and_kept(offices, instrument):
    """Attack (issue 13 §2): the app stored plain numbers, so the plan's "> 88,00" and
    "> 91,00" were read as "at least". The plan's file carries its operators: strict for the
    overall and the dimensions, "at least" for the criteria."""
    from core.services.targets import own_operators

    with DEFAULT_FILE.open(encoding="utf-8-sig", newline="") as stream:
        import_targets(stream, offices["HN"], instrument, actor="test")
    operators = own_operators(offices["HN"], 2022)
    assert operators["overall"] == ">" and operators["I"] == ">" and operators["V"] == ">"
    assert operators["I.1"] == ">=" and operators["V.4"] == ">="
    km = targets_for(offices["BD-KM"], 2022)
    assert (km["overall"].operator, km["overall"].office_code, km["overall"].inherited) == (
        ">", "HN", True)
    assert km["I.1"].as_json(None, None) == {"value": 91.0, "operator": ">=", "year": 2022,
                                             "inherited_from": "HN", "met": None, "gap": None}
    # an operator is part of the target: changing it alone is a change (audited)
    set_target(offices["HN"], 2022, "I.1", 91.0, actor="test", operator=">")
    assert own_operators(offices["HN"], 2022)["I.1"] == ">"
    assert db.session.scalar(sa.select(AuditEvent.details).where(
        AuditEvent.target == "2022:I.1").order_by(AuditEvent.id.desc()).limit(1)) == {
        "value": 91.0, "operator": ">"}


def test_a_bad_operator_is_a_line_error(offices, instrument):
    text = ("year,code,operator,target\n2022,overall,>,88\n2022,I,≥,91\n2022,I.1,,91\n"
            "2022,I.2,=>,91\n")
    with pytest.raises(ImportFailed) as exc:
        import_targets(io.StringIO(text), offices["HN"], instrument, actor="test")
    assert [e.line for e in exc.value.errors] == [5]
    assert _count(Target) == 0
    assert import_targets(io.StringIO(text.rsplit("\n", 2)[0] + "\n"), offices["HN"],
                          instrument, actor="test") == 3
    from core.services.targets import own_operators

    assert own_operators(offices["HN"], 2022) == {"overall": ">", "I": ">=", "I.1": ">="}
