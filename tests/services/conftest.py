"""Fixtures of the service tests: the results area's ``world`` (users of every role and a
month of responses in the small office tree), shared with tests/admin."""

from tests.admin.fixtures import world

__all__ = ["world"]
