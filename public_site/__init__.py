"""Public pages, without sign-in: follow-up codes (``/phan-hoi/``), each office's results and
board of published replies (``/ket-qua/``). See :mod:`core.services.followup` and
:mod:`core.services.public`."""

from public_site.views import bp

__all__ = ["bp"]
