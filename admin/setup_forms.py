"""Forms of the setup pages: offices, tablets, QR material and API keys (labels translated
lazily; the services check the values again, these forms only shape them)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from core.models import OFFICE_LEVELS

LEVEL_LABELS = {"city": _l("City / province"), "department": _l("Department"),
                "district": _l("District (before 1 July 2025)"),
                "branch": _l("Branch of the public-service centre"),
                "commune": _l("Commune / ward")}

REPORT_FIELD_LABELS = {
    "superior_name": _l("Superior body (letterhead)"),
    "document_symbol": _l("Document symbol (e.g. UBND, SNV)"),
    "place_name": _l("Place name of the date line"),
    "signer_capacity": _l("Signer's capacity (e.g. TM. ỦY BAN NHÂN DÂN)"),
    "signer_title": _l("Signer's title"),
    "signer_name": _l("Signer's name"),
    "report_recipients": _l("Recipients of the report (one per line)"),
}


def office_choices(offices, *, blank: str | None = None) -> list[SelectChoice]:
    choices = [SelectChoice("", blank)] if blank is not None else []
    return choices + [SelectChoice(o.code, f"{'— ' * depth}{o.name} ({o.code})")
                      for o, depth in offices]


class OfficeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)],
                       render_kw={"autocapitalize": "characters", "spellcheck": "false"})
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    level = SelectField(_l("Level"), validators=[InputRequired()])
    parent_code = SelectField(_l("Parent office"), validators=[Optional()])
    superior_name = StringField(REPORT_FIELD_LABELS["superior_name"],
                                validators=[Optional(), Length(max=255)])
    document_symbol = StringField(REPORT_FIELD_LABELS["document_symbol"],
                                  validators=[Optional(), Length(max=32)])
    place_name = StringField(REPORT_FIELD_LABELS["place_name"],
                             validators=[Optional(), Length(max=64)])
    signer_capacity = StringField(REPORT_FIELD_LABELS["signer_capacity"],
                                  validators=[Optional(), Length(max=128)])
    signer_title = StringField(REPORT_FIELD_LABELS["signer_title"],
                               validators=[Optional(), Length(max=128)])
    signer_name = StringField(REPORT_FIELD_LABELS["signer_name"],
                              validators=[Optional(), Length(max=128)])
    report_recipients = TextAreaField(REPORT_FIELD_LABELS["report_recipients"],
                                      validators=[Optional(), Length(max=2000)])

    def __init__(self, parents, *args, top_allowed: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.level.choices = [SelectChoice(v, str(LEVEL_LABELS[v])) for v in OFFICE_LEVELS]
        self.parent_code.choices = office_choices(
            parents, blank=str(_l("(none: a top office)")) if top_allowed else None)


class UploadForm(FlaskForm):
    file = FileField(_l("Offices file (CSV, UTF-8)"))


class ConfirmUploadForm(FlaskForm):
    """The previewed file, sent back to be stored (a hidden field)."""

    content = TextAreaField(validators=[DataRequired(), Length(max=1_000_000)])


class MoveForm(FlaskForm):
    parent_code = SelectField(_l("New parent office"), validators=[Optional()])
    effective_on = DateField(_l("In effect from"), validators=[Optional()])

    def __init__(self, parents, *args, top_allowed: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.parent_code.choices = office_choices(
            parents, blank=str(_l("(none: a top office)")) if top_allowed else None)


class MergeForm(FlaskForm):
    into_code = SelectField(_l("Merge into"), validators=[InputRequired()])
    effective_on = DateField(_l("In effect from"), validators=[Optional()])
    confirm = BooleanField(_l("I understand: this office stops collecting answers and its "
                              "history counts in the surviving office's reports."),
                           validators=[DataRequired()])

    def __init__(self, offices, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.into_code.choices = office_choices(offices)


class KioskForm(FlaskForm):
    office = SelectField(_l("Office"), validators=[InputRequired()])
    name = StringField(_l("Counter"), validators=[DataRequired(), Length(max=80)],
                       render_kw={"placeholder": "Quầy 3"})
    idle_seconds = IntegerField(_l("Idle time (seconds)"),
                                validators=[InputRequired(), NumberRange(10, 3600)],
                                default=60)

    def __init__(self, offices, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.office.choices = office_choices(offices)


class KioskEditForm(FlaskForm):
    name = StringField(_l("Counter"), validators=[DataRequired(), Length(max=80)])
    idle_seconds = IntegerField(_l("Idle time (seconds)"),
                                validators=[InputRequired(), NumberRange(10, 3600)])


class HoursForm(FlaskForm):
    opening_hours = StringField(_l("Opening hours"), validators=[Optional(), Length(max=64)],
                                render_kw={"placeholder": "07:30-11:30,13:30-17:00"})
    opening_days = StringField(_l("Days open (1 = Monday … 7 = Sunday)"),
                               validators=[Optional(), Length(max=13)], default="12345")


class ConfirmForm(FlaskForm):
    confirm = BooleanField(_l("Yes, I am sure"), validators=[DataRequired()])


class ApiKeyForm(FlaskForm):
    office = SelectField(_l("Office"), validators=[InputRequired()])
    label = StringField(_l("What the key is for (e.g. the one-stop software's name)"),
                        validators=[Optional(), Length(max=80)])

    def __init__(self, offices, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.office.choices = office_choices(offices)


class LabelForm(FlaskForm):
    label = StringField(_l("Purpose"), validators=[Optional(), Length(max=80)])


class RevokeKeyForm(FlaskForm):
    confirm = BooleanField(_l("Yes, revoke this key: it can no longer create links"),
                           validators=[DataRequired()])
    withdraw_links = BooleanField(_l("Also withdraw the links it already created (printed "
                                     "receipts stop working)"))


class SlipsForm(FlaskForm):
    codes = TextAreaField(_l("Dossier codes, one per line"),
                          validators=[DataRequired(), Length(max=100_000)])


class PosterForm(FlaskForm):
    size = SelectField(_l("Paper size"),
                       choices=[SelectChoice("A4", "A4"), SelectChoice("A5", "A5")],
                       validators=[InputRequired()])
    counter = StringField(_l("Counter printed under the office (optional)"),
                          validators=[Optional(), Length(max=80)])

    class Meta:
        csrf = False  # a download (GET): changes nothing
