"""kiosk/static/kiosk/followup.js, run by Node: its SHA-256 is the server's
(core.services.followup.code_hash), its codes use the alphabet, and its QR codes are module for
module those of the ``qrcode`` library (the one the server prints receipts with) for the same
version and mask, at error correction M, for versions 1 to 10."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import qrcode
from qrcode import util
from qrcode.constants import ERROR_CORRECT_M

from core.services import followup

SCRIPT = Path(__file__).resolve().parents[2] / "kiosk" / "static" / "kiosk" / "followup.js"
NODE = shutil.which("node")

RUNNER = """
global.window = {crypto: require("crypto").webcrypto};
global.document = {};
require(process.argv[1]);
const F = window.sipasFollowup;
const texts = JSON.parse(process.argv[2]);
const codes = [];
for (let i = 0; i < 50; i++) { codes.push(F.prepare("góp ý", "")); }
console.log(JSON.stringify({
  qr: texts.map(t => { const q = F.qr(t); return {t, v: q.version, mask: q.mask,
    m: q.modules.map(r => r.map(b => b ? "1" : "0").join("")).join("\\n")}; }),
  hash: texts.map(t => F.sha256(t)),
  codes: codes,
  none: [F.prepare("", ""), F.prepare("  ", ""), F.prepare("góp ý", "0912345678")],
}));
"""


@pytest.mark.skipif(NODE is None, reason="needs node")
def test_followup_js_agrees_with_the_server_and_the_qrcode_library():
    texts = ["x", "https://sipas.hanoi.gov.vn/phan-hoi/7KQ2MXR4TD",
             "http://127.0.0.1:5000/phan-hoi/ABCDE12345", "h" * 60, "k" * 120, "q" * 200]
    out = json.loads(subprocess.run([NODE, "-e", RUNNER, str(SCRIPT), json.dumps(texts)],
                                    check=True, capture_output=True, text=True).stdout)
    versions = set()
    for case in out["qr"]:
        ref = qrcode.QRCode(version=case["v"], error_correction=ERROR_CORRECT_M, border=0,
                            mask_pattern=case["mask"])
        ref.add_data(util.QRData(case["t"].encode(), mode=util.MODE_8BIT_BYTE))
        ref.make(fit=False)
        matrix = "\n".join("".join("1" if b else "0" for b in row) for row in ref.get_matrix())
        assert matrix == case["m"], (case["t"], case["v"], case["mask"])
        versions.add(case["v"])
    assert len(versions) >= 5  # small and large codes, with and without version information
    for text, digest in zip(texts, out["hash"], strict=True):
        assert digest == followup.code_hash(text)
    for made in out["codes"]:
        assert followup.normalize(made["code"]) == made["code"]
        assert made["hash"] == followup.code_hash(made["code"])
    assert len({made["code"] for made in out["codes"]}) == 50
    assert out["none"] == [None, None, None]  # no comment, or a contact request: no code
