"""The questionnaire as versioned data.

An instrument (``core/instruments/<id>.json``) holds the dimensions, criteria, wording in each
language, the answer scale, the expectation areas and the optional demographic questions. Its
official Vietnamese wording lives here, not in gettext, so a translator cannot change an official
question. Beside an official wording (``text``, ``name``, ``label``) an optional ``plain`` one
is what citizens read (abbreviations spelled out); reports keep the official one.

Versions: a change of wording (official or plain) raises the file's ``version`` and keeps its
``id`` and criterion codes, so answers before and after are tallied and reported together
(tallies are keyed by ``id`` and criterion code). A change of criteria, codes or scale is a new
instrument with a new ``id``: its figures are reported apart.

Pure Python: no Flask, no SQLAlchemy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

#: Character stored for "no answer / not applicable" in the compact answers string.
NO_ANSWER = "0"
SCALE_VALUES = (1, 2, 3, 4, 5)
BUILTIN_DIR = Path(__file__).parent / "instruments"


class InstrumentError(ValueError):
    """An instrument file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Text:
    """A wording in each language; ``get`` falls back to Vietnamese."""

    vi: str
    en: str

    def get(self, locale: str | None) -> str:
        return self.en if (locale or "vi").startswith("en") else self.vi


def _asked(official: Text, plain: Text | None, locale: str | None) -> str:
    return (plain or official).get(locale)


@dataclass(frozen=True)
class Criterion:
    """One rated statement (e.g. "I.1"), answered on the 1-5 scale."""

    code: str
    dimension: str  # the code of its dimension ("I")
    #: the official wording (reports, exports, the official PDF)
    text: Text
    #: the wording citizens read, abbreviations spelled out ("TTHC" -> "thủ tục hành chính");
    #: None: the official one
    plain: Text | None = None

    def asked(self, locale: str | None) -> str:
        """What a citizen reads: the plain wording, else the official one."""
        return _asked(self.text, self.plain, locale)


@dataclass(frozen=True)
class Dimension:
    """A group of criteria (I-V); its index is the mean of theirs."""

    code: str
    name: Text
    criteria: tuple[Criterion, ...]
    plain: Text | None = None

    def asked(self, locale: str | None) -> str:
        return _asked(self.name, self.plain, locale)


@dataclass(frozen=True)
class Option:
    """A coded choice: an expectation area, or an answer to a demographic question."""

    code: str
    label: Text
    plain: Text | None = None

    def asked(self, locale: str | None) -> str:
        return _asked(self.label, self.plain, locale)


@dataclass(frozen=True)
class Question(Option):
    """An optional demographic question: a coded label with its options."""

    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class Instrument:
    """One version of the questionnaire."""

    id: str
    title: Text
    scale: tuple[tuple[int, Text], ...]
    no_answer: Text
    dimensions: tuple[Dimension, ...]
    expectation_question: Text
    expectation_levels: tuple[tuple[int, Text], ...]
    expectation_areas: tuple[Option, ...]
    demographics: tuple[Question, ...]
    #: the fixed themes comment handlers tag comments with (never free-text analysis)
    comment_themes: tuple[Option, ...] = ()
    criteria: tuple[Criterion, ...] = field(init=False)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        criteria = tuple(c for d in self.dimensions for c in d.criteria)
        object.__setattr__(self, "criteria", criteria)
        object.__setattr__(self, "_index", {c.code: i for i, c in enumerate(criteria)})

    @property
    def criterion_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.criteria)

    def has_criterion(self, code: str) -> bool:
        return code in self._index

    @property
    def positions(self) -> dict[str, int]:
        """Criterion code -> its place in the packed answers (do not modify)."""
        return self._index

    def criterion(self, code: str) -> Criterion:
        """Raises KeyError for an unknown code."""
        return self.criteria[self._index[code]]

    def structure(self) -> dict[str, tuple[str, ...]]:
        """Dimension code -> criterion codes, in questionnaire order."""
        return {d.code: tuple(c.code for c in d.criteria) for d in self.dimensions}

    def encode(self, answers: dict[str, int | None]) -> str:
        """Pack answers into one character per criterion ('0' = no answer).

        Raises KeyError for an unknown criterion and ValueError for a score outside 1-5.
        """
        chars = [NO_ANSWER] * len(self.criteria)
        for code, value in answers.items():
            pos = self._index[code]
            if value is None:
                continue
            if value not in SCALE_VALUES:
                raise ValueError(f"score {value!r} for {code} is outside 1-5")
            chars[pos] = str(value)
        return "".join(chars)

    def decode(self, packed: str) -> dict[str, int | None]:
        """The inverse of :meth:`encode`."""
        return {
            c.code: (None if ch == NO_ANSWER else int(ch))
            for c, ch in zip(self.criteria, packed, strict=True)
        }

    def expectation_area_codes(self) -> tuple[str, ...]:
        return tuple(a.code for a in self.expectation_areas)

    def comment_theme_codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.comment_themes)

    def demographic(self, code: str) -> Question | None:
        return next((q for q in self.demographics if q.code == code), None)


def _text(raw: object, where: str) -> Text:
    if not isinstance(raw, dict) or not all(
        isinstance(raw.get(k), str) and raw[k].strip() for k in ("vi", "en")
    ):
        raise InstrumentError(f"{where}: needs non-empty 'vi' and 'en' texts")
    return Text(vi=raw["vi"].strip(), en=raw["en"].strip())


def _plain(raw: dict, where: str) -> Text | None:
    """The optional citizen-facing wording ``plain`` beside an official one."""
    return None if raw.get("plain") is None else _text(raw["plain"], f"{where} plain")


def _require(raw: dict, key: str, kind: type, where: str):
    value = raw.get(key)
    if not isinstance(value, kind) or (kind in (list, str) and not value):
        raise InstrumentError(f"{where}: '{key}' is missing or not a {kind.__name__}")
    return value


def _options(raw_list: object, where: str) -> tuple[Option, ...]:
    if not isinstance(raw_list, list) or not raw_list:
        raise InstrumentError(f"{where}: needs a non-empty list of options")
    options = []
    for i, raw in enumerate(raw_list):
        if not isinstance(raw, dict):
            raise InstrumentError(f"{where}[{i}]: not an object")
        code = _require(raw, "code", str, f"{where}[{i}]")
        options.append(Option(code=code, label=_text(raw.get("label"), f"{where}.{code}"),
                              plain=_plain(raw, f"{where}.{code}")))
    codes = [o.code for o in options]
    if len(set(codes)) != len(codes):
        raise InstrumentError(f"{where}: duplicate option codes")
    return tuple(options)


def parse_instrument(data: object, source: str = "<data>") -> Instrument:
    """Build an :class:`Instrument` from decoded JSON.

    Raises InstrumentError naming the first problem found.
    """
    if not isinstance(data, dict):
        raise InstrumentError(f"{source}: the top level must be an object")
    iid = _require(data, "id", str, source)
    where = f"{source} ({iid})"

    scale_raw = _require(data, "scale", list, where)
    scale = []
    for item in scale_raw:
        if not isinstance(item, dict) or item.get("value") not in SCALE_VALUES:
            raise InstrumentError(f"{where}: every scale level needs a value from 1 to 5")
        scale.append((item["value"], _text(item.get("label"), f"{where} scale {item['value']}")))
    if sorted(v for v, _ in scale) != list(SCALE_VALUES):
        raise InstrumentError(f"{where}: the scale must have exactly the levels 1, 2, 3, 4, 5")

    dimensions = []
    seen: set[str] = set()
    for raw_dim in _require(data, "dimensions", list, where):
        if not isinstance(raw_dim, dict):
            raise InstrumentError(f"{where}: a dimension is not an object")
        dcode = _require(raw_dim, "code", str, where)
        criteria = []
        for raw_c in _require(raw_dim, "criteria", list, f"{where} dimension {dcode}"):
            if not isinstance(raw_c, dict):
                raise InstrumentError(f"{where}: a criterion of {dcode} is not an object")
            ccode = _require(raw_c, "code", str, f"{where} dimension {dcode}")
            if not ccode.startswith(dcode + "."):
                raise InstrumentError(f"{where}: criterion {ccode} must start with '{dcode}.'")
            if ccode in seen:
                raise InstrumentError(f"{where}: duplicate criterion code {ccode}")
            seen.add(ccode)
            criteria.append(Criterion(ccode, dcode, _text(raw_c.get("text"), f"{where} {ccode}"),
                                      _plain(raw_c, f"{where} {ccode}")))
        if dcode in seen:
            raise InstrumentError(f"{where}: duplicate dimension code {dcode}")
        seen.add(dcode)
        dimensions.append(Dimension(dcode, _text(raw_dim.get("name"), f"{where} {dcode}"),
                                    tuple(criteria), _plain(raw_dim, f"{where} {dcode}")))

    exp = data.get("expectations") or {}
    if not isinstance(exp, dict):
        raise InstrumentError(f"{where}: 'expectations' must be an object")
    if exp:
        levels = []
        for item in _require(exp, "levels", list, f"{where} expectations"):
            if not isinstance(item, dict) or not isinstance(item.get("value"), int):
                raise InstrumentError(f"{where}: every expectation level needs an integer value")
            levels.append((item["value"], _text(item.get("label"), f"{where} expectation level")))
        areas = _options(exp.get("areas"), f"{where} expectations.areas")
        question = _text(exp.get("question"), f"{where} expectations.question")
    else:
        levels, areas, question = [], (), Text("", "")

    demographics = []
    for i, raw_q in enumerate(data.get("demographics") or []):
        if not isinstance(raw_q, dict):
            raise InstrumentError(f"{where}: demographics[{i}] is not an object")
        qcode = _require(raw_q, "code", str, f"{where} demographics[{i}]")
        demographics.append(Question(qcode, _text(raw_q.get("label"), f"{where} {qcode}"),
                                     plain=_plain(raw_q, f"{where} {qcode}"),
                                     options=_options(raw_q.get("options"), f"{where} {qcode}")))

    themes = (_options(data["comment_themes"], f"{where} comment_themes")
              if data.get("comment_themes") is not None else ())

    return Instrument(
        id=iid,
        title=_text(data.get("title"), f"{where} title"),
        scale=tuple(sorted(scale, reverse=True)),
        no_answer=_text(data.get("no_answer"), f"{where} no_answer"),
        dimensions=tuple(dimensions),
        expectation_question=question,
        expectation_levels=tuple(sorted(levels, reverse=True)),
        expectation_areas=tuple(areas),
        demographics=tuple(demographics),
        comment_themes=themes,
    )


def load_instrument(path: Path) -> Instrument:
    """Read and validate one instrument file. Raises InstrumentError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InstrumentError(f"{path}: cannot be read as JSON: {exc}") from exc
    instrument = parse_instrument(data, str(path.name))
    if path.stem != instrument.id:
        raise InstrumentError(f"{path}: file name must be '{instrument.id}.json'")
    return instrument


class InstrumentRegistry:
    """All instruments found in the given folders, loaded on first use."""

    def __init__(self, folders: list[Path] | tuple[Path, ...] = (BUILTIN_DIR,)) -> None:
        self.folders = tuple(Path(f) for f in folders)
        self._instruments: dict[str, Instrument] | None = None

    def _load(self) -> dict[str, Instrument]:
        if self._instruments is None:
            found: dict[str, Instrument] = {}
            for folder in self.folders:
                for path in sorted(folder.glob("*.json")):
                    inst = load_instrument(path)
                    if inst.id in found:
                        raise InstrumentError(f"instrument {inst.id} is defined twice")
                    found[inst.id] = inst
            self._instruments = found
        return self._instruments

    def get(self, instrument_id: str) -> Instrument:
        """Raises KeyError for an unknown instrument id."""
        return self._load()[instrument_id]

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._load()

    def ids(self) -> list[str]:
        return sorted(self._load())
