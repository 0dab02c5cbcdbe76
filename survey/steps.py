"""The phone survey one dimension per step, without JavaScript and without server-side state.

Each step is a plain form post: the current step's questions, the step's number, the button
pressed (``nav``: back, next or send) and the answers of the other steps in one hidden field,
``carry``, signed with the app's secret (:class:`itsdangerous.URLSafeSerializer`, salt
``survey-steps``): the server keeps nothing between steps, and a carried value that was
changed on the way is refused (the citizen starts again). The last step sends everything through
the one door (:mod:`core.services.intake`), exactly like the whole form on one page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.datastructures import MultiDict

from core.instrument import Instrument
from core.questionnaire import REFUSE_DEMOGRAPHICS, field_name

SALT = "survey-steps"


@dataclass(frozen=True)
class Step:
    """One screen: a dimension (its code) or the optional extras (``dimension`` None)."""

    number: int
    dimension: str | None
    fields: tuple[str, ...]


def steps_of(instrument: Instrument) -> list[Step]:
    steps = [Step(i + 1, d.code, tuple(field_name(c.code) for c in d.criteria))
             for i, d in enumerate(instrument.dimensions)]
    extras = ["comment", "consent", "contact",
              *("e_" + a.code for a in instrument.expectation_areas)]
    if instrument.demographics:
        extras += [REFUSE_DEMOGRAPHICS, *("d_" + q.code for q in instrument.demographics)]
    steps.append(Step(len(steps) + 1, None, tuple(extras)))
    return steps


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.config["SECRET_KEY"]), salt=SALT)


def dump(answers: dict[str, str]) -> str:
    """The signed hidden field holding ``answers`` (field name -> posted value)."""
    return _serializer().dumps(answers)


def load(text: str) -> dict[str, str] | None:
    """The answers of a signed ``carry`` field; {} when empty; None when it was tampered
    with or is not ours."""
    if not text:
        return {}
    try:
        data = _serializer().loads(text)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return None
    return data


def merge(carried: dict[str, str], posted: Any, step: Step) -> dict[str, str]:
    """The answers so far: the carried ones, with the current step's fields replaced by what
    was posted (a box left unticked or a text emptied is removed)."""
    out = {k: v for k, v in carried.items() if k not in step.fields}
    for name in step.fields:
        value = posted.get(name)
        if value not in (None, ""):
            out[name] = value
    return out


def missing(answers: dict[str, str], step: Step) -> list[str]:
    """The criteria of ``step`` without a choice ("no answer" is a choice)."""
    if step.dimension is None:
        return []
    return [name for name in step.fields if name not in answers]


def formdata(answers: dict[str, str], csrf: str | None = None) -> MultiDict:
    data = MultiDict(answers)
    if csrf is not None:
        data["csrf_token"] = csrf
    return data


def step_of_field(steps: list[Step], name: str | None) -> Step | None:
    for step in steps:
        if name in step.fields:
            return step
    return None
