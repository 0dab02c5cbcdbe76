"""The instrument as versioned data: the shipped file, validation, a second instrument."""

import copy
import json
from pathlib import Path

import pytest

from core.instrument import (
    BUILTIN_DIR,
    InstrumentError,
    InstrumentRegistry,
    load_instrument,
    parse_instrument,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "instruments"
HANOI = json.loads((BUILTIN_DIR / "hanoi-2022.json").read_text(encoding="utf-8"))


def test_hanoi_2022_has_five_dimensions_and_24_criteria_in_order():
    inst = load_instrument(BUILTIN_DIR / "hanoi-2022.json")
    assert [d.code for d in inst.dimensions] == ["I", "II", "III", "IV", "V"]
    assert [len(d.criteria) for d in inst.dimensions] == [4, 5, 7, 4, 4]
    assert inst.criterion_codes[0] == "I.1" and inst.criterion_codes[-1] == "V.4"
    assert [v for v, _t in inst.scale] == [5, 4, 3, 2, 1]
    assert inst.scale[0][1].vi == "Rất hài lòng" and inst.scale[-1][1].vi == "Rất không hài lòng"
    assert inst.no_answer.vi.startswith("Không trả lời")


def test_seed_typo_niem_vet_is_fixed():
    inst = load_instrument(BUILTIN_DIR / "hanoi-2022.json")
    assert inst.criterion("II.1").text.vi == "Quy định TTHC được niêm yết công khai dễ thấy"
    assert all("niêm vết" not in c.text.vi for c in inst.criteria)
    assert inst.criterion("III.7").text.vi == "Công chức tận tình giúp đỡ"
    assert inst.dimensions[4].name.vi == "Tiếp nhận, xử lý ý kiến góp ý, phản ánh, kiến nghị"


def test_every_text_has_english_too():
    inst = load_instrument(BUILTIN_DIR / "hanoi-2022.json")
    assert all(c.text.en and c.text.en != c.text.vi for c in inst.criteria)
    assert inst.criterion("I.1").text.get("en").startswith("The office")
    assert inst.criterion("I.1").text.get("vi").startswith("Trụ sở")


def test_encode_decode_round_trip_and_errors():
    inst = load_instrument(BUILTIN_DIR / "hanoi-2022.json")
    packed = inst.encode({"I.1": 5, "V.4": 1, "III.2": None})
    assert len(packed) == 24 and packed[0] == "5" and packed[-1] == "1" and packed[5] == "0"
    assert inst.decode(packed)["I.1"] == 5 and inst.decode(packed)["III.2"] is None
    with pytest.raises(KeyError):
        inst.encode({"VI.1": 3})
    with pytest.raises(ValueError):
        inst.encode({"I.1": 6})


@pytest.mark.parametrize("breakage, message", [
    (lambda d: d["dimensions"][1]["criteria"][0].update(code="I.9"), "must start with"),
    (lambda d: d["dimensions"][0]["criteria"].append(
        copy.deepcopy(d["dimensions"][0]["criteria"][0])), "duplicate criterion"),
    (lambda d: d["scale"].pop(), "exactly the levels"),
    (lambda d: d["dimensions"][2]["criteria"][1]["text"].pop("vi"), "non-empty 'vi' and 'en'"),
    (lambda d: d.pop("dimensions"), "'dimensions' is missing"),
    (lambda d: d["scale"][0].update(value=7), "value from 1 to 5"),
])
def test_validation_fails_loudly(breakage, message):
    data = copy.deepcopy(HANOI)
    breakage(data)
    with pytest.raises(InstrumentError, match=message):
        parse_instrument(data)


def test_file_name_must_match_id(tmp_path):
    (tmp_path / "other.json").write_text(json.dumps(HANOI), encoding="utf-8")
    with pytest.raises(InstrumentError, match="file name"):
        load_instrument(tmp_path / "other.json")
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InstrumentError, match="JSON"):
        load_instrument(tmp_path / "broken.json")


def test_registry_finds_a_second_instrument_without_code_changes():
    reg = InstrumentRegistry([BUILTIN_DIR, FIXTURES])
    assert reg.ids() == ["hanoi-2022", "mini-2024"]
    mini = reg.get("mini-2024")
    assert mini.structure() == {"A": ("A.1", "A.2"), "B": ("B.1",)}
    with pytest.raises(KeyError):
        reg.get("nope")


def test_citizens_read_plain_words_reports_keep_the_official_ones():
    """Abbreviations are spelled out for citizens ("plain"); the official wording stays for
    reports; the codes do not change with the wording (version 2 pools with version 1)."""
    from core.instrument import BUILTIN_DIR, load_instrument

    inst = load_instrument(BUILTIN_DIR / "hanoi-2022.json")
    ii1 = inst.criterion("II.1")
    assert "TTHC" in ii1.text.vi and "TTHC" not in ii1.asked("vi")
    assert ii1.asked("vi") == "Quy định thủ tục hành chính được niêm yết công khai dễ thấy"
    assert inst.criterion("I.1").asked("vi") == inst.criterion("I.1").text.vi  # no plain one
    education = inst.demographic("education")
    assert education.options[0].code == "none"
    assert education.options[0].asked("vi") == "Không đi học / chưa hết tiểu học"
    labels = [o.asked("vi") for o in education.options]
    assert "THCS" not in labels and "Trung học cơ sở (cấp 2)" in labels
    assert [o.label.vi for o in education.options][2:4] == ["THCS", "THPT"]
    for c in inst.criteria:  # nothing a citizen reads is abbreviated
        assert not any(w in c.asked("vi") for w in ("TTHC", "THCS", "THPT", "CBCC"))
