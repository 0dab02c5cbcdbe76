"""Locks between the pytest-xdist workers of one run, for the services they share.

Each worker tests on a PostgreSQL database of its own, but two things are shared by all:

- the **Redis test database** (TEST_REDIS_URL): tests empty it, and the rate-limit keys are
  kiosk ids, which start at 1 in every database. A test that uses it (``needs_redis``) holds
  the Redis lock alone.
- the **PostgreSQL server**: a test marked ``exclusive_postgresql`` restarts it, so it holds the
  PostgreSQL lock alone, while every other test on PostgreSQL holds it shared.

A lock is ``flock`` on a file in the run's temporary folder, which the workers share. Without
xdist nothing is locked. Within one process a held lock is re-entrant (a fixture created
lazily inside a locked test takes it again); asking for it exclusively while holding it shared
is a programming error.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WorkerLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._exclusive = False
        self._depth = 0

    @contextmanager
    def hold(self, exclusive: bool = False) -> Iterator[None]:
        """Hold the lock (waiting for the other workers) for the duration of the block.

        Raises RuntimeError when asked exclusively while this process holds it shared.
        """
        if self._depth:
            if exclusive and not self._exclusive:
                raise RuntimeError(f"{self.path.name}: held shared, asked exclusively")
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            self._fd, self._exclusive, self._depth = fd, exclusive, 1
            try:
                yield
            finally:
                self._fd, self._exclusive, self._depth = None, False, 0
        finally:
            os.close(fd)  # closing the only descriptor releases the lock


class NoLock:
    @contextmanager
    def hold(self, exclusive: bool = False) -> Iterator[None]:
        yield


def worker_locks(run_folder: Path | None) -> tuple[WorkerLock | NoLock, WorkerLock | NoLock]:
    """(redis, postgresql) locks in ``run_folder`` (None: not under xdist, no locking).
    Take them in that order: Redis first, then PostgreSQL."""
    if run_folder is None:
        return NoLock(), NoLock()
    return (WorkerLock(run_folder / "redis.lock"), WorkerLock(run_folder / "postgresql.lock"))
