"""Serving (issue 20): the icon every browser asks for exists, and the sample nginx site
compresses text and serves every static folder from disk."""

from __future__ import annotations

import io
import re

from PIL import Image


def test_favicon_is_an_icon_not_a_404(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200
    with Image.open(io.BytesIO(resp.data)) as icon:
        assert icon.format == "ICO"


def test_sample_nginx_site_gzips_and_serves_the_static_folders():
    from core import REPO_ROOT

    conf = (REPO_ROOT / "deploy" / "nginx.conf").read_text()

    def block(prefix: str) -> str:
        return re.search(rf"location {re.escape(prefix)} \{{([^}}]+)\}}", conf).group(1)

    # compressed where it is safe and counts: the static folders and the kiosk; never the
    # other pages (BREACH: nginx compresses every text/html answer once gzip is on)
    outside = re.sub(r"location [^{]+\{[^}]+\}", "", conf)
    assert not re.search(r"^\s*gzip on;", outside, re.M)
    for prefix in ("/static/", "/kiosk/static/", "/kiosk/"):
        assert re.search(r"^\s*gzip on;", block(prefix), re.M), prefix
        types = re.search(r"gzip_types([^;]+);", block(prefix)).group(1).split()
        assert {"text/css", "application/javascript", "image/svg+xml"} <= set(types)
    for prefix, folder in (("/static/", "core/static/"), ("/kiosk/static/", "kiosk/static/")):
        assert f"alias /srv/sipas/app/{folder};" in block(prefix)
        assert (REPO_ROOT / folder).is_dir()
    assert "location = /favicon.ico" in conf
    assert (REPO_ROOT / "core" / "static" / "favicon.ico").is_file()
