"""The report bridge: figures equal the analysis library's output computed directly on the fixture's answers.

``seed_reports`` (also used by the route tests) stores a known set of responses; the expected values are
computed here from the Python-side copy of those answers, never from the database, so that loading, filtering,
coding and the design specification of services/reports.py are all checked.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from analysis import SurveyDesign, quality_flags, satisfied, sipas_index
from analysis.sae import fay_herriot_table, smooth_sampling_variances
from survey_app.models import Comment, ReceptionPoint, Response, TransactionVolume
from survey_app.questionnaire import ItemType
from survey_app.services import catalogue, demo, report_aggregates, report_periods, report_settings
from survey_app.services import questionnaires as q_service
from survey_app.services import reports as svc
from survey_app.services.submissions import validate_answers

PROVINCE = "14"
PERIOD = report_periods.six_month(2026)
PREVIOUS = report_periods.previous(PERIOD)
SECTORS = ("health", "one_stop")
# Communes (by position in Sơn La's catalogue) and responses per reception point: the last is small on purpose.
SIZES = {0: 45, 1: 38, 2: 12}


@dataclass
class Seeded:
    province_id: int
    communes: list[Any]
    points: dict[tuple[int, str], ReceptionPoint]
    rows: list[dict[str, Any]]  # what was stored, as plain Python


def seed_reports(session: Session, *, seed: int = 7) -> Seeded:
    """Store responses in three communes × two sectors, in this six-month period and the previous one, with a
    few enumerator interviews, flagged responses, "na" answers and comments."""
    rng = np.random.default_rng(seed)
    province = catalogue.get_province(session, PROVINCE)
    assert province is not None
    communes = catalogue.communes_of(session, province_code=PROVINCE)[:3]
    points: dict[tuple[int, str], ReceptionPoint] = {}
    from survey_app.services import points as points_service

    for k, commune in enumerate(communes):
        for sector in SECTORS:
            points[(k, sector)] = points_service.create_point(session, commune=commune, sector=sector, name=f"Điểm {sector} {k}")
    versions = {s: q_service.current_for_sector(session, sector=s) for s in SECTORS}
    rows: list[dict[str, Any]] = []
    start, _ = PERIOD.bounds_utc()
    prev_start, _ = PREVIOUS.bounds_utc()
    for (k, sector), point in points.items():
        version = versions[sector]
        assert version is not None
        q = q_service.parsed(version)
        base = {"health": 0.3, "one_stop": 0.7}[sector] + (-0.4 * k)
        for j in range(SIZES[k] + 6):
            mode = "enumerator" if j % 9 == 8 else "qr"
            in_previous = j >= SIZES[k]
            when = (prev_start if in_previous else start) + dt.timedelta(days=float(rng.uniform(1, 170)))
            validated = validate_answers(q, demo.synthetic_form(q, base + float(rng.normal(0, 0.5)), rng))
            assert validated.ok
            answers = dict(validated.answers)
            r = Response(
                submission_id=str(uuid.uuid4()), questionnaire_version_id=version.id, questionnaire_id=version.questionnaire_id,
                questionnaire_version=version.version, questionnaire_hash=version.content_hash,
                reception_point_id=point.id if mode == "qr" else None, commune_id=communes[k].id, sector=sector, mode=mode,
                language="vi", answers=answers, submitted_at=when, flagged=(j == 5),
            )
            session.add(r)
            session.flush()
            comment = f"Góp ý {sector} số {j} tại xã {k}" if j % 7 == 0 else None
            if comment:
                session.add(Comment(response_id=r.id, item_id="comment", text=comment))
            rows.append({"id": r.id, "commune_id": communes[k].id, "sector": sector, "mode": mode,
                         "point_id": point.id if mode == "qr" else None, "answers": answers, "flagged": j == 5,
                         "previous": in_previous, "comment": comment})
    session.commit()
    report_aggregates.clear_cache()
    return Seeded(province.id, communes, points, rows)


def expected_frame(seeded: Seeded, session: Session, *, previous: bool = False, include_flagged: bool = False,
                   modes: tuple[str, ...] = ("qr", "enumerator", "paper")) -> tuple[pd.DataFrame, dict[str, dict[str, list[str]]], dict[str, str]]:
    """The analysis input built independently from the Python copy of the answers."""
    elements: dict[str, dict[str, list[str]]] = {}
    overall: dict[str, str] = {}
    records = []
    for sector in SECTORS:
        version = q_service.current_for_sector(session, sector=sector)
        assert version is not None
        q = q_service.parsed(version)
        items = [i for i in q.items if i.type == ItemType.scale5]
        elements[sector] = {}
        for i in items:
            if i.tags.sipas:
                elements[sector].setdefault(i.tags.sipas.value, []).append(f"{sector}:{i.id}")
            if i.role and i.role.value == "overall":
                overall[sector] = i.id
    for row in seeded.rows:
        if row["previous"] != previous or (row["flagged"] and not include_flagged) or row["mode"] not in modes:
            continue
        rec = {"commune_id": row["commune_id"], "sector": row["sector"], "stratum": str(row["commune_id"]),
               "psu": f"p{row['point_id']}" if row["point_id"] else f"c{row['commune_id']}-{row['mode']}", "w": 1.0,
               "overall": row["answers"].get(overall[row["sector"]]), "point_id": row["point_id"]}
        for cols in elements[row["sector"]].values():
            for col in cols:
                rec[col] = row["answers"].get(col.split(":", 1)[1])
        records.append(rec)
    frame = pd.DataFrame.from_records(records)
    frame["overall"] = satisfied(frame["overall"])
    return frame, elements, overall


def direct_design(frame: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign(frame, weights="w", strata="stratum", psu="psu", lonely_psu="adjust")


def close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.fixture
def seeded(db_session: Session) -> Seeded:
    return seed_reports(db_session)


def test_overview_equals_analysis(db_session: Session, seeded: Seeded) -> None:
    settings = report_settings.ReportSettings()
    ov = svc.overview(db_session, period=PERIOD, previous_period=PREVIOUS, settings=settings,
                      province_id=seeded.province_id, sectors=SECTORS)
    frame, elements, _ = expected_frame(seeded, db_session)
    design = direct_design(frame)
    table = quality_flags(design.mean("overall", by="sector"), min_n=30)
    prev_table = direct_design(expected_frame(seeded, db_session, previous=True)[0]).mean("overall", by="sector")
    assert ov.n_total == len(frame)
    for row in ov.rows:
        exp = table[table["sector"] == row.sector].iloc[0]
        assert row.overall.n == exp["n"]
        assert close(row.overall.estimate, 100 * exp["estimate"])
        assert close(row.overall.ci_low, 100 * exp["ci_low"]) and close(row.overall.ci_high, 100 * exp["ci_high"])
        assert close(row.overall.se, 100 * exp["se"])
        sip = sipas_index(design, elements[row.sector], by="sector", recode=True)
        sip = sip[(sip["sector"] == row.sector) & (sip["component"] == "index")].iloc[0]
        assert close(row.sipas.estimate, sip["estimate"]) and close(row.sipas.ci_high, sip["ci_high"])
        before = prev_table[prev_table["sector"] == row.sector].iloc[0]
        assert row.previous.n == before["n"]
        if row.previous.shown and row.overall.shown:
            assert close(row.change, 100 * (exp["estimate"] - before["estimate"]))
        else:
            assert row.change is None  # too few answers in the previous period to compare
        assert row.target == report_settings.DEFAULT_TARGETS[row.sector]


def test_flagged_and_modes_settings(db_session: Session, seeded: Seeded) -> None:
    with_flagged = report_settings.ReportSettings(include_flagged=True, modes=("qr",))
    ov = svc.overview(db_session, period=PERIOD, previous_period=PREVIOUS, settings=with_flagged,
                      province_id=seeded.province_id, sectors=SECTORS)
    frame, _, _ = expected_frame(seeded, db_session, include_flagged=True, modes=("qr",))
    assert ov.n_total == len(frame)
    table = direct_design(frame).mean("overall", by="sector")
    for row in ov.rows:
        assert close(row.overall.estimate, 100 * table[table["sector"] == row.sector].iloc[0]["estimate"])


def test_commune_table_suppresses_and_matches(db_session: Session, seeded: Seeded) -> None:
    settings = report_settings.ReportSettings()
    result = svc.commune_table(db_session, period=PERIOD, settings=settings, province_id=seeded.province_id,
                               sectors=SECTORS, commune_ids=None)
    frame, _, _ = expected_frame(seeded, db_session)
    table = quality_flags(direct_design(frame).mean("overall", by=["commune_id", "sector"]), min_n=30)
    assert len(result.cells) == len(table)
    for _, exp in table.iterrows():
        cell = result.cells[(int(exp["commune_id"]), exp["sector"])].value
        assert cell.n == exp["n"] and cell.suppressed == bool(exp["suppress"]) and cell.source == "direct"
        assert close(cell.estimate, 100 * exp["estimate"])
    assert any(c.value.suppressed for c in result.cells.values()), "the small commune must be suppressed"
    only = frozenset({seeded.communes[0].id})
    scoped = svc.commune_table(db_session, period=PERIOD, settings=settings, province_id=seeded.province_id,
                               sectors=("health",), commune_ids=only)
    assert {k[0] for k in scoped.cells} == set(only) and {k[1] for k in scoped.cells} == {"health"}


def test_commune_table_fay_herriot(db_session: Session, seeded: Seeded) -> None:
    settings = report_settings.ReportSettings(sae=True)
    result = svc.commune_table(db_session, period=PERIOD, settings=settings, province_id=seeded.province_id,
                               sectors=("health",), commune_ids=None)
    frame, _, _ = expected_frame(seeded, db_session)
    direct = direct_design(frame).mean("overall", by=["commune_id", "sector"])
    part = direct[direct["sector"] == "health"].reset_index(drop=True)
    part["psi"] = smooth_sampling_variances(part["estimate"], part["n"], part["se"] ** 2, method="pooled")
    fh = fay_herriot_table(part, area="commune_id", estimate="estimate", variance="psi", covariates=[])
    kinds = set()
    for _, r in fh.iterrows():
        cell = result.cells[(int(r["area"]), "health")].value
        d = part[part["commune_id"] == r["area"]].iloc[0]
        if d["n"] >= 30 and d["cv"] <= 0.30:
            assert cell.source == "direct" and close(cell.estimate, 100 * d["estimate"])
        else:
            assert cell.source == "model-based" and close(cell.estimate, 100 * r["eblup"])
            assert close(cell.se, 100 * math.sqrt(r["mse"]))
        kinds.add(cell.source)
    assert "model-based" in kinds


def test_sector_view_points_elements_items(db_session: Session, seeded: Seeded) -> None:
    settings = report_settings.ReportSettings()
    view = svc.sector_view(db_session, period=PERIOD, settings=settings, province_id=seeded.province_id,
                           sector="health", commune_ids=None)
    frame, elements, _ = expected_frame(seeded, db_session)
    design = direct_design(frame)
    sip = sipas_index(design, elements["health"], by="sector", recode=True, items=True)
    sip = sip[sip["sector"] == "health"]
    assert [e for e, _, _ in view.elements] == [e for e in ("access", "procedure", "civil_servant", "result", "feedback")
                                                if e in elements["health"]]
    for code, _, est in view.elements:
        exp = sip[(sip["component"] == "element") & (sip["variable"] == code)].iloc[0]
        assert close(est.estimate, exp["estimate"]) and est.n == exp["n"]
    for item in view.items:
        exp = sip[(sip["component"] == "item") & (sip["variable"] == f"health:{item.item.id}")].iloc[0]
        assert close(item.value.estimate, exp["estimate"])
    shown = [i.value.estimate for i in view.items if i.value.shown]
    assert [i.value.estimate for i in view.weakest] == sorted(shown)[:5]
    by_point = design.mean("overall", by=["sector", "psu"])
    assert len(view.points) == 3
    for p in view.points:
        exp = by_point[(by_point["psu"] == f"p{p.point_id}")].iloc[0]
        assert close(p.value.estimate, 100 * exp["estimate"]) and p.value.n == exp["n"]


def test_item_drilldown_weighted_and_unweighted(db_session: Session, seeded: Seeded) -> None:
    # Raked to transaction volumes (QR only), so weighted and unweighted differ.
    for (k, _sector), point in seeded.points.items():
        db_session.add(TransactionVolume(reception_point_id=point.id, period_start=PERIOD.start, period_end=PERIOD.end,
                                         transactions=1000 * (k + 1) ** 2, source="thử nghiệm", is_synthetic=True))
    db_session.commit()
    settings = report_settings.ReportSettings(modes=("qr",), weighting="transactions")
    view = svc.sector_view(db_session, period=PERIOD, settings=settings, province_id=seeded.province_id,
                           sector="health", commune_ids=None)
    item = view.items[0].item
    drill = svc.item_drilldown(db_session, period=PERIOD, settings=settings, province_id=seeded.province_id,
                               sector="health", item_id=item.id)
    frame, _, _ = expected_frame(seeded, db_session, modes=("qr",))
    frame["code"] = pd.to_numeric(frame[f"health:{item.id}"], errors="coerce")
    design = direct_design(frame)
    raked = design.rake({"psu": {f"p{p.id}": 1000.0 * (k + 1) ** 2 for (k, _s), p in seeded.points.items()}})
    w = raked.proportion("code", by="sector", levels=[1.0, 2.0, 3.0, 4.0, 5.0])
    u = design.proportion("code", by="sector", levels=[1.0, 2.0, 3.0, 4.0, 5.0])
    for r in drill.rows:
        ew = w[(w["sector"] == "health") & (w["level"] == float(r.code))].iloc[0]
        eu = u[(u["sector"] == "health") & (u["level"] == float(r.code))].iloc[0]
        assert close(r.weighted.estimate, 100 * ew["estimate"]) and close(r.weighted.se, 100 * ew["se"])
        assert close(r.unweighted.estimate, 100 * eu["estimate"])
    assert any(not close(r.weighted.estimate, r.unweighted.estimate or -1) for r in drill.rows)
    # The overall rate under raking equals the raked design's mean (calibration-aware SE).
    ov = svc.overview(db_session, period=PERIOD, previous_period=PREVIOUS, settings=settings,
                      province_id=seeded.province_id, sectors=("health",))
    exp = raked.mean("overall", by="sector")
    exp = exp[exp["sector"] == "health"].iloc[0]
    assert close(ov.rows[0].overall.estimate, 100 * exp["estimate"]) and close(ov.rows[0].overall.se, 100 * exp["se"])


def test_transactions_weighting_refuses_missing_volumes_and_other_modes(db_session: Session, seeded: Seeded) -> None:
    with pytest.raises(report_settings.ReportDataError, match="Chưa có số giao dịch"):
        svc.overview(db_session, period=PERIOD, previous_period=PREVIOUS, settings=report_settings.ReportSettings(modes=("qr",), weighting="transactions"),
                     province_id=seeded.province_id, sectors=SECTORS)
    with pytest.raises(report_settings.ReportDataError, match="chỉ áp dụng cho phiếu QR"):
        svc.overview(db_session, period=PERIOD, previous_period=PREVIOUS, settings=report_settings.ReportSettings(weighting="transactions"),
                     province_id=seeded.province_id, sectors=SECTORS)


def test_cache_is_invalidated_by_new_responses(db_session: Session, seeded: Seeded) -> None:
    settings = report_settings.ReportSettings()
    first = report_aggregates.aggregates(db_session, period=PERIOD, settings=settings, province_id=seeded.province_id)
    assert report_aggregates.aggregates(db_session, period=PERIOD, settings=settings, province_id=seeded.province_id) is first
    row = db_session.get(Response, seeded.rows[0]["id"])
    assert row is not None
    row.flagged = True
    db_session.commit()
    second = report_aggregates.aggregates(db_session, period=PERIOD, settings=settings, province_id=seeded.province_id)
    assert second is not first and second.n == first.n - 1


def test_comments_scoped_by_sector_and_commune(db_session: Session, seeded: Seeded) -> None:
    settings = report_settings.ReportSettings()
    got = svc.comments(db_session, period=PERIOD, settings=settings, sector="health", commune_ids=frozenset({seeded.communes[0].id}))
    expected = {r["comment"] for r in seeded.rows if r["comment"] and r["sector"] == "health" and not r["previous"]
                and not r["flagged"] and r["commune_id"] == seeded.communes[0].id}
    assert {c.text for c in got} == expected and expected


def test_periods() -> None:
    p = report_periods.six_month(2026)
    assert (p.start, p.end, p.due) == (dt.date(2025, 12, 1), dt.date(2026, 5, 31), dt.date(2026, 6, 10))
    a = report_periods.annual(2026)
    assert (a.start, a.end, a.due) == (dt.date(2025, 12, 1), dt.date(2026, 11, 30), dt.date(2026, 12, 10))
    assert report_periods.previous(report_periods.quarter(2026, 1)) == report_periods.quarter(2025, 4)
    c = report_periods.custom(dt.date(2026, 3, 1), dt.date(2026, 3, 10))
    assert report_periods.previous(c) == report_periods.custom(dt.date(2026, 2, 19), dt.date(2026, 2, 28))
    lo, hi = p.bounds_utc()
    assert lo == dt.datetime(2025, 11, 30, 17, tzinfo=dt.UTC) and hi == dt.datetime(2026, 5, 31, 17, tzinfo=dt.UTC)
    assert report_periods.current(today=dt.date(2026, 12, 5)) == report_periods.six_month(2027)
    with pytest.raises(Exception, match="Quý"):
        report_periods.parse_period(kind="quarter", year="2026", q="7")
