"""One door for every answer.

Every citizen's answer enters here, whatever the channel: the kiosk API, the kiosk's
no-JavaScript form, the receipt (QR) form and the office's generic link go through
:func:`submit`; paper rows go through the same pure rules (:func:`clean_response`) and a bulk
writer (:mod:`core.services.imports`). One set of field rules, limits and messages:

    channel adapter             the door                                     storage
    ---------------             --------                                     -------
    JSON body ─ raw_from_json ┐
    form post ─ raw_from_form ┴> submit(door, raw): admit, ensure_collecting,
                                 check_submission (clean_response) ──> door.store: pending
                                                                       (mixing.hold), later
                                                                       released by mixing.mix
    paper row ─ cells_reader ──> clean_response per row ────────────────> bulk insert
                                                                          (shuffled, by day)

* a :class:`Door` says what is special about a channel: which office it answers for and
  whether it may (``admit``: a device credential, a receipt, a form token), and what it
  claims in the same transaction as the pending answer (``store``: the receipt used once,
  the form token burnt, the kiosk's submission id; its rate limit and burst run live in the
  rate-limit store);
* the office check ("is it collecting answers?") and the submission metrics happen in
  :func:`submit`, once;
* errors are domain errors (:mod:`core.errors`) naming field keys (``answers.I.1``,
  ``comment``, ``expectations.digital``, ``id``, ...); a response with no criterion
  answered is the one error :class:`NothingAnswered` (code ``empty``) on every channel.

Limits come from the configuration (``COMMENT_MAX_LENGTH``) and the database columns, and are
given to the templates (and through them to the kiosk's script) by :func:`limits`.

Personal data: a comment is masked (:func:`core.personal_data.mask_personal_data`, unless
``MASK_COMMENTS`` is off) by :func:`clean_response`, so on every channel, paper included. A
citizen who ticks the consent box and gives a phone number or e-mail address
(:func:`clean_contact`) has the comment and the contact stored as a contact request
(:func:`core.services.feedback.hold_request`), in the transaction that acknowledges the
answer, and the answer itself is stored without the comment: nothing of it names a person.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from operator import itemgetter
from typing import Any, Protocol

from flask import current_app
from flask_babel import gettext as _

from core import metrics
from core.errors import Conflict, DomainError, Invalid, RateLimited
from core.instrument import NO_ANSWER, Instrument
from core.personal_data import MAX_CONTACT, Contact, mask_personal_data, normalize_contact
from core.services import followup
from core.services.common import registry
from core.services.feedback import hold_request
from core.services.offices import ensure_collecting
from core.services.responses import MAX_PROCEDURE, CleanResponse
from core.services.tx import transaction
from core.timeutil import parse_timestamp

#: Characters never meaningful in a citizen's text: C0 controls other than tab, newline and
#: carriage return, DEL, lone UTF-16 surrogates (from JSON "\\ud800"), and U+FFFD, which is
#: what a form or file whose bytes were not valid UTF-8 decodes to.
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffd]")
_SCORES = {1: "1", 2: "2", 3: "3", 4: "4", 5: "5"}
#: Representations of a criterion's answer in text channels (forms, paper cells).
_TEXT_SCORES: dict[str, int | None] = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5}


class ValidationFailed(Invalid):
    """Input that cannot be accepted; ``fields`` maps each bad field key to a message."""

    def __init__(self, fields: dict[str, str], message: str | None = None) -> None:
        super().__init__("invalid", message or _("Some answers are not valid."), fields)


class NothingAnswered(ValidationFailed):
    """Every criterion is "no answer": there is nothing to count (code ``empty``)."""

    def __init__(self) -> None:
        super().__init__({"answers": _("at least one criterion must be answered")},
                         _("Please rate at least one question before sending."))
        self.code = "empty"


@dataclass(frozen=True)
class Limits:
    """Lengths the forms, the kiosk script and every channel's rules share."""

    comment: int
    procedure: int


def limits() -> Limits:
    return Limits(comment=int(current_app.config["COMMENT_MAX_LENGTH"]),
                  procedure=MAX_PROCEDURE)


# --- the rules (pure: no database) ----------------------------------------------------------

def clean_text(value: Any, limit: int) -> tuple[str | None, str | None]:
    """(text, None) or (None, problem) for an optional free-text field: text only, no
    control or invalid characters, at most ``limit`` characters once stripped; empty is
    None."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        return None, _("must be text")
    if _BAD_TEXT.search(value):
        return None, _("must not contain control characters or invalid characters")
    value = value.strip()
    if len(value) > limit:
        return None, _("must be at most %(limit)s characters", limit=limit)
    return value or None, None


def masking_comments() -> bool:
    """Whether comments are masked before they are stored (``MASK_COMMENTS``)."""
    return bool(current_app.config["MASK_COMMENTS"])


def clean_response(instrument: Instrument, answers: Any, *, comment: Any = None,
                   procedure: Any = None, expectations: Any = None, demographics: Any = None,
                   every_criterion: bool = False, limit: Limits | None = None,
                   mask: bool | None = None) -> CleanResponse:
    """Check a whole response against its instrument: the one set of field rules.

    ``answers`` maps criterion code -> 1..5 or None (no answer). Criteria left out count as
    no answer, unless ``every_criterion`` (a form, where each question needs an explicit
    choice, "no answer" included). The comment's phone numbers, ID numbers, e-mail
    addresses and dossier codes are masked when ``mask`` (default: ``MASK_COMMENTS``).
    Raises ValidationFailed naming every bad field key, then NothingAnswered when no
    criterion is answered.
    """
    limit = limit or limits()
    errors: dict[str, str] = {}
    packed = _pack(instrument, answers, every_criterion, errors)
    clean_comment, problem = clean_text(comment, limit.comment)
    if problem:
        errors["comment"] = problem
    elif clean_comment and (masking_comments() if mask is None else mask):
        clean_comment = mask_personal_data(clean_comment)
    clean_procedure, problem = clean_text(procedure, limit.procedure)
    if problem:
        errors["procedure"] = problem
    clean_exp = _choices(expectations, "expectations", errors, _expectation_ok, instrument)
    clean_demo = _choices(demographics, "demographics", errors, _demographic_ok, instrument)
    if errors:
        required = _("Please choose a rating, or “No answer”.")
        message = (_("Some questions are not answered yet. Please choose a rating, or “No "
                     "answer”, for each question.")
                   if required in errors.values() else None)
        raise ValidationFailed(errors, message)
    if packed.count(NO_ANSWER) == len(packed):
        raise NothingAnswered()
    return CleanResponse(instrument.id, packed, clean_comment, clean_procedure, clean_exp,
                         clean_demo)


_CHAR_OF: dict[int | None, str] = {None: NO_ANSWER, **_SCORES}
_PLAIN_TYPES = {int, type(None)}


def _pack(instrument: Instrument, answers: Any, every_criterion: bool,
          errors: dict[str, str]) -> str:
    if not isinstance(answers, Mapping):
        errors["answers"] = _("must be an object mapping criterion codes to scores")
        return NO_ANSWER * len(instrument.criteria)
    positions = instrument.positions
    values = answers.values()
    if (set(map(type, values)) <= _PLAIN_TYPES and positions.keys() >= answers.keys()
            and not (every_criterion and len(answers) < len(positions))):
        # the usual case, checked and packed at C speed: known codes, whole numbers or None
        try:
            return "".join(map(_CHAR_OF.__getitem__, map(answers.get, positions)))
        except KeyError:
            pass  # a number outside 1..5: the loop below names it
    chars = [NO_ANSWER] * len(positions)
    for code, value in answers.items():
        pos = positions.get(code) if code.__class__ is str else None
        if pos is None:
            errors[f"answers.{code}"] = _("unknown criterion for instrument %(id)s",
                                          id=instrument.id)
        elif value is None:
            continue
        elif value.__class__ is int and value in _SCORES:  # not a bool, a float or text
            chars[pos] = _SCORES[value]
        else:
            errors[f"answers.{code}"] = _("must be a score from 1 to 5, or no answer")
    if every_criterion:
        for code in positions:
            if code not in answers:
                errors[f"answers.{code}"] = _("Please choose a rating, or “No answer”.")
    return "".join(chars)


def _expectation_ok(instrument: Instrument):
    levels = {v for v, _t in instrument.expectation_levels}
    areas = set(instrument.expectation_area_codes())

    def check(area: str, level: Any) -> str | None:
        if area not in areas:
            return _("unknown area")
        if type(level) is not int or level not in levels:
            return _("unknown level")
        return None

    return check


def _demographic_ok(instrument: Instrument):
    def check(code: str, option: Any) -> str | None:
        question = instrument.demographic(code)
        if question is None:
            return _("unknown question")
        if not isinstance(option, str) or option not in {o.code for o in question.options}:
            return _("unknown option")
        return None

    return check


def _choices(value: Any, name: str, errors: dict[str, str], checker,
             instrument: Instrument) -> dict | None:
    """An optional mapping of question -> choice; None and "" choices are skipped."""
    if value is None or value == {}:
        return None
    if not isinstance(value, Mapping):
        errors[name] = _("must be an object")
        return None
    check = checker(instrument)
    clean = {}
    for key, choice in value.items():
        if choice is None or choice == "":
            continue
        problem = check(key, choice) if isinstance(key, str) else _("unknown question")
        if problem:
            errors[f"{name}.{key}"] = problem
        else:
            clean[key] = choice
    return clean or None


def clean_contact(consent: Any, contact: Any) -> tuple[Contact | None, dict[str, str]]:
    """(contact, {}) or (None, problems) for the consent box and the contact field: a
    citizen is contacted only when both are given, the box ticked (``True``, never
    assumed) and the contact a phone number or e-mail address. Neither given: (None, {})."""
    if consent is not None and not isinstance(consent, bool):
        return None, {"consent": _("must be true or false")}
    if contact is not None and not isinstance(contact, str):
        return None, {"contact": _("must be text")}
    text = (contact or "").strip()
    if not text:
        if consent:
            return None, {"contact": _("Please give a phone number or an e-mail address, "
                                       "or untick the box.")}
        return None, {}
    if _BAD_TEXT.search(text) or len(text) > MAX_CONTACT:
        return None, {"contact": _("must be a phone number or an e-mail address")}
    parsed = normalize_contact(text)
    problems = {}
    if parsed is None:
        problems["contact"] = _("must be a phone number (e.g. 0912 345 678) or an e-mail "
                                "address")
    if not consent:
        problems["consent"] = _("Please tick the box to agree to be contacted, or leave the "
                                "contact empty.")
    return (None, problems) if problems else (parsed, {})


def parse_time(value: Any, name: str, errors: dict[str, str]) -> datetime | None:
    """An optional ISO 8601 timestamp; a problem is added to ``errors`` under ``name``."""
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return parse_timestamp(value)
    except (ValueError, OverflowError):  # e.g. year 1 with a positive offset
        errors[name] = _("must be an ISO 8601 date and time, e.g. 2026-11-28T09:30:00+07:00")
        return None


# --- what comes in -----------------------------------------------------------------------------

@dataclass
class RawSubmission:
    """A submission as a channel received it, before any rule is applied."""

    answers: Any
    instrument: Any = None  # None: the configured default instrument
    comment: Any = None
    expectations: Any = None
    demographics: Any = None
    id: Any = None  # a client-chosen UUID (kiosks: makes re-sending idempotent)
    submitted_at: Any = None
    started_at: Any = None
    #: the consent box (``True`` only when ticked) and the contact given with it
    consent: Any = None
    contact: Any = None
    #: a questionnaire left before the end (kiosk walk-away): ``True`` or absent; it carries
    #: criterion answers only
    partial: Any = None
    #: SHA-256 of the follow-up code the citizen was given (core.services.followup)
    followup_hash: Any = None
    every_criterion: bool = False
    #: what the channel's adapter found wrong with the envelope (field key -> message)
    problems: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NewContactRequest:
    """A citizen's comment (masked like every comment) with the contact they consented to be
    reached at: stored apart from the answer, which then carries no comment."""

    comment: str | None
    contact: Contact


@dataclass(frozen=True)
class Submission:
    """A submission that passed every rule."""

    response: CleanResponse
    uuid: str | None
    submitted_at: datetime | None
    started_at: datetime | None
    contact_request: NewContactRequest | None = None


def raw_from_json(body: Any) -> RawSubmission:
    """A JSON request body (kiosk API); a body that is not an object, or has no
    ``answers``, is reported by :func:`check_submission`."""
    if not isinstance(body, Mapping):
        return RawSubmission(answers={}, problems={"body": _("must be a JSON object")})
    problems = {} if "answers" in body else {"answers": _(
        "is required: an object mapping criterion codes to scores")}
    return RawSubmission(answers=body.get("answers", {}),
                         instrument=body.get("instrument") or "",  # required here
                         comment=body.get("comment"), expectations=body.get("expectations"),
                         demographics=body.get("demographics"), id=body.get("id"),
                         submitted_at=body.get("submitted_at"),
                         started_at=body.get("started_at"), consent=body.get("consent"),
                         contact=body.get("contact"), partial=body.get("partial"),
                         followup_hash=body.get("followup_hash"), problems=problems)


def criterion_field(code: str) -> str:
    """'III.4' -> 'c_III_4': the form field of a criterion (a valid HTML and Python name)."""
    return "c_" + code.replace(".", "_")


def raw_from_form(instrument: Instrument, form: Mapping[str, str], *,
                  submission_id: Any = None) -> RawSubmission:
    """A posted questionnaire form (kiosk without JavaScript, phone survey): ``c_<code>``
    radio values "1".."5" or "0" (no answer), ``e_<area>``, ``d_<question>``, ``comment``,
    ``consent`` (a ticked checkbox: "y") and ``contact``. Every criterion needs an explicit
    choice. Values are passed on as given (a "6" stays "6"), so the rules name them."""
    answers: dict[str, Any] = {}
    expectations: dict[str, Any] = {}
    demographics: dict[str, Any] = {}
    for name in form:
        value = form.get(name)
        if name.startswith("c_") and value not in (None, ""):
            answers[name[2:].replace("_", ".")] = (None if value == NO_ANSWER
                                                  else _TEXT_SCORES.get(value, value))
        elif name.startswith("e_") and value:
            expectations[name[2:]] = int(value) if value.isdigit() and len(value) < 4 else value
        elif name.startswith("d_") and value:
            demographics[name[2:]] = value
    return RawSubmission(answers=answers, instrument=instrument.id,
                         comment=form.get("comment") or None,
                         expectations=expectations or None,
                         demographics=demographics or None,
                         consent=form.get("consent") in ("y", "on", "1", "true"),
                         contact=form.get("contact") or None,
                         id=submission_id, every_criterion=True)


#: Paper cells as usually written ("3", "" ...) -> the answer.
_PLAIN_CELLS: dict[str, int | None] = {"": None, **_TEXT_SCORES}


def cells_reader(columns: Mapping[str, int]) -> Callable[[Sequence[str]], dict[str, Any]]:
    """A function reading the answers of one paper row (a list of cells), for the criterion
    columns given as code -> column index: "1".."5" a score, empty no answer; anything else
    is passed on as given (stripped) for the rules to name."""
    codes = list(columns)
    pick = itemgetter(*columns.values()) if len(columns) > 1 else (
        lambda row, i=next(iter(columns.values()), 0): (row[i],))

    def read(row: Sequence[str]) -> dict[str, Any]:
        cells = pick(row) if columns else ()
        out = dict(zip(codes, map(_PLAIN_CELLS.get, cells, cells), strict=True))
        if str in set(map(type, out.values())):  # padded or odd cells: the slow way
            for code, value in out.items():
                if value.__class__ is str:
                    text = value.strip()
                    out[code] = _PLAIN_CELLS.get(text, text)
        return out

    return read


def check_submission(raw: RawSubmission, *, require_id: bool = False) -> Submission:
    """Apply every rule to a raw submission. Raises ValidationFailed naming every bad field
    (the envelope first: id, instrument, times), then NothingAnswered."""
    if "body" in raw.problems:
        raise ValidationFailed(dict(raw.problems))
    errors: dict[str, str] = dict(raw.problems)
    uid = None
    if raw.id is not None or require_id:
        try:
            if not isinstance(raw.id, str):
                raise ValueError
            uid = str(uuidlib.UUID(raw.id))
        except ValueError:
            errors["id"] = _("must be a UUID chosen by the client, e.g. "
                             "3f1c2a4e-8b9d-4c1e-9f00-1a2b3c4d5e6f")
    instrument_id = (current_app.config["DEFAULT_INSTRUMENT"] if raw.instrument is None
                     else raw.instrument)
    if not isinstance(instrument_id, str) or instrument_id not in registry():
        errors["instrument"] = _("unknown instrument; known: %(ids)s",
                                 ids=", ".join(registry().ids()))
    submitted = parse_time(raw.submitted_at, "submitted_at", errors)
    started = parse_time(raw.started_at, "started_at", errors)
    partial = _check_partial(raw, errors)
    followup_hash = followup.check_hash(raw.followup_hash, errors)
    if errors:
        raise ValidationFailed(errors)
    contact, problems = clean_contact(raw.consent, raw.contact)
    try:
        clean = clean_response(registry().get(instrument_id), raw.answers,
                               comment=raw.comment, expectations=raw.expectations,
                               demographics=raw.demographics,
                               every_criterion=raw.every_criterion)
    except NothingAnswered:
        if problems:
            raise ValidationFailed(problems) from None
        raise
    except ValidationFailed as exc:
        if problems:
            raise ValidationFailed({**exc.fields, **problems}, exc.message) from None
        raise
    if problems:
        raise ValidationFailed(problems)
    if partial:
        clean = replace(clean, partial=True)
    if contact is None:
        # a follow-up code goes with a comment kept on the answer, and only then
        if followup_hash and clean.comment:
            clean = replace(clean, followup_hash=followup_hash)
        return Submission(clean, uid, submitted, started)
    # the comment goes with the contact, never with the scores
    request = NewContactRequest(clean.comment, contact)
    return Submission(replace(clean, comment=None), uid, submitted, started, request)


def _check_partial(raw: RawSubmission, errors: dict[str, str]) -> bool:
    """Whether ``raw`` is a partial questionnaire (a kiosk's walk-away answers). A partial
    one carries the criterion answers of the finished dimensions and nothing the citizen did
    not send themselves: a comment, expectations, demographics or a contact make it
    invalid (field ``partial``)."""
    if raw.partial is None or raw.partial is False:
        return False
    if raw.partial is not True:
        errors["partial"] = _("must be true or false")
        return False
    if any(value not in (None, "", {}, False) for value in (
            raw.comment, raw.expectations, raw.demographics, raw.contact, raw.consent)):
        errors["partial"] = _("a partial questionnaire carries criterion answers only")
    return True


# --- the door ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stored:
    """What a channel tells the citizen or device: the response's UUID when the channel
    chose one (kiosks), whether it is new, and review flags."""

    uuid: str | None
    created: bool
    flags: tuple[str, ...] = ()


class Door(Protocol):
    """What is special about one channel (see :func:`submit`)."""

    channel: str
    #: True when the channel chooses the response's UUID (a replay then stores nothing)
    require_id: bool

    def admit(self) -> Any:
        """Checks that do not depend on the answers (credential, receipt, form token).
        Returns the office (``id``, ``active``, ``name``). Raises domain errors."""

    def store(self, submission: Submission, office: Any) -> Stored:
        """Claim what the channel claims and hold the answer as pending
        (:func:`core.services.mixing.hold`), in the caller's
        transaction (no commit). Raises domain errors; the transaction is then rolled
        back."""


@dataclass(frozen=True)
class Checked:
    """The outcome of :func:`check_submission` worked out ahead of :func:`submit` (see
    :func:`check_ahead`): the submission, or the domain error it raised."""

    submission: Submission | None
    error: DomainError | None
    require_id: bool

    def get(self) -> Submission:
        if self.error is not None:
            raise self.error
        assert self.submission is not None
        return self.submission


def check_ahead(raw: RawSubmission, *, require_id: bool) -> Checked:
    """Apply every rule to ``raw`` now and keep the outcome for :func:`submit`, which raises
    a rule's error in its usual place (after the door's own checks). A channel whose door
    reads the database (a device credential) checks the answers first this way, so that the
    write transaction its check begins (SQLite: the write lock) is held for the writes
    only. Pure, like the rules."""
    try:
        return Checked(check_submission(raw, require_id=require_id), None, require_id)
    except DomainError as exc:
        return Checked(None, exc, require_id)


def submit(door: Door, raw: RawSubmission, *, checked: Checked | None = None) -> Stored:
    """Accept one response through ``door``: admit, check the office collects answers,
    apply every rule (or take their outcome from ``checked``, :func:`check_ahead` of the
    same ``raw``), then store it, the channel's claims and the citizen's contact request
    (if any) in one transaction. Counts the outcome in the metrics. Raises domain errors;
    nothing is stored then."""
    try:
        office = door.admit()
        ensure_collecting(office)
        if checked is not None and checked.require_id == door.require_id:
            submission = checked.get()
        else:
            submission = check_submission(raw, require_id=door.require_id)
        with transaction():
            stored = door.store(submission, office)
            if stored.created and submission.contact_request is not None:
                hold_request(submission.contact_request, office.id)
    except DomainError as exc:
        metrics.count_submission(door.channel, _outcome(exc))
        raise
    metrics.count_submission(door.channel, "stored" if stored.created else "duplicate")
    if not stored.created and door.require_id:  # an offline queue re-sent what was stored
        metrics.count_replay(door.channel, "duplicate")
    return stored


def _outcome(exc: DomainError) -> str:
    if isinstance(exc, Invalid):
        return "invalid"
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, Conflict):
        return "duplicate"
    return "rejected"
