"""A progress bar for long commands: shown on a terminal (standard error), silent when the
output is piped or redirected, so scripts and logs get only the command's result.

    with progress(len(items), _("Rebuilding tallies")) as step:
        for item in items:
            ...
            step()
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


def on_terminal() -> bool:
    """Whether standard error is a terminal (a person is watching)."""
    stream = sys.stderr
    return bool(getattr(stream, "isatty", None) and stream.isatty())


@contextmanager
def progress(total: int | None, label: str, *, force: bool | None = None
             ) -> Iterator[Callable[[int], None]]:
    """A ``step(n=1)`` function advancing a bar of ``total`` steps (on standard error);
    a no-op when not on a terminal (``force`` overrides the detection, for tests)."""
    show = on_terminal() if force is None else force
    if not show:
        yield lambda n=1: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr,
                           show_pos=True) as bar:
        yield bar.update
