"""The questionnaire as a server-rendered Flask-WTF form, built from an instrument.

Used wherever a citizen answers without JavaScript (the phone survey, the kiosk's fallback):
one required radio group per criterion (five levels plus an explicit "no answer"), an
optional comment, expectation levels and demographic questions. Wording comes from the
instrument data file, in the active locale.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from core.instrument import NO_ANSWER, Instrument
from core.services.responses import MAX_COMMENT


def field_name(code: str) -> str:
    """'III.4' -> 'c_III_4' (a valid Python and HTML name)."""
    return "c_" + code.replace(".", "_")


class QuestionnaireForm(FlaskForm):
    """Base class; :func:`questionnaire_form` adds the instrument's fields."""

    instrument: Instrument
    locale: str

    comment = TextAreaField(_l("Other comments (optional)"),
                            validators=[Optional(), Length(max=MAX_COMMENT)])

    def criterion_fields(self, dimension_code: str) -> list[Any]:
        dim = next(d for d in self.instrument.dimensions if d.code == dimension_code)
        return [self[field_name(c.code)] for c in dim.criteria]

    def expectation_fields(self) -> list[Any]:
        return [self["e_" + a.code] for a in self.instrument.expectation_areas]

    def demographic_fields(self) -> list[Any]:
        return [self["d_" + q.code] for q in self.instrument.demographics]

    def to_payload(self) -> dict[str, Any]:
        """The answers in the shape :func:`core.services.responses.clean_response` takes."""
        inst = self.instrument
        answers: dict[str, int | None] = {}
        for c in inst.criteria:
            raw = self[field_name(c.code)].data
            answers[c.code] = None if raw in (None, "", NO_ANSWER) else int(raw)
        expectations = {a.code: int(self["e_" + a.code].data)
                        for a in inst.expectation_areas if self["e_" + a.code].data}
        demographics = {q.code: self["d_" + q.code].data
                        for q in inst.demographics if self["d_" + q.code].data}
        return {"answers": answers, "comment": self.comment.data or None,
                "expectations": expectations or None, "demographics": demographics or None}


def questionnaire_form(instrument: Instrument, locale: str = "vi",
                       formdata: Any = None, **kwargs: Any) -> QuestionnaireForm:
    """Build and instantiate the form for ``instrument`` with labels in ``locale``."""
    level_choices = [SelectChoice(str(v), t.get(locale)) for v, t in instrument.scale]
    level_choices.append(SelectChoice(NO_ANSWER, instrument.no_answer.get(locale)))
    attrs: dict[str, Any] = {"instrument": instrument, "locale": locale}
    missing = _l("Please choose a rating, or “No answer”.")
    for c in instrument.criteria:
        attrs[field_name(c.code)] = RadioField(
            f"{c.code}. {c.text.get(locale)}", choices=list(level_choices),
            validators=[InputRequired(message=missing)])
    exp_choices = [SelectChoice(str(v), t.get(locale)) for v, t in instrument.expectation_levels]
    for a in instrument.expectation_areas:
        attrs["e_" + a.code] = RadioField(a.label.get(locale), choices=list(exp_choices),
                                          validators=[Optional()])
    for q in instrument.demographics:
        attrs["d_" + q.code] = RadioField(
            q.label.get(locale), choices=[SelectChoice(o.code, o.label.get(locale))
                                          for o in q.options], validators=[Optional()])
    form_class = type(f"Questionnaire_{instrument.id}", (QuestionnaireForm,), attrs)
    if formdata is not None:
        kwargs["formdata"] = formdata
    return form_class(**kwargs)
