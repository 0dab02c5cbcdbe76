"""The request class of the app.

Werkzeug keeps the bytes of a form field that are not valid UTF-8 as literal percent escapes
("%ED%A0%80"), which would reach the rules as ordinary text. Here they decode to U+FFFD, the
replacement character, which the rules of :mod:`core.services.intake` refuse like a lone
surrogate in JSON: a posted form and a JSON body get the same error for the same input.
"""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qsl

from flask import Request as FlaskRequest
from werkzeug.formparser import FormDataParser


class _FormParser(FormDataParser):
    def _parse_urlencoded(self, stream: t.IO[bytes], mimetype: str,
                          content_length: int | None, options: dict[str, str]):
        items = parse_qsl(stream.read().decode("utf-8", "replace"), keep_blank_values=True,
                          encoding="utf-8", errors="replace")
        return stream, self.cls(items), self.cls()


class Request(FlaskRequest):
    form_data_parser_class = _FormParser
