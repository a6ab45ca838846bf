"""SQLAlchemy models, one module per domain; everything is re-exported here.
The schema is created only by Alembic migrations."""

from .core import (
    CURRENT_CODE_SCHEME,
    AuditEvent,
    Comment,
    Commune,
    Province,
    QuestionnaireVersion,
    RateEvent,
    ReceptionPoint,
    Response,
    ResponseFlag,
    User,
    UserScope,
    UTCDateTime,
    utcnow,
)
from .feedback import FeedbackContact, FeedbackEvent, FeedbackItem, FeedbackNote, Holiday, KeywordRule, RoutingRule
from .fieldwork import ApiToken, Assignment, BackCheck, Interview, PaperEntry, SampleCommune, SampleVillage, SurveyRound, Village
from .kiosk import KioskDevice, KioskSubmission
from .report_stats import ReportCell, ReportCellStat, ReportPending, ReportStatState
from .reports import OfficialScore, PopulationMargin, ReportTarget, TransactionVolume

__all__ = [
    "CURRENT_CODE_SCHEME",
    "ApiToken",
    "Assignment",
    "AuditEvent",
    "BackCheck",
    "Comment",
    "Commune",
    "FeedbackContact",
    "FeedbackEvent",
    "FeedbackItem",
    "FeedbackNote",
    "Holiday",
    "Interview",
    "KeywordRule",
    "KioskDevice",
    "KioskSubmission",
    "OfficialScore",
    "PaperEntry",
    "PopulationMargin",
    "Province",
    "QuestionnaireVersion",
    "RateEvent",
    "ReceptionPoint",
    "ReportCell",
    "ReportCellStat",
    "ReportPending",
    "ReportStatState",
    "ReportTarget",
    "Response",
    "ResponseFlag",
    "RoutingRule",
    "SampleCommune",
    "SampleVillage",
    "SurveyRound",
    "TransactionVolume",
    "UTCDateTime",
    "User",
    "UserScope",
    "Village",
    "utcnow",
]
