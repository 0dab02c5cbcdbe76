"""Recorded audio for the kiosk's read-aloud button, from the instrument folder.

Layout (documented in the README): beside an instrument file ``<id>.json``, in any folder
the instruments are read from (``core/instruments`` or ``SIPAS_INSTRUMENT_DIRS``)::

    <id>.audio/<locale>/<criterion code>.mp3     e.g. hanoi-2022.audio/vi/III.4.mp3
    <id>.audio/<locale>/levels.mp3               the five levels and "no answer", read once

(``.ogg``, ``.m4a`` and ``.wav`` too). A criterion with a file is read from it; one without
uses the tablet's speech synthesis when it has a voice for the language; with neither, the
kiosk shows no speaker button. The files are kept by the kiosk's service worker, so a citizen
listening does not make a request of their own.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, send_from_directory

from core.services.common import registry

SUFFIXES = (".mp3", ".ogg", ".m4a", ".wav")


def audio_dir(instrument_id: str, locale: str) -> Path | None:
    for folder in registry().folders:
        path = Path(folder) / f"{instrument_id}.audio" / locale
        if path.is_dir():
            return path
    return None


def audio_files(instrument_id: str, locale: str) -> dict[str, str]:
    """Criterion code (or "levels") -> file name, for the files there are."""
    folder = audio_dir(instrument_id, locale)
    if folder is None:
        return {}
    return {p.stem: p.name for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix in SUFFIXES}


def send_audio(instrument_id: str, locale: str, name: str):
    folder = audio_dir(instrument_id, locale)
    if folder is None or name not in audio_files(instrument_id, locale).values():
        abort(404)
    return send_from_directory(folder, name, max_age=86400)
