"""Fill msgstrs of a catalogue from a JSON mapping {msgid: msgstr}, or merge catalogues.

    python tools/po_fill.py translations/vi/LC_MESSAGES/messages.po strings.json
    python tools/po_fill.py --union OUT.po A.po B.po   # keep every translated message of both
Existing non-empty translations are kept unless the mapping gives a new one.
"""

from __future__ import annotations

import json
import sys

from babel.messages.pofile import read_po, write_po


def fill(po_path: str, mapping_path: str) -> None:
    with open(po_path, "rb") as f:
        catalog = read_po(f)
    mapping = json.load(open(mapping_path, encoding="utf-8"))
    for msg in catalog:
        if msg.id and msg.id in mapping:
            msg.string = mapping[msg.id]
            msg.flags.discard("fuzzy")
    with open(po_path, "wb") as f:
        write_po(f, catalog, width=100)


def union(out_path: str, *paths: str) -> None:
    catalogs = []
    for p in paths:
        with open(p, "rb") as f:
            catalogs.append(read_po(f))
    base = catalogs[0]
    for other in catalogs[1:]:
        for msg in other:
            if not msg.id:
                continue
            mine = base.get(msg.id)
            if mine is None:
                base[msg.id] = msg
            elif not mine.string and msg.string:
                mine.string = msg.string
    with open(out_path, "wb") as f:
        write_po(f, base, width=100)


if __name__ == "__main__":
    if sys.argv[1] == "--union":
        union(sys.argv[2], *sys.argv[3:])
    else:
        fill(sys.argv[1], sys.argv[2])
