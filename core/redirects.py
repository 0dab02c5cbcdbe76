"""Where a ``next`` parameter may send the browser: this site's own paths, nothing else.

Pure (no Flask): the views pass the default target (``url_for(...)``) and the area the
target must stay in. Every view that redirects to a ``next`` it was given calls
:func:`safe_next` before doing any work, so a hostile value can neither leave the site nor
make the redirect fail (a newline in a ``Location`` header is a 500) after a change was
committed.

A target is accepted only when it is a path on this site, written the way the site writes
its own links:

- printable ASCII only, without spaces, backslashes or ``"<>^`{|}``: browsers drop tabs
  and newlines and read ``\\`` as ``/`` (``/\\t/evil.example`` and ``/\\evil.example``
  are ``//evil.example``, another host), and IDN dots or full-width slashes are
  normalised in host names;
- it starts with one ``/`` (no scheme, no host, not ``//`` or ``///``);
- its path, percent-decoded (repeatedly: ``%252F`` is ``%2F`` is ``/``), has no empty
  segment (``//``), no ``.`` or ``..`` segment (``/admin/../lang/…`` leaves the admin area
  and can chain into another redirect), no backslash and no control character;
- it stays inside ``within`` (``/admin`` for the results area);
- it is at most :data:`MAX_LENGTH` characters long.
"""

from __future__ import annotations

import string
from urllib.parse import unquote

MAX_LENGTH = 2048
#: RFC 3986 unreserved and reserved characters, and "%" for escapes; no backslash, space,
#: control character, quote or non-ASCII character
_ALLOWED = frozenset(string.ascii_letters + string.digits + "-._~" + ":/?#[]@" + "!$&'()*+,;="
                     + "%")
_DECODE_ROUNDS = 4


def is_safe_next(target: object, within: str = "/") -> bool:
    """True when ``target`` is a path of this site inside ``within`` (see the module)."""
    if not isinstance(target, str) or not 0 < len(target) <= MAX_LENGTH:
        return False
    if not _ALLOWED.issuperset(target) or not target.startswith("/") or target[1:2] == "/":
        return False
    path = _decoded(target.partition("?")[0].partition("#")[0])
    if path is None or not path.startswith("/") or "\\" in path:
        return False
    if any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in path):
        return False
    segments = path[1:].split("/")
    if any(s in ("", ".", "..") for s in segments[:-1]) or segments[-1] in (".", ".."):
        return False
    area = within.rstrip("/")
    return not area or path == area or path.startswith(area + "/")


def safe_next(target: object, default: str, within: str = "/") -> str:
    """``target`` when it is safe (:func:`is_safe_next`), else ``default``."""
    return target if is_safe_next(target, within) else default  # type: ignore[return-value]


def _decoded(path: str) -> str | None:
    """The path with percent-escapes decoded until nothing changes; None when it keeps
    changing (escapes nested deeper than anyone writes them) or is not UTF-8."""
    for _round in range(_DECODE_ROUNDS):
        try:
            decoded = unquote(path, errors="strict")
        except UnicodeDecodeError:  # escapes that are not UTF-8
            return None
        if decoded == path:
            return path
        path = decoded
    return None
