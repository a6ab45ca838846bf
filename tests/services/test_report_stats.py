"""Sufficient statistics next to the data (services/report_stats.py): the SQL GROUP BY sums equal the sums of the
rows, stay equal through incremental refreshes and flag changes, and the reports computed from them equal the
analysis library on the raw answers (including design-weighted household samples)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from analysis import SurveyDesign, sipas_index
from survey_app.models import ReportStatState, Response
from survey_app.services import abuse, report_aggregates, report_frames, report_periods, report_settings, report_stats
from survey_app.services import questionnaires as q_service
from survey_app.services import reports as svc
from survey_app.services.report_compact import Cells
from tests.services.test_reports import PERIOD, PREVIOUS, SECTORS, Seeded, close, direct_design, expected_frame, seed_reports


@pytest.fixture
def seeded(db_session: Session) -> Seeded:
    return seed_reports(db_session)


def as_dict(cells: Cells) -> dict[tuple[Any, ...], tuple[int, float]]:
    out = {}
    for i, key in enumerate(cells.keys.itertuples(index=False)):
        for stat, counts in cells.n.items():
            if counts[i]:
                out[(*key, stat)] = (int(counts[i]), round(float(cells.w[stat][i]), 9))
    return out


def row_cells(session: Session, seeded: Seeded, period: report_periods.Period, settings: report_settings.ReportSettings) -> Cells:
    catalogue = report_frames.sector_items(session)
    frame = report_frames.load_frame(session, period=period, settings=settings, catalogue=catalogue)
    return Cells.from_frame(frame, catalogue)


def sql_cells(session: Session, seeded: Seeded, period: report_periods.Period, settings: report_settings.ReportSettings) -> Cells:
    report_stats.ensure_fresh(session, report_frames.sector_items(session))
    months = report_aggregates.month_range(period)
    assert months is not None
    return Cells.from_long(report_stats.read(session, months=months, modes=settings.modes,
                                             include_flagged=settings.include_flagged, province_id=seeded.province_id))


@pytest.mark.parametrize("include_flagged", [False, True])
def test_sql_sums_equal_the_rows_sums(db_session: Session, seeded: Seeded, include_flagged: bool) -> None:
    settings = report_settings.ReportSettings(include_flagged=include_flagged)
    for period in (PERIOD, PREVIOUS):
        from_sql = as_dict(sql_cells(db_session, seeded, period, settings))
        from_rows = as_dict(row_cells(db_session, seeded, period, settings))
        assert from_sql == from_rows and len(from_sql) > 100
    assert not report_stats.pending(db_session)


def test_reports_on_whole_months_never_read_rows(db_session: Session, seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    report_stats.ensure_fresh(db_session, report_frames.sector_items(db_session))

    def no_rows(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the raw rows were read")

    monkeypatch.setattr(report_aggregates, "load_frame", no_rows)  # where the aggregates look it up
    settings = report_settings.ReportSettings()
    ov = svc.overview(db_session, period=PERIOD, previous_period=PREVIOUS, settings=settings,
                      province_id=seeded.province_id, sectors=SECTORS)
    frame, elements, _ = expected_frame(seeded, db_session)
    table = direct_design(frame).mean("overall", by="sector")
    for row in ov.rows:
        exp = table[table["sector"] == row.sector].iloc[0]
        assert row.overall.n == exp["n"] and close(row.overall.se, 100 * exp["se"])
    view = svc.sector_view(db_session, period=PERIOD, settings=settings, province_id=seeded.province_id,
                           sector="health", commune_ids=None)
    by_point = direct_design(frame).mean("overall", by=["sector", "psu"])
    assert len(view.points) == 3
    for p in view.points:
        exp = by_point[by_point["psu"] == f"p{p.point_id}"].iloc[0]
        assert p.value.n == exp["n"] and close(p.value.estimate, 100 * exp["estimate"])
    sip = sipas_index(direct_design(frame), elements["health"], by=["sector", "commune_id"], recode=True, items=True)
    mine = report_aggregates.aggregates(db_session, period=PERIOD, settings=settings, province_id=seeded.province_id).sipas(
        "health", ("commune_id",))
    assert len(mine) == len(sip[sip["sector"] == "health"]) > 10
    for _, e in sip[sip["sector"] == "health"].iterrows():
        variable = e["variable"] if e["component"] != "item" else None
        hit = mine[(mine["commune_id"] == e["commune_id"]) & (mine["component"] == e["component"])]
        if variable is not None:
            hit = hit[hit["variable"] == variable]
        else:  # item columns are named q01… in the report, health:<id> here: match by position
            hit = hit.iloc[[list(sip[(sip["component"] == "item") & (sip["commune_id"] == e["commune_id"])]["variable"]).index(e["variable"])]]
        g = hit.iloc[0]
        assert g["n"] == e["n"] and close(g["estimate"], e["estimate"]) and close(g["se"], e["se"])
        assert close(g["ci_low"], e["ci_low"]) and close(g["ci_high"], e["ci_high"])


def test_custom_period_uses_rows_with_the_same_estimator(db_session: Session, seeded: Seeded) -> None:
    """A period that does not cover whole months is summed from the rows; figures equal analysis."""
    custom = report_periods.custom(PERIOD.start + dt.timedelta(days=3), PERIOD.end - dt.timedelta(days=2))
    assert report_aggregates.month_range(custom) is None
    settings = report_settings.ReportSettings()
    lo, hi = custom.bounds_utc()
    got = report_aggregates.aggregates(db_session, period=custom, settings=settings, province_id=seeded.province_id).overall(["sector"])
    frame, _, _ = expected_frame(seeded, db_session)
    ids = set(db_session.scalars(select(Response.id).where(Response.submitted_at >= lo, Response.submitted_at < hi)))
    keep = [r["id"] in ids for r in seeded.rows if not r["previous"] and not r["flagged"] and r["mode"] != "kiosk"]
    table = direct_design(frame[keep].reset_index(drop=True)).mean("overall", by="sector")
    for s in SECTORS:
        g, e = got[got["sector"] == s].iloc[0], table[table["sector"] == s].iloc[0]
        assert g["n"] == e["n"] and close(g["estimate"], e["estimate"]) and close(g["se"], e["se"])


def _rebuild_and_compare(session: Session, seeded: Seeded) -> None:
    """The incrementally maintained sums equal a rebuild from scratch."""
    settings = report_settings.ReportSettings(include_flagged=True)
    incremental = as_dict(sql_cells(session, seeded, PERIOD, settings))
    state = session.get(ReportStatState, 1)
    assert state is not None
    state.signature = "stale"  # forces a rebuild on the next refresh
    session.commit()
    rebuilt = as_dict(sql_cells(session, seeded, PERIOD, settings))
    assert incremental == rebuilt


def test_incremental_refresh_and_flag_changes_keep_the_sums_exact(db_session: Session, seeded: Seeded) -> None:
    catalogue = report_frames.sector_items(db_session)
    report_stats.ensure_fresh(db_session, catalogue)
    v0 = report_stats.version(db_session)
    # A second refresh with nothing pending changes nothing.
    assert report_stats.refresh(db_session, catalogue) == 0 and report_stats.version(db_session) == v0
    # New responses arrive: only they are added.
    template = db_session.get(Response, seeded.rows[0]["id"])
    assert template is not None
    for k in range(5):
        db_session.add(Response(
            submission_id=str(uuid.uuid4()), questionnaire_version_id=template.questionnaire_version_id,
            questionnaire_id=template.questionnaire_id, questionnaire_version=template.questionnaire_version,
            questionnaire_hash=template.questionnaire_hash, reception_point_id=template.reception_point_id,
            commune_id=template.commune_id, sector=template.sector, mode="qr", language="vi",
            answers=dict(template.answers), submitted_at=PERIOD.bounds_utc()[0] + dt.timedelta(days=10 + k)))
    db_session.commit()
    assert report_stats.pending(db_session)
    assert report_stats.refresh(db_session, catalogue) == 5
    db_session.commit()
    # Flag one response through the abuse detector's path and clear another through review.
    flagged = db_session.get(Response, seeded.rows[1]["id"])
    assert flagged is not None and not flagged.flagged
    abuse._add_flag(db_session, flagged, "straight_lining")
    db_session.commit()
    assert report_stats.pending(db_session) and report_stats.version(db_session) > v0
    _rebuild_and_compare(db_session, seeded)


def test_review_clearing_a_flag_moves_the_response_back(db_session: Session, seeded: Seeded) -> None:
    from survey_app.models import ResponseFlag, User

    report_stats.ensure_fresh(db_session, report_frames.sector_items(db_session))
    settings = report_settings.ReportSettings()
    before = report_aggregates.aggregates(db_session, period=PERIOD, settings=settings, province_id=seeded.province_id).n
    target = next(r for r in seeded.rows if r["flagged"] and not r["previous"] and r["mode"] == "qr")
    flag = ResponseFlag(response_id=target["id"], reason="straight_lining", detail="")
    db_session.add(flag)
    admin = User(username="rv", password_hash="x", role="admin")
    db_session.add(admin)
    db_session.commit()
    abuse.review_flag(db_session, actor=admin, flag=flag, status="cleared")
    db_session.commit()
    after = report_aggregates.aggregates(db_session, period=PERIOD, settings=settings, province_id=seeded.province_id).n
    assert after == before + 1
    _rebuild_and_compare(db_session, seeded)


def test_design_weighted_household_sample(db_session: Session, seeded: Seeded) -> None:
    """Enumerator interviews with the fieldwork round's strata, PSUs and weights: the report equals analysis
    with those weights; QR answers and unweighted interviews are refused with a clear message."""
    rng = np.random.default_rng(3)
    version = q_service.current_for_sector(db_session, sector="health")
    assert version is not None
    template = db_session.get(Response, next(r["id"] for r in seeded.rows if r["sector"] == "health"))
    assert template is not None
    records = []
    start, _ = PERIOD.bounds_utc()
    for j in range(60):
        stratum, psu = f"S{j % 2}", f"V{j % 6}"
        weight = float(rng.uniform(20, 80))
        answers = {k: str(rng.integers(1, 6)) if v not in ("na",) else v for k, v in template.answers.items()
                   if isinstance(v, str) and v in ("1", "2", "3", "4", "5", "na")}
        r = Response(submission_id=str(uuid.uuid4()), questionnaire_version_id=version.id,
                     questionnaire_id=version.questionnaire_id, questionnaire_version=version.version,
                     questionnaire_hash=version.content_hash, commune_id=seeded.communes[j % 3].id, sector="health",
                     mode="paper", language="vi", answers=answers, submitted_at=start + dt.timedelta(days=5 + j))
        r.stratum, r.psu, r.design_weight = stratum, psu, weight  # type: ignore[attr-defined]
        db_session.add(r)
        records.append({"stratum": stratum, "psu": f"{stratum}/{psu}", "w": weight, "sector": "health",
                        "commune_id": seeded.communes[j % 3].id, **answers})
    db_session.commit()
    catalogue = report_frames.sector_items(db_session)
    overall = catalogue["health"].overall
    assert overall is not None
    frame = pd.DataFrame(records)
    frame["overall"] = (pd.to_numeric(frame[overall], errors="coerce") >= 4).astype(float).where(
        pd.to_numeric(frame[overall], errors="coerce").notna())
    design = SurveyDesign(frame, weights="w", strata="stratum", psu="psu", lonely_psu="adjust")
    expected = design.mean("overall", by=["commune_id", "sector"])
    settings = report_settings.ReportSettings(modes=("paper",), weighting="design", min_n=5)
    for period in (PERIOD, report_periods.custom(PERIOD.start, PERIOD.end - dt.timedelta(days=1))):
        report_aggregates.clear_cache()
        got = report_aggregates.aggregates(db_session, period=period, settings=settings, province_id=seeded.province_id).overall(
            ["commune_id", "sector"])
        assert len(got) == 3
        for _, e in expected.iterrows():
            g = got[got["commune_id"] == e["commune_id"]].iloc[0]
            assert g["n"] == e["n"] and close(g["estimate"], e["estimate"]) and close(g["se"], e["se"])
            assert close(g["ci_low"], e["ci_low"])
    with pytest.raises(report_settings.ReportDataError, match="chỉ áp dụng cho phiếu điều tra viên"):
        report_aggregates.aggregates(db_session, period=PERIOD, settings=report_settings.ReportSettings(weighting="design"),
                       province_id=seeded.province_id)
    with pytest.raises(report_settings.ReportDataError, match="không có trọng số thiết kế"):
        report_aggregates.aggregates(db_session, period=PERIOD, settings=report_settings.ReportSettings(modes=("enumerator", "paper"),
                                                                              weighting="design"),
                       province_id=seeded.province_id)


def test_a_corrected_aggregated_response_moves_to_its_new_cell(db_session: Session, seeded: Seeded) -> None:
    """Any change of a value the sums are keyed or counted by (here the answers and the commune) retracts the
    old contribution, read from the database, and re-adds the new one."""
    report_stats.ensure_fresh(db_session, report_frames.sector_items(db_session))
    row = next(r for r in seeded.rows if not r["previous"] and not r["flagged"] and r["mode"] == "qr")
    response = db_session.get(Response, row["id"])
    assert response is not None
    response.answers = {k: ("1" if v in ("4", "5") else v) for k, v in response.answers.items()}
    response.commune_id = seeded.communes[2].id
    db_session.commit()
    assert report_stats.pending(db_session)
    _rebuild_and_compare(db_session, seeded)


def test_tidy_queue_vacuums_the_queue_on_postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite leaves no dead index entries to clean; tidy_queue does nothing there")
    count = text("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'report_pending'")
    with engine.connect() as conn:
        before = conn.execute(count).scalar_one()
    report_stats.tidy_queue(engine)  # VACUUM refuses to run inside a transaction: this must not raise
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        assert conn.execute(count).scalar_one() == before + 1
