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
    assert re.search(r"^\s*gzip on;", conf, re.M)
    types = re.search(r"gzip_types([^;]+);", conf).group(1).split()
    assert {"text/css", "application/javascript", "application/json",
            "image/svg+xml"} <= set(types)  # text/html is always compressed once gzip is on
    for prefix, folder in (("/static/", "core/static/"), ("/kiosk/static/", "kiosk/static/")):
        block = re.search(rf"location {re.escape(prefix)} \{{([^}}]+)\}}", conf).group(1)
        assert f"alias /srv/sipas/app/{folder};" in block
        assert (REPO_ROOT / folder).is_dir()
    assert "location = /favicon.ico" in conf
    assert (REPO_ROOT / "core" / "static" / "favicon.ico").is_file()
