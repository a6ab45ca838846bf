"""Systematic PPS with certainty units, reproducible draws, village list import and three-stage plans."""

from __future__ import annotations

import io
import math
from collections import Counter

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey_app.errors import ValidationFailed
from survey_app.models import AuditEvent, SampleCommune, SampleVillage, Village
from survey_app.services import sampling
from survey_app.services.sampling import PlanParameters, SamplingError, Unit

# A frame with one very large unit (certain by size) and a spread of small ones.
FRAME = [Unit(f"u{i}", size) for i, size in enumerate([900, 40, 55, 10, 120, 75, 33, 60, 0, 95, 20, 48, 66, 81, 12])]


def test_inclusion_probabilities_sum_to_the_number_selected() -> None:
    for n in (1, 3, 5, 8, 14):
        probs = sampling.inclusion_probabilities(FRAME, n)
        assert math.isclose(sum(probs.values()), n, rel_tol=1e-12)
        assert all(0 <= p <= 1 for p in probs.values())
        assert probs["u8"] == 0  # size 0: never selected


def test_large_unit_is_a_certainty_and_others_share_the_rest() -> None:
    probs = sampling.inclusion_probabilities(FRAME, 4)
    assert probs["u0"] == 1.0  # 900 ≥ total/4
    rest_total = sum(u.size for u in FRAME if u.key != "u0")
    assert math.isclose(probs["u4"], 3 * 120 / rest_total)
    picks = sampling.systematic_pps(FRAME, 4, seed=7)
    assert len(picks) == 4 and len({p.key for p in picks}) == 4
    assert next(p for p in picks if p.key == "u0").certainty
    assert sum(p.certainty for p in picks) == 1


def test_certainty_cascades_when_removing_one_unit_makes_another_reach_the_interval() -> None:
    frame = [Unit("a", 100), Unit("b", 60), Unit("c", 10), Unit("d", 10), Unit("e", 10)]
    # Interval 190/3 ≈ 63: only a; then 90/2 = 45: b as well; one draw among c, d, e with π = 1/3.
    probs = sampling.inclusion_probabilities(frame, 3)
    assert probs["a"] == probs["b"] == 1.0
    assert [round(probs[k], 6) for k in "cde"] == [round(1 / 3, 6)] * 3


def test_forced_certainty_unit_like_the_commune_seat() -> None:
    probs = sampling.inclusion_probabilities(FRAME, 3, certainty=["u3"])
    assert probs["u3"] == 1.0 and probs["u0"] == 1.0
    assert math.isclose(sum(probs.values()), 3)
    for seed in range(20):
        assert "u3" in {p.key for p in sampling.systematic_pps(FRAME, 3, seed=seed, certainty=["u3"])}


def test_reproducible_with_a_seed() -> None:
    first = sampling.systematic_pps(FRAME, 6, seed="PAPI-2026")
    again = sampling.systematic_pps(FRAME, 6, seed="PAPI-2026")
    assert first == again
    draws = {tuple(p.key for p in sampling.systematic_pps(FRAME, 6, seed=s)) for s in range(30)}
    assert len(draws) > 3  # different seeds give different samples


def test_selection_frequencies_match_the_probabilities() -> None:
    runs = 4000
    counts: Counter[str] = Counter()
    for seed in range(runs):
        picks = sampling.systematic_pps(FRAME, 5, seed=seed)
        assert len(picks) == 5
        counts.update(p.key for p in picks)
    probs = sampling.inclusion_probabilities(FRAME, 5)
    for unit in FRAME:
        p = probs[unit.key]
        sd = math.sqrt(p * (1 - p) / runs) or 1e-9
        assert abs(counts[unit.key] / runs - p) < 5 * sd + 1e-9, unit.key


@pytest.mark.parametrize(
    ("n", "certainty", "message"),
    [(0, (), "từ 1 trở lên"), (15, (), "không thể chọn 15"), (1, ("u1", "u2"), "nhiều hơn"), (2, ("zz",), "không có")],
)
def test_bad_parameters_have_a_vietnamese_message(n: int, certainty: tuple[str, ...], message: str) -> None:
    with pytest.raises(SamplingError, match=message):
        sampling.systematic_pps(FRAME, n, seed=1, certainty=certainty)


def test_replacement_order_is_reproducible_and_excludes_the_selected() -> None:
    picks = [p.key for p in sampling.systematic_pps(FRAME, 4, seed=3)]
    repl = sampling.replacement_order(FRAME, picks, seed=3, k=3)
    assert repl == sampling.replacement_order(FRAME, picks, seed=3, k=3)
    assert len(repl) == 3 and not {u.key for u in repl} & set(picks)
    assert all(u.size > 0 for u in repl)


CSV = (
    "ma_xa,ten_thon,so_ho\n"
    "03688,Bản Nà Ngụa,120\n"
    "3688,Bản Huổi Ngùa,1.250\n"  # leading zero dropped by a spreadsheet; thousands separator
    "99999,Bản Không Có,50\n"
    "03688,,40\n"
    "03694,Bản Pá Sang,nhiều\n"
    "03688,Bản Nà Ngụa,130\n"
    "\n"
    "03694,Bản Co Sủ,85\n"
)


def test_village_import_reports_each_bad_row_in_vietnamese(db_session: Session) -> None:
    rows = sampling.read_rows("thon.csv", CSV.encode())
    result = sampling.import_villages(db_session, rows=rows, actor=None)
    assert (result.created, result.updated) == (3, 0)
    assert result.errors == [
        "Dòng 4: không tìm thấy xã/phường có mã “99999”.",
        "Dòng 5: thiếu tên thôn/bản (hoặc dài quá 120 ký tự).",
        "Dòng 6: số hộ “nhiều” không hợp lệ (phải là số nguyên từ 0).",
        "Dòng 7: thôn “Bản Nà Ngụa” của Xã Mường Chiên bị lặp trong tệp.",
    ]
    huoi = db_session.scalar(select(Village).where(Village.name == "Bản Huổi Ngùa"))
    assert huoi is not None and huoi.households == 1250
    again = sampling.import_villages(db_session, rows=rows, actor=None)
    assert (again.created, again.updated) == (0, 3)
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "villages_imported")) is not None


def test_village_import_from_xlsx_and_bad_header(db_session: Session) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Mã xã", "Tên thôn", "Số hộ"])
    ws.append(["03688", "Bản Lái", 64])
    ws.append([3694, "Bản Giôn", 88.0])
    buf = io.BytesIO()
    wb.save(buf)
    result = sampling.import_villages(db_session, rows=sampling.read_rows("thon.xlsx", buf.getvalue()), actor=None)
    assert (result.created, result.errors) == (2, [])
    with pytest.raises(ValidationFailed, match="Dòng tiêu đề"):
        sampling.import_villages(db_session, rows=[["xa", "thon"], ["1", "2"]], actor=None)
    with pytest.raises(ValidationFailed, match="Excel"):
        sampling.read_rows("hong.xlsx", b"not a zip")


def _frame(session: Session) -> None:
    rows = [["ma_xa", "ten_thon", "so_ho"]]
    sizes = {"03646": [300, 250, 180], "03667": [220, 140, 90, 60], "03670": [410, 75],
             "03688": [95, 60, 130, 45, 20], "03694": [70, 110, 35], "03703": [150, 90, 80, 40],
             "03712": [60, 55], "03721": [500, 240, 130, 60]}
    for code, households in sizes.items():
        for i, h in enumerate(households):
            rows.append([code, f"Thôn {i + 1}", str(h)])
    assert sampling.import_villages(session, rows=rows, actor=None).errors == []


def test_plan_stores_every_stage_and_the_design_weight(db_session: Session) -> None:
    _frame(db_session)
    params = PlanParameters(name="PAPI 2026", sector="one_stop", seed="2026", communes_per_stratum={"Phường": 2, "Xã": 3},
                            villages_per_commune=2, interviews_per_village=10, certainty_communes=["03721"],
                            replacements_per_commune=1)
    survey_round = sampling.create_plan(db_session, params=params, actor=None)
    communes = list(db_session.scalars(select(SampleCommune).where(SampleCommune.round_id == survey_round.id)))
    assert Counter(c.stratum for c in communes) == {"Phường": 2, "Xã": 3}
    assert any(c.certainty and c.commune.code == "03721" for c in communes)
    villages = list(db_session.scalars(select(SampleVillage).where(SampleVillage.round_id == survey_round.id)))
    selected = [v for v in villages if v.status == "selected"]
    assert len(selected) == 10
    for v in villages:
        assert math.isclose(v.design_weight, 1 / (v.prob_commune * v.prob_village * v.prob_household))
        assert math.isclose(v.prob_household, min(1, 10 / v.size))
    assert {v.rank for v in villages if v.status == "replacement"} == {1}
    # The same seed draws the same sample.
    again = sampling.create_plan(db_session, params=params, actor=None)
    again_villages = db_session.scalars(select(SampleVillage).where(SampleVillage.round_id == again.id))
    assert sorted((v.village_id, v.status) for v in again_villages) == sorted((v.village_id, v.status) for v in villages)


def test_plan_refuses_an_empty_frame_and_unknown_strata(db_session: Session) -> None:
    params = PlanParameters(name="x", sector="health", seed="1", communes_per_stratum={"Xã": 1},
                            villages_per_commune=1, interviews_per_village=5)
    with pytest.raises(SamplingError, match="Chưa có danh sách"):
        sampling.create_plan(db_session, params=params, actor=None)
    _frame(db_session)
    bad = PlanParameters(name="x", sector="health", seed="1", communes_per_stratum={"Thị trấn": 1},
                         villages_per_commune=1, interviews_per_village=5)
    with pytest.raises(SamplingError, match="Tầng không có"):
        sampling.create_plan(db_session, params=bad, actor=None)
