"""Who may see what: every admin query goes through these helpers.

An administrator sees every office; an office head or viewer sees their office and its
descendants. An office outside the scope is reported as not found (404), so that its
existence is not revealed.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from core.errors import NotAllowed, NotFound
from core.extensions import db
from core.models import Office, OfficeClosure, User
from core.services.offices import get_office

#: the actions each role may take, besides reading its scope
PERMISSIONS = {
    "admin": {"read", "handle_comments", "export", "manage_users", "manage_targets",
              "view_audit", "manage_kiosks", "import_paper", "review_held", "alerts",
              "finalise_reports", "manage_offices", "manage_keys", "manage_public"},
    "head": {"read", "handle_comments", "export", "manage_kiosks", "import_paper", "review_held",
             "alerts", "finalise_reports", "manage_offices", "manage_keys"},
    "viewer": {"read", "export"},
}


def can(user: User, permission: str) -> bool:
    return permission in PERMISSIONS.get(user.role, set())


def require(user: User, permission: str) -> None:
    """Raises NotAllowed when the user's role lacks ``permission``."""
    if not can(user, permission):
        raise NotAllowed("forbidden", _("You do not have access to this page."))


def visible_office_ids(user: User) -> set[int] | None:
    """Office ids the user may see; None means every office (administrators)."""
    if user.role == "admin":
        return None
    if user.office_id is None:
        return set()
    return set(db.session.scalars(sa.select(OfficeClosure.descendant_id)
                                  .where(OfficeClosure.ancestor_id == user.office_id)))


def may_see(user: User, office_id: int) -> bool:
    ids = visible_office_ids(user)
    return ids is None or office_id in ids


def may_read_comments(user: User, office_id: int) -> bool:
    """Whether the user may read comment texts and contact data of ``office_id``: only the
    roles that handle comments, within their scope. Everyone else who reads the office sees
    counts."""
    return can(user, "handle_comments") and may_see(user, office_id)


def office_in_scope(user: User, code: str) -> Office:
    """The office with this code if the user may see it. Raises NotFound otherwise."""
    office = get_office(code)
    if not may_see(user, office.id):
        raise NotFound("unknown_office", _("There is no office with the code %(code)s.",
                                           code=code))
    return office


def home_office(user: User) -> Office:
    """The user's own office; for an administrator without one, the (first) root office.
    Raises NotFound when there is no office at all."""
    if user.office is not None:
        return user.office
    return root_office()


def root_office() -> Office:
    """The top of the office tree (the first one if there are several).
    Raises NotFound when there is no office at all."""
    root = db.session.scalar(sa.select(Office).where(Office.parent_id.is_(None))
                             .order_by(Office.id))
    if root is None:
        raise NotFound("unknown_office", _("No office has been set up yet."))
    return root


def offices_in_scope(user: User) -> list[tuple[Office, int]]:
    """(office, depth) pairs the user may pick, in tree order (parents first, then by code)."""
    ids = visible_office_ids(user)
    query = sa.select(Office).where(Office.active.is_(True))
    if ids is not None:
        query = query.where(Office.id.in_(ids))
    offices = list(db.session.scalars(query))
    by_parent: dict[int | None, list[Office]] = {}
    id_set = {o.id for o in offices}
    for o in offices:
        parent = o.parent_id if o.parent_id in id_set else None
        by_parent.setdefault(parent, []).append(o)
    ordered: list[tuple[Office, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for o in sorted(by_parent.get(parent, []), key=lambda x: x.code):
            ordered.append((o, depth))
            walk(o.id, depth + 1)

    walk(None, 0)
    return ordered
