"""The notice on personal data (Law 91/2025/QH15), through the Flask test client: a short
notice on every survey start (kiosk, receipt link, generic link) in Vietnamese and English,
the full notice at /quyen-rieng-tu (built-in text, the configured facts, an operator's own
file) and links to it from every survey and public page."""

from __future__ import annotations

import html
import io
import re

import pytest

from core import ConfigError, create_app
from core.extensions import db
from core.privacy import MASKING_SETTING, RETENTION_SETTINGS, custom_notice, notice_file
from core.services import kiosks as kiosk_service
from core.services.offices import get_office, import_offices
from core.services.receipts import mint_receipt
from tests.conftest import SMALL_TREE

PAGE = "/quyen-rieng-tu"

SHORT = {
    "vi": ["Dữ liệu cá nhân của Ông/Bà", "Câu trả lời được ẩn danh",
           "Chỉ cán bộ có thẩm quyền của cơ quan được đọc góp ý",
           "Tìm hiểu thêm về dữ liệu cá nhân"],
    "en": ["Your personal data", "Your answers are anonymous",
           "Only authorised staff of the office read comments",
           "More about your personal data"],
}
ABOUT_YOU = {"vi": "vài thông tin về bản thân", "en": "a few questions about you"}


def text(response) -> str:
    """The page's text: tags dropped, entities decoded, white space collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(body))


def note(response) -> str:
    """The short notice's block of a page."""
    page = response.get_data(as_text=True)
    start = page.index('id="privacy-note"')
    return page[start:page.index("</div>", start)]


@pytest.fixture
def entries(app, offices):
    """The three survey starts: the kiosk page (with its device cookie), a receipt's link
    and the office's generic link."""
    kiosk = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 3", with_credential=True)
    token = mint_receipt(get_office("BD-KM"), "000.00.20.H26-220101-0001").token
    client = app.test_client()
    client.set_cookie("sipas_kiosk", kiosk.credential, path="/kiosk")
    return client, {"kiosk": "/kiosk/", "receipt": f"/s/{token}", "generic": "/o/BD-KM"}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_survey_start_carries_the_short_notice_without_an_extra_step(entries, lang):
    client, urls = entries
    for channel, url in urls.items():
        page = client.get(f"{url}?lang={lang}")
        assert page.status_code == 200, channel
        assert f'lang="{lang}"' in page.get_data(as_text=True)
        block = text(page)
        for sentence in SHORT[lang]:
            assert sentence in block, (channel, sentence)
        # the questionnaire is on the same page: the notice is text and a link, not a wall
        assert 'name="c_I_1"' in page.get_data(as_text=True), channel
        # only the phone forms ask the questions about the citizen, and say so
        assert (ABOUT_YOU[lang] in note(page)) is (channel != "kiosk"), channel
    other = "en" if lang == "vi" else "vi"
    assert SHORT[other][0] not in text(client.get(f"{urls['receipt']}?lang={lang}"))


def test_the_phone_forms_open_the_notice_in_a_new_tab_so_answers_are_kept(entries):
    client, urls = entries
    for url in (urls["receipt"], urls["generic"]):
        page = client.get(url).get_data(as_text=True)
        links = re.findall(r'<a [^>]*href="/quyen-rieng-tu"[^>]*>', page)
        assert len(links) == 2, links  # the short notice and the footer
        assert all('target="_blank"' in a and 'rel="noopener"' in a for a in links)
        assert page.count("(mở trong thẻ mới)") == 2


def test_the_kiosk_holds_the_full_notice_in_the_page_and_never_links_away(entries):
    """On a tablet the notice is a screen of the kiosk page (reachable offline, left by
    "back to the start" or the idle reset); no link leads out of /kiosk/."""
    client, urls = entries
    page = client.get(urls["kiosk"]).get_data(as_text=True)
    assert 'id="k-privacy-link"' in page and 'href="#k-privacy"' in page
    section = page[page.index('id="k-privacy"'):]
    section = section[:section.index("</section>")]
    assert "Bảo vệ dữ liệu cá nhân" in section and "91/2025/QH15" in section
    assert section.count('href="#k-start"') == 2  # back to the start, top and bottom
    hrefs = re.findall(r'href="([^"]+)"', page[page.index("<body"):])
    # the language switch reloads the kiosk page itself (?lang=en), nothing else leaves it
    assert [h for h in hrefs if not h.startswith(("#", "/kiosk/", "?lang="))] == []
    assert "style=" not in page and "<script>" not in page  # strict CSP


def test_every_survey_page_and_public_page_links_to_the_notice(entries):
    client, urls = entries
    pages = ["/", "/survey/", "/survey/thanks", "/admin/login", PAGE, urls["receipt"],
             urls["generic"], "/s/not-a-valid-token", "/o/NO-SUCH-OFFICE"]
    for url in pages:
        page = client.get(url)
        assert page.status_code in (200, 404), url
        assert 'href="/quyen-rieng-tu"' in page.get_data(as_text=True), url
        assert "Bảo vệ dữ liệu cá nhân" in text(page), url


def without_retention_settings(app) -> None:
    """A deployment without the retention and masking settings (the notice then states its
    defaults)."""
    for name in (*RETENTION_SETTINGS.values(), MASKING_SETTING):
        app.config.pop(name, None)


def test_the_notice_page_built_in_text_in_vietnamese_and_english(app, client, instrument):
    without_retention_settings(app)
    page = client.get(PAGE)
    assert page.status_code == 200 and 'lang="vi"' in page.get_data(as_text=True)
    vi = text(page)
    for heading in ("Ai chịu trách nhiệm về dữ liệu", "Mục đích thu thập",
                    "Dữ liệu được thu thập", "Ai được xem", "Thời gian lưu giữ",
                    "Quyền của Ông/Bà", "Liên hệ"):
        assert heading in vi
    assert "Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15" in vi
    # the defaults: the office that served the citizen, its one-stop desk, limited retention
    assert "Cơ quan nhà nước có Bộ phận Một cửa đã phục vụ Ông/Bà" in vi
    assert "hỏi tại Bộ phận Một cửa của cơ quan nơi Ông/Bà đã trả lời" in vi
    assert "Nội dung góp ý: chỉ lưu trong thời gian có hạn" in vi
    assert "Thông tin liên hệ để nhận trả lời: chỉ lưu trong thời gian có hạn" in vi
    assert "được ẩn đi trước khi lưu" not in vi
    assert "rút lại sự đồng ý, yêu cầu xem, chỉnh sửa hoặc xóa dữ liệu" in vi
    # facts read from the configuration and the instrument
    assert f"{app.config['SUBMISSION_KEY_DAYS']} ngày" in vi
    assert f"trong {app.config['RECEIPT_VALIDITY_DAYS']} ngày" in vi
    labels = ", ".join(q.label.vi for q in instrument.demographics)
    assert labels and f"({labels})" in vi

    en = text(client.get(PAGE + "?lang=en"))
    assert "Who is responsible for the data" in en and "Your rights" in en
    assert "Law on Personal Data Protection No. 91/2025/QH15" in en
    assert ", ".join(q.label.en for q in instrument.demographics) in en
    assert "Ai chịu trách nhiệm" not in en


def test_the_notice_states_the_configured_controller_contact_and_retention(make_app):
    app = make_app(PRIVACY_CONTROLLER="UBND thành phố Hà Nội",
                   PRIVACY_CONTACT="Văn phòng UBND thành phố, 12 Lê Lai, ĐT 024 3825 3536",
                   RETENTION_COMMENT_DAYS=90, RETENTION_CONTACT_DAYS=30,
                   RETENTION_CONTACT_MAX_DAYS=180, MASK_COMMENTS=True, SUBMISSION_KEY_DAYS=20)
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        db.session.remove()
        client = app.test_client()
        page = text(client.get(PAGE))
        assert "UBND thành phố Hà Nội tổ chức khảo sát này" in page
        assert "xin liên hệ: Văn phòng UBND thành phố, 12 Lê Lai, ĐT 024 3825 3536." in page
        assert "Nội dung góp ý: được xóa sau 90 ngày" in page
        assert ("Thông tin liên hệ để nhận trả lời: được xóa sau 30 ngày kể từ khi yêu cầu "
                "được xử lý xong, và chậm nhất sau 180 ngày kể từ ngày gửi.") in page
        assert ("Số điện thoại, số căn cước, địa chỉ thư điện tử và mã hồ sơ ghi trong góp ý "
                "được ẩn đi trước khi lưu.") in page
        assert "bị tính hai lần: 20 ngày" in page
        assert "Cơ quan nhà nước có Bộ phận Một cửa đã phục vụ" not in page
        # the short notice says how long comments are kept too
        assert "góp ý được xóa sau 90 ngày" in note(client.get("/o/BD-KM"))
        en = text(client.get(PAGE + "?lang=en"))
        assert "UBND thành phố Hà Nội runs this survey" in en
        assert "Comment text: deleted 90 days after the answer." in en


def test_retention_without_a_limit_is_stated_as_such(make_app):
    """A retention setting of None keeps for ever: the notice must not promise a limit."""
    app = make_app(RETENTION_COMMENT_DAYS=None, RETENTION_CONTACT_DAYS=None,
                   RETENTION_CONTACT_MAX_DAYS=None, MASK_COMMENTS=False)
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        db.session.remove()
        client = app.test_client()
        page = text(client.get(PAGE))
        assert "Nội dung góp ý: được lưu cùng câu trả lời, không đặt thời hạn xóa." in page
        assert "Thông tin liên hệ để nhận trả lời: được lưu, không đặt thời hạn xóa." in page
        assert "thời gian có hạn" not in page and "được ẩn đi" not in page
        short = note(client.get("/o/BD-KM"))
        assert "Chỉ cán bộ có thẩm quyền của cơ quan được đọc góp ý." in short
        assert "thời gian có hạn" not in short and "được xóa sau" not in short


def test_an_operator_file_replaces_the_built_in_notice(make_app, tmp_path):
    (tmp_path / "privacy-vi.html").write_text(
        "<h2>Thông báo của Thành phố</h2><p>Văn bản do Văn phòng UBND soạn.</p>",
        encoding="utf-8")
    app = make_app(PRIVACY_NOTICE_FILE=str(tmp_path / "privacy-{locale}.html"))
    client = app.test_client()
    page = client.get(PAGE).get_data(as_text=True)
    assert "<h2>Thông báo của Thành phố</h2>" in page  # the operator's HTML, as written
    assert "Ai chịu trách nhiệm về dữ liệu" not in page
    # no English file: the Vietnamese one, marked as Vietnamese inside the English page
    en = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert '<div class="privacy-custom" lang="vi">' in en and 'lang="en"' in en
    assert "Who is responsible for the data" not in en
    (tmp_path / "privacy-en.html").write_text("<p>The city's own notice.</p>", encoding="utf-8")
    en = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert "The city's own notice." in en and 'class="privacy-custom" lang=' not in en


def test_a_relative_notice_file_is_read_from_the_instance_folder(tmp_path):
    (tmp_path / "privacy.vi.html").write_text("<p>Trong thư mục instance.</p>", encoding="utf-8")
    config = {"PRIVACY_NOTICE_FILE": "privacy.{locale}.html", "BABEL_DEFAULT_LOCALE": "vi"}
    assert notice_file(config, tmp_path, "en") == tmp_path / "privacy.en.html"
    found = custom_notice(config, tmp_path, "en")
    assert found is not None and found.lang == "vi" and "instance" in found.html
    assert custom_notice({**config, "PRIVACY_NOTICE_FILE": None}, tmp_path, "vi") is None


def test_a_configured_notice_file_that_is_missing_stops_the_start(tmp_path):
    with pytest.raises(ConfigError, match="SIPAS_PRIVACY_NOTICE_FILE"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test-secret",
                    "PRIVACY_NOTICE_FILE": str(tmp_path / "privacy-{locale}.html")})
    (tmp_path / "privacy-vi.html").write_bytes(b"\xff\xfe not UTF-8")
    with pytest.raises(ConfigError, match="UTF-8"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test-secret",
                    "PRIVACY_NOTICE_FILE": str(tmp_path / "privacy-{locale}.html")})
