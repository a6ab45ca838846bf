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

__all__ = [
    "CURRENT_CODE_SCHEME",
    "AuditEvent",
    "Comment",
    "Commune",
    "Province",
    "QuestionnaireVersion",
    "RateEvent",
    "ReceptionPoint",
    "Response",
    "ResponseFlag",
    "UTCDateTime",
    "User",
    "UserScope",
    "utcnow",
]
