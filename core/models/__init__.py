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
from core.models.alerts import ALERT_KINDS, AlertSent, AlertSubscription
from core.models.audit import AuditEvent
from core.models.base import Base, UTCDateTime, utcnow
from core.models.dossier import DossierVolume
from core.models.feedback import (
    COMMENT_STATUSES,
    CONTACT_KINDS,
    CommentHandling,
    ContactRequest,
)
from core.models.figures import FiguresVersion
from core.models.kiosk import Kiosk
from core.models.office import (
    OFFICE_CHANGE_KINDS,
    OFFICE_LEVELS,
    OFFICE_REPORT_FIELDS,
    Office,
    OfficeChange,
    OfficeClosure,
)
from core.models.paper import BATCH_STATES, ImportBatch, PaperFormNumber
from core.models.pending import PendingAnswer, SubmissionKey
from core.models.receipt import GenericFormUse, OfficeApiKey, Receipt, ReceiptUse
from core.models.report_version import MonthlyPriorityTally, ReportText, ReportVersion
from core.models.response import (
    CHANNELS,
    MonthlyChannelCount,
    MonthlyCrossTally,
    MonthlyExpectationTally,
    MonthlyPartialCount,
    MonthlyTally,
    Response,
)
from core.models.target import OVERALL, TARGET_OPERATORS, Target

__all__ = [
    "AuditEvent", "ALERT_KINDS", "AlertSent", "AlertSubscription", "DossierVolume",
    "ROLES", "THROTTLE_KINDS", "ApiToken", "SignInThrottle", "User", "UserSession",
    "FiguresVersion", "COMMENT_STATUSES", "CONTACT_KINDS", "CommentHandling", "ContactRequest",
    "OVERALL",
    "TARGET_OPERATORS", "Target",
    "Base", "UTCDateTime", "utcnow", "OFFICE_LEVELS", "OFFICE_REPORT_FIELDS", "Office",
    "OfficeClosure", "OfficeChange", "OFFICE_CHANGE_KINDS",
    "CHANNELS", "MonthlyChannelCount", "MonthlyCrossTally", "MonthlyExpectationTally",
    "MonthlyPartialCount",
    "MonthlyTally", "Response",
    "GenericFormUse", "OfficeApiKey", "Receipt", "ReceiptUse",
    "Kiosk", "PendingAnswer", "SubmissionKey",
    "BATCH_STATES", "ImportBatch", "PaperFormNumber",
    "MonthlyPriorityTally", "ReportText", "ReportVersion",
]
