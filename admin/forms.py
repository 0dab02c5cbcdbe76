"""Forms of the results area (labels translated lazily)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional

from core.models import COMMENT_STATUSES, ROLES


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new", _l("The two new "
                                                                          "passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


def status_label(status: str) -> str:
    return str(STATUS_LABELS[status])


STATUS_LABELS = {
    "new": _l("New"),
    "in_progress": _l("Being handled"),
    "answered": _l("Answered"),
    "not_actionable": _l("Not actionable"),
}


class CommentForm(FlaskForm):
    status = SelectField(_l("Status"), validators=[InputRequired()])
    internal_note = TextAreaField(_l("Internal note (not shown to citizens)"),
                                  validators=[Optional(), Length(max=2000)])
    public_reply = TextAreaField(_l("Public reply"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice(s, str(STATUS_LABELS[s])) for s in COMMENT_STATUSES]


class ContactRequestForm(FlaskForm):
    """Handling a contact request: its status and a note (the citizen gets no public
    reply: they are contacted)."""

    status = SelectField(_l("Status"), validators=[InputRequired()])
    internal_note = TextAreaField(_l("Internal note (not shown to citizens)"),
                                  validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice(s, str(STATUS_LABELS[s])) for s in COMMENT_STATUSES]


ROLE_LABELS = {"admin": _l("City administrator"), "head": _l("Office head"),
               "viewer": _l("Viewer")}


CHANNEL_LABELS = {"kiosk": _l("Desk tablet"), "qr": _l("QR code on the receipt"),
                  "generic": _l("General link or poster"), "paper": _l("Paper form"),
                  "web": _l("Website")}


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_l("Role"), validators=[InputRequired()])
    office = SelectField(_l("Office"), validators=[Optional()])

    def __init__(self, offices, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(r, str(ROLE_LABELS[r])) for r in ROLES]
        self.office.choices = [SelectChoice("", str(_l("(none: the whole city)")))] + [
            SelectChoice(o.code, f"{'— ' * depth}{o.name} ({o.code})") for o, depth in offices]


class TokenForm(FlaskForm):
    label = StringField(_l("What the token is for"), validators=[Optional(), Length(max=100)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
