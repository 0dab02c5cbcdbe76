"""The shared no-JavaScript questionnaire form."""

from werkzeug.datastructures import MultiDict

from core.questionnaire import field_name, questionnaire_form
from core.services.responses import clean_response


def test_form_requires_every_criterion_and_maps_to_a_clean_response(app, instrument):
    with app.test_request_context("/"):
        data = MultiDict({field_name(c.code): "4" for c in instrument.criteria})
        data[field_name("V.4")] = "0"  # explicit no answer
        data["e_digital"] = "3"
        data["d_age"] = "60+"
        data["comment"] = "  Rất tốt  "
        form = questionnaire_form(instrument, "vi", formdata=data)
        assert form.validate(), form.errors
        payload = form.to_payload()
        assert payload["answers"]["V.4"] is None and payload["answers"]["I.1"] == 4
        clean = clean_response(instrument, **payload)
        assert clean.answers == "4" * 23 + "0"
        assert clean.comment == "Rất tốt"
        assert clean.expectations == {"digital": 3} and clean.demographics == {"age": "60+"}

        del data[field_name("II.3")]
        form = questionnaire_form(instrument, "vi", formdata=data)
        assert not form.validate()
        assert list(form.errors) == [field_name("II.3")]
        assert "Không trả lời" in form.errors[field_name("II.3")][0]


def test_form_labels_use_instrument_wording(app, instrument):
    with app.test_request_context("/"):
        vi = questionnaire_form(instrument, "vi")
        en = questionnaire_form(instrument, "en")
        assert vi[field_name("II.1")].label.text.endswith("niêm yết công khai dễ thấy")
        assert "publicly posted" in en[field_name("II.1")].label.text
        last = [c.label for c in vi[field_name("I.1")].choices][-1]
        assert last == "Không trả lời / Không áp dụng"
