"""Fieldwork control: assignments, progress, replacements, issued vs returned, back-checks and
interview quality flags (which land in the same ResponseFlag review queue as the public-form flags)."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationFailed
from ..i18n import N_
from ..models import (
    Assignment,
    BackCheck,
    Interview,
    QuestionnaireVersion,
    Response,
    ResponseFlag,
    SampleVillage,
    SurveyRound,
    User,
    utcnow,
)
from . import abuse, audit

VN_OFFSET = dt.timedelta(hours=7)  # Vietnam keeps UTC+7 all year
QUALITY_REASONS = {
    "interview_too_short": "Phỏng vấn quá ngắn so với thời lượng dự kiến",
    "same_minute": "Nhiều phỏng vấn của cùng điều tra viên kết thúc trong cùng một phút",
    "outside_hours": "Phỏng vấn ngoài giờ làm việc",
    "gps_far": "Vị trí GPS cách xa thôn/bản được phân công",
    "backcheck_mismatch": "Phúc tra: câu trả lời không khớp",
    "backcheck_not_interviewed": "Phúc tra: người dân cho biết không được phỏng vấn",
}
# One review screen for every flag: the labels join the public-form reasons.
abuse.FLAG_REASONS.update(QUALITY_REASONS)

OUTCOMES = {"completed": "Hoàn thành", "refused": "Từ chối", "ineligible": "Không đủ điều kiện", "absent": "Vắng nhà"}
BACKCHECK_OUTCOMES = {
    "confirmed": "Đúng: có phỏng vấn, câu trả lời khớp",
    "mismatch": "Có phỏng vấn nhưng câu trả lời không khớp",
    "not_interviewed": "Người dân cho biết không được phỏng vấn",
    "unreachable": "Không liên hệ được",
}


@dataclass(frozen=True)
class QualityRules:
    min_share_of_estimate: float = 0.4  # shorter than 40% of the questionnaire's estimated minutes
    min_seconds: int = 120
    same_minute_count: int = 2
    work_start_hour: int = 7
    work_end_hour: int = 21
    gps_max_km: float = 5.0
    straight_line_min_items: int = 8


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) + VN_OFFSET


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius 6371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def flag_interview(
    session: Session, *, interview: Interview, response: Response, estimated_minutes: float, scale_items: Sequence[str],
    rules: QualityRules,
) -> list[str]:
    """Run the interview quality checks on a freshly stored interview; returns the reasons flagged."""
    reasons: list[tuple[str, str]] = []
    if interview.started_at and interview.ended_at:
        seconds = (interview.ended_at - interview.started_at).total_seconds()
        minimum = max(rules.min_seconds, rules.min_share_of_estimate * estimated_minutes * 60)
        if seconds < minimum:
            reasons.append(("interview_too_short", f"{int(seconds)} giây (tối thiểu {int(minimum)} giây)"))
    if abuse.straight_lined(response.answers, list(scale_items), rules.straight_line_min_items):
        reasons.append(("straight_lining", ""))
    if interview.ended_at is not None:
        local = _local(interview.ended_at)
        if not rules.work_start_hour <= local.hour < rules.work_end_hour:
            reasons.append(("outside_hours", f"Kết thúc lúc {local:%H:%M} (giờ Việt Nam)"))
    if interview.gps_lat is not None and interview.gps_lon is not None and interview.assignment is not None:
        village = interview.assignment.sample_village.village
        if village.lat is not None and village.lon is not None:
            km = distance_km(interview.gps_lat, interview.gps_lon, village.lat, village.lon)
            if km > rules.gps_max_km:
                reasons.append(("gps_far", f"Cách {village.name} {km:.1f} km"))
    for reason, detail in reasons:
        abuse._add_flag(session, response, reason, detail)
    found = [r for r, _ in reasons]
    if interview.ended_at is not None and _flag_same_minute(session, interview=interview, rules=rules):
        found.append("same_minute")
    session.flush()
    return found


def _flag_same_minute(session: Session, *, interview: Interview, rules: QualityRules) -> bool:
    assert interview.ended_at is not None
    minute = interview.ended_at.replace(second=0, microsecond=0)
    members = list(session.scalars(
        select(Interview).where(
            Interview.enumerator_id == interview.enumerator_id, Interview.outcome == "completed",
            Interview.ended_at >= minute, Interview.ended_at < minute + dt.timedelta(minutes=1),
            Interview.response_id.is_not(None),
        )
    ))
    if len(members) < rules.same_minute_count:
        return False
    for member in members:
        response = session.get(Response, member.response_id)
        if response is not None:
            abuse._add_flag(session, response, "same_minute", f"{len(members)} phỏng vấn lúc {_local(minute):%H:%M %d/%m/%Y}")
    return True


# --- assignments and replacements -----------------------------------------------------------------------
def assign(
    session: Session, *, actor: User, sample_village: SampleVillage, enumerator: User, target: int
) -> Assignment:
    if enumerator.role not in ("enumerator", "admin") or not enumerator.active:
        raise ValidationFailed(N_("Chỉ giao việc cho tài khoản điều tra viên đang hoạt động."))
    if sample_village.status not in ("selected", "active"):
        raise ValidationFailed(N_("Thôn này không còn trong mẫu (đã thay thế hoặc chỉ là thôn dự phòng)."))
    if not 1 <= target <= 1000:
        raise ValidationFailed(N_("Chỉ tiêu phải từ 1 đến 1000 phiếu."))
    assignment = session.scalar(select(Assignment).where(
        Assignment.sample_village_id == sample_village.id, Assignment.enumerator_id == enumerator.id))
    if assignment is None:
        assignment = Assignment(sample_village_id=sample_village.id, enumerator_id=enumerator.id, target=target)
        session.add(assignment)
    assignment.target, assignment.active = target, True
    session.flush()
    audit.record(session, actor=actor, action="assignment_changed", target_type="assignment", target_id=assignment.id,
                 details={"village": sample_village.village_id, "enumerator": enumerator.username, "target": target})
    return assignment


def assignments_for(session: Session, *, enumerator: User) -> list[Assignment]:
    return list(session.scalars(
        select(Assignment).join(SampleVillage).where(
            Assignment.enumerator_id == enumerator.id, Assignment.active.is_(True),
            SampleVillage.status.in_(("selected", "active")),
        ).order_by(Assignment.id)
    ))


def replace_village(session: Session, *, actor: User, sample_village: SampleVillage) -> SampleVillage:
    """Drop an inaccessible village and bring in the next replacement of the same commune."""
    if sample_village.status not in ("selected", "active"):
        raise ValidationFailed(N_("Chỉ thay được thôn đang trong mẫu."))
    replacement = session.scalar(
        select(SampleVillage).where(
            SampleVillage.sample_commune_id == sample_village.sample_commune_id, SampleVillage.status == "replacement",
        ).order_by(SampleVillage.rank).limit(1)
    )
    if replacement is None:
        raise ValidationFailed(N_("Xã này đã hết thôn dự phòng."))
    sample_village.status = "replaced"
    replacement.status, replacement.replaces_id, replacement.target = "active", sample_village.id, sample_village.target
    for assignment in session.scalars(select(Assignment).where(Assignment.sample_village_id == sample_village.id)):
        assignment.active = False
    session.flush()
    audit.record(session, actor=actor, action="village_replaced", target_type="sample_village", target_id=sample_village.id,
                 details={"replacement": replacement.id})
    return replacement


# --- progress ------------------------------------------------------------------------------------------
@dataclass
class Progress:
    label: str
    target: int = 0
    completed: int = 0
    refused: int = 0
    other: int = 0  # ineligible or absent
    issued: int = 0
    returned: int = 0  # paper questionnaires entered
    replaced: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def share(self) -> float | None:
        return self.completed / self.target if self.target else None

    @property
    def returned_share(self) -> float | None:
        return self.returned / self.issued if self.issued else None

    @property
    def status(self) -> str:
        if self.target and self.completed >= self.target:
            return "Đã xong"
        if self.completed or self.refused or self.other:
            return "Đang làm"
        return "Chưa bắt đầu"


def _outcome_counts(session: Session, survey_round: SurveyRound) -> dict[tuple[int, int], dict[str, int]]:
    """(sample_village_id, enumerator_id) -> outcome -> count, for interviews from tablets."""
    rows = session.execute(
        select(Assignment.sample_village_id, Interview.enumerator_id, Interview.outcome, func.count())
        .join(Assignment, Interview.assignment_id == Assignment.id)
        .join(SampleVillage, Assignment.sample_village_id == SampleVillage.id)
        .where(SampleVillage.round_id == survey_round.id)
        .group_by(Assignment.sample_village_id, Interview.enumerator_id, Interview.outcome)
    )
    counts: dict[tuple[int, int], dict[str, int]] = {}
    for village_id, enumerator_id, outcome, n in rows:
        counts.setdefault((village_id, enumerator_id), {})[outcome] = n
    return counts


def _paper_returned(session: Session, survey_round: SurveyRound) -> dict[int, int]:
    from ..models import PaperEntry

    rows = session.execute(
        select(PaperEntry.sample_village_id, func.count(func.distinct(PaperEntry.sheet_code)))
        .where(PaperEntry.round_id == survey_round.id, PaperEntry.response_id.is_not(None))
        .group_by(PaperEntry.sample_village_id)
    )
    return {village_id: n for village_id, n in rows}


def progress(session: Session, *, survey_round: SurveyRound) -> dict[str, list[Progress]]:
    """Progress by enumerator, village and commune (done, in progress, refused, replaced; issued vs returned)."""
    counts = _outcome_counts(session, survey_round)
    returned = _paper_returned(session, survey_round)
    villages = list(session.scalars(
        select(SampleVillage).where(SampleVillage.round_id == survey_round.id, SampleVillage.status != "replacement")
        .order_by(SampleVillage.sample_commune_id, SampleVillage.id)
    ))
    assignments = list(session.scalars(
        select(Assignment).join(SampleVillage).where(SampleVillage.round_id == survey_round.id)
    ))
    by_enum: dict[int, Progress] = {}
    for a in assignments:
        p = by_enum.setdefault(a.enumerator_id, Progress(a.enumerator.display_name or a.enumerator.username))
        if a.active:
            p.target += a.target
    for (_, enumerator_id), outcomes in counts.items():
        if enumerator_id in by_enum:
            _add(by_enum[enumerator_id], outcomes)
    by_village: list[Progress] = []
    by_commune: dict[int, Progress] = {}
    for v in villages:
        p = Progress(v.village.name, extra={"commune": v.sample_commune.commune.name, "status": v.status, "id": v.id})
        p.target = 0 if v.status == "replaced" else v.target
        p.replaced = 1 if v.status == "replaced" else 0
        p.issued, p.returned = v.issued, returned.get(v.id, 0)
        for (village_id, _), outcomes in counts.items():
            if village_id == v.id:
                _add(p, outcomes)
        p.completed += p.returned
        by_village.append(p)
        c = by_commune.setdefault(v.sample_commune_id, Progress(v.sample_commune.commune.name))
        for name in ("target", "completed", "refused", "other", "issued", "returned", "replaced"):
            setattr(c, name, getattr(c, name) + getattr(p, name))
    return {"enumerators": list(by_enum.values()), "villages": by_village, "communes": list(by_commune.values())}


def _add(p: Progress, outcomes: Mapping[str, int]) -> None:
    p.completed += outcomes.get("completed", 0)
    p.refused += outcomes.get("refused", 0)
    p.other += outcomes.get("ineligible", 0) + outcomes.get("absent", 0)


def set_issued(session: Session, *, actor: User, sample_village: SampleVillage, issued: int) -> None:
    if not 0 <= issued <= 100_000:
        raise ValidationFailed(N_("Số phiếu phát ra không hợp lệ."))
    sample_village.issued = issued
    session.flush()
    audit.record(session, actor=actor, action="assignment_changed", target_type="sample_village",
                 target_id=sample_village.id, details={"issued": issued})


# --- back-checks (phúc tra) -------------------------------------------------------------------------------
def _completed_in_round(session: Session, survey_round: SurveyRound) -> list[tuple[int, int]]:
    """(enumerator_id, response_id) of every completed tablet interview of the round."""
    rows = session.execute(
        select(Interview.enumerator_id, Interview.response_id)
        .join(Assignment, Interview.assignment_id == Assignment.id)
        .join(SampleVillage, Assignment.sample_village_id == SampleVillage.id)
        .where(SampleVillage.round_id == survey_round.id, Interview.outcome == "completed",
               Interview.response_id.is_not(None))
        .order_by(Interview.response_id)
    )
    return [(e, r) for e, r in rows if r is not None]


def draw_backchecks(session: Session, *, actor: User | None, survey_round: SurveyRound, rate: float | None = None) -> int:
    """Top up each enumerator's back-check sample to ceil(rate × completed) interviews (at least one).

    Drawn at random (seeded by the round's seed, the enumerator and the count, so a repeat draws the same
    ones) from interviews not yet drawn. Returns how many were added.
    """
    rate = survey_round.backcheck_rate if rate is None else rate
    if not 0 < rate <= 1:
        raise ValidationFailed(N_("Tỷ lệ phúc tra phải trong khoảng (0; 1]."))
    drawn = {r for r in session.scalars(select(BackCheck.response_id).where(BackCheck.round_id == survey_round.id))}
    per_enum: dict[int, list[int]] = {}
    for enumerator_id, response_id in _completed_in_round(session, survey_round):
        per_enum.setdefault(enumerator_id, []).append(response_id)
    added = 0
    for enumerator_id, responses in sorted(per_enum.items()):
        wanted = max(1, math.ceil(rate * len(responses) - 1e-9))
        have = sum(1 for r in responses if r in drawn)
        pool = [r for r in responses if r not in drawn]
        need = min(wanted - have, len(pool))
        if need <= 0:
            continue
        seed = hashlib.sha256(f"{survey_round.seed}|{enumerator_id}|{len(responses)}".encode()).digest()
        for response_id in random.Random(int.from_bytes(seed[:8], "big")).sample(pool, need):
            session.add(BackCheck(round_id=survey_round.id, response_id=response_id, enumerator_id=enumerator_id))
            added += 1
    session.flush()
    if added:
        audit.record(session, actor=actor, action="backcheck_drawn", target_type="survey_round",
                     target_id=survey_round.id, details={"added": added, "rate": rate})
    return added


def backcheck_items(version: QuestionnaireVersion, response: Response, limit: int = 4) -> list[str]:
    """The items a supervisor re-asks: the overall-satisfaction items first, then the first answered choices."""
    from . import questionnaires as q_service

    questionnaire = q_service.parsed(version)
    answered = [i for i in questionnaire.items if i.id in response.answers and i.type in ("scale5", "single", "yesno")]
    overall = [i.id for i in answered if i.role == "overall"]
    rest = [i.id for i in answered if i.id not in overall]
    return (overall + rest)[:limit]


def record_backcheck(
    session: Session, *, actor: User, check: BackCheck, outcome: str, answers: Mapping[str, str], note: str = "",
    now: dt.datetime | None = None,
) -> BackCheck:
    """Store the re-contact result; a different answer turns 'confirmed' into 'mismatch' and flags the response."""
    if outcome not in BACKCHECK_OUTCOMES:
        raise ValidationFailed(N_("Kết quả phúc tra không hợp lệ."))
    response = session.get(Response, check.response_id)
    if response is None:
        raise NotFound()
    given = {k: v for k, v in answers.items() if v}
    differing = sorted(k for k, v in given.items() if str(response.answers.get(k)) != v)
    if outcome == "confirmed" and differing:
        outcome = "mismatch"
    check.outcome, check.checked_answers, check.note = outcome, given, note.strip()[:2000]
    check.checked_by_id, check.checked_at = actor.id, now or utcnow()
    if outcome == "mismatch":
        abuse._add_flag(session, response, "backcheck_mismatch", f"Khác ở câu: {', '.join(differing) or '—'}")
    elif outcome == "not_interviewed":
        abuse._add_flag(session, response, "backcheck_not_interviewed", note.strip()[:300])
    session.flush()
    audit.record(session, actor=actor, action="backcheck_recorded", target_type="response", target_id=response.id,
                 details={"outcome": outcome, "differing": differing})
    return check


def backcheck_summary(session: Session, *, survey_round: SurveyRound) -> list[dict[str, Any]]:
    """Per enumerator: completed, drawn, checked and mismatching back-checks."""
    completed: dict[int, int] = {}
    for enumerator_id, _ in _completed_in_round(session, survey_round):
        completed[enumerator_id] = completed.get(enumerator_id, 0) + 1
    rows: dict[int, dict[str, Any]] = {}
    for check in session.scalars(select(BackCheck).where(BackCheck.round_id == survey_round.id)):
        row = rows.setdefault(check.enumerator_id, {"drawn": 0, "checked": 0, "problems": 0})
        row["drawn"] += 1
        row["checked"] += check.outcome != "pending"
        row["problems"] += check.outcome in ("mismatch", "not_interviewed")
    result = []
    for enumerator_id, n in sorted(completed.items()):
        user = session.get(User, enumerator_id)
        row = rows.get(enumerator_id, {"drawn": 0, "checked": 0, "problems": 0})
        result.append({"enumerator": user.username if user else str(enumerator_id), "completed": n, **row})
    return result


def open_flag_count(session: Session, *, response_ids: Sequence[int]) -> int:
    if not response_ids:
        return 0
    return session.scalar(select(func.count()).where(ResponseFlag.response_id.in_(response_ids),
                                                     ResponseFlag.status == "open")) or 0
