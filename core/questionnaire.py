"""The questionnaire as a server-rendered Flask-WTF form, built from an instrument.

Used wherever a citizen answers without JavaScript (the phone survey, the kiosk's fallback):
one radio group per criterion (five levels plus an explicit "no answer", each needing a
choice), an optional comment with an optional request to be contacted (a consent box, never
ticked in advance, and a phone number or e-mail address), expectation levels and demographic
questions. Wording comes
from the instrument data file, in the active locale.

The form renders and checks its CSRF token; it validates nothing else. The answers go to
the one door (:func:`core.services.intake.submit`, through
:func:`core.services.intake.raw_from_form`), whose errors :meth:`QuestionnaireForm.show`
puts back beside the questions they concern.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from core.errors import DomainError
from core.instrument import NO_ANSWER, Instrument
from core.personal_data import MAX_CONTACT
from core.services.intake import criterion_field as field_name
from core.services.intake import limits

__all__ = ["ANSWER_MINUTES", "REFUSE_DEMOGRAPHICS", "QuestionnaireForm", "field_name",
           "questionnaire_form", "time_estimate"]

#: How long answering the whole questionnaire takes, in minutes (low, high), measured by
#: ``bench/kiosk_citizen_run.py``: a full kiosk run takes 2 min 50 s at 200 words per minute
#: and 3 min 31 s at 150 (a slow, careful reader), taps included. Every screen and printout
#: that gives an estimate says :func:`time_estimate`, so they never disagree.
ANSWER_MINUTES = (3, 4)


def time_estimate() -> str:
    """'It takes about 3 to 4 minutes.' in the current locale."""
    from flask_babel import gettext

    low, high = ANSWER_MINUTES
    return gettext("It takes about %(low)s to %(high)s minutes.", low=low, high=high)

#: The box "I do not want to answer these questions": the questions about the citizen
#: (demographics) are optional and may be refused as a whole; then they are not asked again
#: in that run and nothing about the citizen is stored (QuestionnaireForm.submitted).
REFUSE_DEMOGRAPHICS = "refuse_demographics"


class QuestionnaireForm(FlaskForm):
    """Base class; :func:`questionnaire_form` adds the instrument's fields."""

    instrument: Instrument
    locale: str

    def criterion_fields(self, dimension_code: str) -> list[Any]:
        dim = next(d for d in self.instrument.dimensions if d.code == dimension_code)
        return [self[field_name(c.code)] for c in dim.criteria]

    def expectation_fields(self) -> list[Any]:
        return [self["e_" + a.code] for a in self.instrument.expectation_areas]

    def demographic_fields(self) -> list[Any]:
        return [self["d_" + q.code] for q in self.instrument.demographics]

    _PREFIXES = {"answers": field_name, "expectations": lambda a: "e_" + a,
                 "demographics": lambda q: "d_" + q}

    def requires(self, field: Any) -> bool:
        """True for a question that needs a choice ("no answer" included): the criteria."""
        return field.name.startswith("c_")

    def field_for(self, key: str) -> str | None:
        """The form field showing a rule's field key (``answers.I.1`` -> ``c_I_1``,
        ``expectations.digital`` -> ``e_digital``), or None."""
        prefix, _sep, rest = key.partition(".")
        if key in ("comment", "consent", "contact"):
            name = key
        elif rest and prefix in self._PREFIXES:
            name = self._PREFIXES[prefix](rest)
        else:
            return None
        return name if name in self else None

    @property
    def refused_demographics(self) -> bool:
        """True when the citizen chose "I do not want to answer" for the questions about
        them (only an instrument with such questions offers the choice)."""
        field = self._fields.get(REFUSE_DEMOGRAPHICS)
        return bool(field is not None and field.data)

    def submitted(self, formdata: Any) -> Any:
        """The posted fields the one door should see: without any answer about the citizen
        when they refused those questions (a choice made before refusing is dropped)."""
        if not self.refused_demographics:
            return formdata
        return MultiDict([(name, value) for name, value in formdata.items(multi=True)
                          if not name.startswith("d_")])

    def show(self, problem: DomainError) -> None:
        """Put each field message of a domain error beside its question."""
        for key, message in problem.fields.items():
            name = self.field_for(key)
            if name:
                self[name].errors = [*self[name].errors, message]


def questionnaire_form(instrument: Instrument, locale: str = "vi",
                       formdata: Any = None, **kwargs: Any) -> QuestionnaireForm:
    """Build and instantiate the form for ``instrument`` with labels in ``locale``."""
    level_choices = [SelectChoice(str(v), t.get(locale)) for v, t in instrument.scale]
    level_choices.append(SelectChoice(NO_ANSWER, instrument.no_answer.get(locale)))
    attrs: dict[str, Any] = {
        "instrument": instrument, "locale": locale,
        "comment": TextAreaField(_l("Other comments (optional)"),
                                 render_kw={"maxlength": limits().comment}),
        "consent": BooleanField(_l("I would like the office to contact me about my comment, and "
                                   "I agree to give my phone number or e-mail address for this "
                                   "purpose only.")),
        # never remembered by the browser: a kiosk is shared by every citizen
        "contact": StringField(_l("Phone number or e-mail address (only if you ticked the box "
                                  "above)"),
                               render_kw={"maxlength": MAX_CONTACT, "autocomplete": "off",
                                          "spellcheck": "false", "autocapitalize": "none"})}
    for c in instrument.criteria:
        attrs[field_name(c.code)] = RadioField(
            f"{c.code}. {c.asked(locale)}", choices=list(level_choices),
            validate_choice=False)
    exp_choices = [SelectChoice(str(v), t.get(locale)) for v, t in instrument.expectation_levels]
    for a in instrument.expectation_areas:
        attrs["e_" + a.code] = RadioField(a.asked(locale), choices=list(exp_choices),
                                          validate_choice=False)
    if instrument.demographics:
        attrs[REFUSE_DEMOGRAPHICS] = BooleanField(
            _l("I do not want to answer these questions"))
    for q in instrument.demographics:
        attrs["d_" + q.code] = RadioField(
            q.asked(locale), choices=[SelectChoice(o.code, o.asked(locale))
                                          for o in q.options], validate_choice=False)
    form_class = type(f"Questionnaire_{instrument.id}", (QuestionnaireForm,), attrs)
    if formdata is not None:
        kwargs["formdata"] = formdata
    return form_class(**kwargs)
