"""Everything a citizen's submission reads before it is stored, in one statement.

A submission checks its reception point, its questionnaire version, whether its id is stored already,
whether this device answered at this point recently, how many responses came from its network, and
the group counts of the abuse detectors. Asked one by one that was six round trips and most of the
request's CPU (benchmarks/submit.py); here it is one SELECT, built once with bind parameters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import Session

from ..errors import PointNotFound
from ..models import QuestionnaireVersion, ReceptionPoint, Response
from .abuse import Thresholds, group_counts


@dataclass(frozen=True)
class VersionRef:
    """The immutable facts of a questionnaire version that a stored response records."""

    id: int
    questionnaire_id: str
    version: int
    content_hash: str
    sector: str


@dataclass(frozen=True)
class PointRef:
    id: int


@dataclass(frozen=True)
class Preflight:
    point_id: int
    commune_id: int
    sector: str
    version: VersionRef | None  # None: the ticket names a version that does not exist
    stored: bool  # this submission id is stored already (a retry, a double click)
    answered_recently: bool  # this device answered at this point within the device window
    network_count: int  # QR responses from this network within the burst window
    # staff_burst, device_burst, duplicate_answers group sizes, counted before this response is stored
    group_counts: tuple[int, int, int]


_V = QuestionnaireVersion
# "This device answered at this point within the device window", correlated with the point of the statement.
_ANSWERED_HERE = exists().where(Response.reception_point_id == ReceptionPoint.id,
                                Response.device_hash == bindparam("device_hash"),
                                Response.submitted_at >= bindparam("device_since"))
_NETWORK_COUNT = (select(func.count()).select_from(Response)
                  .where(Response.network_hash == bindparam("network_hash"), Response.mode == "qr",
                         Response.submitted_at >= bindparam("burst_since")).scalar_subquery())
# Public so that benchmarks/query_plans.py and tests/services/test_intake_plans.py explain what runs.
PREFLIGHT_STATEMENT = (
    select(
        ReceptionPoint.id, ReceptionPoint.commune_id, ReceptionPoint.sector,
        _V.id, _V.questionnaire_id, _V.version, _V.content_hash, _V.sector,
        exists().where(Response.submission_id == bindparam("submission_id")),
        _ANSWERED_HERE,
        _NETWORK_COUNT,
        *group_counts(ReceptionPoint.id),
    )
    .select_from(ReceptionPoint)
    .outerjoin(_V, _V.id == bindparam("version_id"))
    .where(ReceptionPoint.token == bindparam("token"), ReceptionPoint.active.is_(True))
)


def preflight(
    session: Session, *, token: str, version_id: int, submission_id: str, device_hash: str, network_hash: str,
    answers_hash: str, rules: Thresholds, now: dt.datetime,
) -> Preflight:
    """PointNotFound when no active reception point has this token."""
    # Core statement on the session's connection: the ORM execution layer has nothing to add here.
    row = session.connection().execute(PREFLIGHT_STATEMENT, {
        "token": token, "version_id": version_id, "submission_id": submission_id, "device_hash": device_hash,
        "network_hash": network_hash, "answers_hash": answers_hash, "device_since": now - rules.device_window,
        "burst_since": now - rules.submit_burst_window, "staff_since": now - rules.staff_burst_window,
        "duplicate_since": now - rules.duplicate_burst_window,
    }).one_or_none()  # fmt: skip
    if row is None:
        raise PointNotFound()
    point_id, commune_id, sector, v_id, q_id, v_number, v_hash, v_sector, stored, answered, network, *groups = row
    version = VersionRef(v_id, q_id, v_number, v_hash, v_sector) if v_id is not None else None
    staff, device, duplicate = (int(n or 0) for n in groups)
    return Preflight(point_id, commune_id, sector, version, bool(stored), bool(answered), int(network or 0),
                     (staff, device, duplicate))


# The blank form: the point, the sector's current version and whether this device answered here lately.
_CURRENT_VERSION = (select(_V.id).where(_V.sector == ReceptionPoint.sector, _V.is_current.is_(True))
                    .order_by(_V.questionnaire_id).limit(1).scalar_subquery())
FORM_VIEW_STATEMENT = select(ReceptionPoint, _CURRENT_VERSION, _ANSWERED_HERE).where(
    ReceptionPoint.token == bindparam("token"), ReceptionPoint.active.is_(True))


@dataclass(frozen=True)
class FormView:
    point: ReceptionPoint
    version_id: int | None  # None: no questionnaire for this sector yet
    answered_recently: bool


def form_view(session: Session, *, token: str, device_hash: str, window: dt.timedelta, now: dt.datetime) -> FormView:
    """What showing the form reads, in one statement; PointNotFound when no active point has this token."""
    row = session.execute(FORM_VIEW_STATEMENT, {"token": token, "device_hash": device_hash,
                                       "device_since": now - window}).one_or_none()
    if row is None:
        raise PointNotFound()
    point, version_id, answered = row
    return FormView(point, version_id, bool(answered))
