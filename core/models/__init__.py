"""All models. Each area keeps its tables in its own module; import them here so that
Alembic and ``db.create_all`` see every table."""

from core.models.account import (
    ROLES,
    THROTTLE_KINDS,
    ApiToken,
    SignInThrottle,
    User,
    UserSession,
)
from core.models.audit import AuditEvent
from core.models.base import Base, UTCDateTime, utcnow
from core.models.feedback import (
    COMMENT_STATUSES,
    CONTACT_KINDS,
    CommentHandling,
    ContactRequest,
)
from core.models.kiosk import Kiosk
from core.models.office import (
    OFFICE_CHANGE_KINDS,
    OFFICE_LEVELS,
    OFFICE_REPORT_FIELDS,
    Office,
    OfficeChange,
    OfficeClosure,
)
from core.models.pending import PendingAnswer, SubmissionKey
from core.models.receipt import GenericFormUse, OfficeApiKey, Receipt, ReceiptUse
from core.models.response import (
    CHANNELS,
    MonthlyChannelCount,
    MonthlyCrossTally,
    MonthlyTally,
    Response,
)
from core.models.target import OVERALL, TARGET_OPERATORS, Target

__all__ = [
    "AuditEvent",
    "ROLES", "THROTTLE_KINDS", "ApiToken", "SignInThrottle", "User", "UserSession",
    "COMMENT_STATUSES", "CONTACT_KINDS", "CommentHandling", "ContactRequest", "OVERALL",
    "TARGET_OPERATORS", "Target",
    "Base", "UTCDateTime", "utcnow", "OFFICE_LEVELS", "OFFICE_REPORT_FIELDS", "Office",
    "OfficeClosure", "OfficeChange", "OFFICE_CHANGE_KINDS",
    "CHANNELS", "MonthlyChannelCount", "MonthlyCrossTally", "MonthlyTally", "Response",
    "GenericFormUse", "OfficeApiKey", "Receipt", "ReceiptUse",
    "Kiosk", "PendingAnswer", "SubmissionKey",
]
