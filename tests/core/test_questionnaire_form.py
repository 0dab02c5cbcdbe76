"""The shared no-JavaScript questionnaire form."""

import pytest
from werkzeug.datastructures import MultiDict

from core.questionnaire import field_name, questionnaire_form
from core.services.intake import ValidationFailed, check_submission, raw_from_form


def test_a_posted_form_goes_through_the_rules_and_errors_come_back_beside_questions(
        app, instrument):
    with app.test_request_context("/"):
        data = MultiDict({field_name(c.code): "4" for c in instrument.criteria})
        data[field_name("V.4")] = "0"  # explicit no answer
        data["e_digital"] = "3"
        data["d_age"] = "60+"
        data["comment"] = "  Rất tốt  "
        form = questionnaire_form(instrument, "vi", formdata=data)
        assert form.validate(), form.errors  # the form itself checks only its CSRF token
        sub = check_submission(raw_from_form(instrument, data))
        clean = sub.response
        assert clean.answers == "4" * 23 + "0"
        assert clean.comment == "Rất tốt"
        assert clean.expectations == {"digital": 3} and clean.demographics == {"age": "60+"}

        # a question left without a choice: the rule names it, the form shows it there
        del data[field_name("II.3")]
        data[field_name("I.1")] = "6"
        form = questionnaire_form(instrument, "vi", formdata=data)
        with pytest.raises(ValidationFailed) as err:
            check_submission(raw_from_form(instrument, data))
        assert set(err.value.fields) == {"answers.II.3", "answers.I.1"}
        form.show(err.value)
        assert "Không trả lời" in form[field_name("II.3")].errors[0]
        assert form[field_name("I.1")].errors and not form[field_name("I.2")].errors
        assert form.field_for("answers.II.3") == field_name("II.3")
        assert form.field_for("answers.IX.9") is None and form.field_for("id") is None


def test_the_comment_box_takes_its_length_from_the_configuration(make_app, instrument):
    app = make_app(COMMENT_MAX_LENGTH=120)
    with app.test_request_context("/"):
        assert 'maxlength="120"' in str(questionnaire_form(instrument, "vi").comment())


def test_form_labels_use_instrument_wording(app, instrument):
    with app.test_request_context("/"):
        vi = questionnaire_form(instrument, "vi")
        en = questionnaire_form(instrument, "en")
        assert vi[field_name("II.1")].label.text.endswith("niêm yết công khai dễ thấy")
        assert "publicly posted" in en[field_name("II.1")].label.text
        last = [c.label for c in vi[field_name("I.1")].choices][-1]
        assert last == "Không trả lời / Không áp dụng"
