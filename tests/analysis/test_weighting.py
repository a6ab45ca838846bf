"""Weighting: design weights, nonresponse adjustment, raking errors and diagnostics, post-stratification, trimming."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import (
    CalibrationError,
    DesignError,
    SurveyDesign,
    design_weights,
    kish_weighting_effect,
    nonresponse_adjustment,
    poststratify_weights,
    rake_weights,
    trim_weights,
    weight_summary,
)

from ._helpers import POP_SCH, POP_STYPE, api, assert_close


def test_design_weights_multiply_stage_probabilities() -> None:
    w = design_weights([0.1, 0.2, 1.0], [0.5, 0.25, 1.0])
    np.testing.assert_allclose(w, [20.0, 20.0, 1.0])
    with pytest.raises(DesignError, match="stage 2"):
        design_weights([0.1], [1.5])


def test_nonresponse_adjustment_keeps_class_totals() -> None:
    data = pd.DataFrame({"d": [10.0, 10, 20, 5, 5], "resp": [1, 0, 1, 1, 0], "cls": ["a", "a", "a", "b", "b"]})
    w = nonresponse_adjustment(data, "d", "resp", "cls")
    np.testing.assert_allclose(w, [40 / 3, 0, 80 / 3, 10, 0])
    data.loc[3, "resp"] = 0
    with pytest.raises(CalibrationError, match="no respondents"):
        nonresponse_adjustment(data, "d", "resp", "cls")


def test_kish_weighting_effect() -> None:
    w = np.array([1.0, 2.0, 3.0, 10.0])
    assert_close(kish_weighting_effect(w), 1 + np.var(w) / np.mean(w) ** 2)
    s = weight_summary(w)
    assert s.ratio == 10.0 and s.effective_n == pytest.approx(4 / s.weighting_effect)


def test_rake_weights_diagnostics_and_text_levels() -> None:
    d = api()
    margins = pd.DataFrame(
        {
            "variable": ["stype"] * 3 + ["sch.wide"] * 2,
            "level": list(POP_STYPE) + list(POP_SCH),
            "total": list(POP_STYPE.values()) + list(POP_SCH.values()),
        }
    )
    result = rake_weights(d, "pw", margins)
    rec = result.record
    assert rec.converged and 1 < rec.iterations < 50
    assert rec.max_margin_error <= 1e-10 * 6194
    np.testing.assert_allclose(rec.margins["after"], rec.margins["target"], rtol=1e-10)
    assert rec.before.weighting_effect == pytest.approx(1.0)
    assert rec.after.weighting_effect > 1.0
    assert rec.after.minimum == pytest.approx(29.8706754926) and rec.after.maximum == pytest.approx(67.1255292413)


def test_levels_are_compared_as_text() -> None:
    d = api().assign(code=lambda x: x["stype"].map({"E": 1, "H": 2, "M": 3}).astype(float))
    by_text = rake_weights(d, "pw", {"code": {"1": 4421, "2": 755, "3": 1018}}).weights
    by_code = poststratify_weights(d, "pw", "stype", POP_STYPE).weights
    np.testing.assert_allclose(by_text, by_code, rtol=1e-12)


def test_raking_errors_name_the_problem() -> None:
    d = api()
    with pytest.raises(CalibrationError, match=r"empty margin level.*'X'.*'stype'"):
        rake_weights(d, "pw", {"stype": {**POP_STYPE, "X": 10.0}, "sch.wide": {"No": 1082.0, "Yes": 5122.0}})
    with pytest.raises(CalibrationError, match=r"level 'M' of margin 'stype' occurs in the data but has no target"):
        rake_weights(d, "pw", {"stype": {"E": 5000.0, "H": 1194.0}})
    with pytest.raises(CalibrationError, match=r"inconsistent margin totals.*'stype'.*'sch.wide'"):
        rake_weights(d, "pw", {"stype": POP_STYPE, "sch.wide": {"No": 1072.0, "Yes": 6000.0}})
    with pytest.raises(CalibrationError, match="missing values"):
        rake_weights(d.assign(stype=d["stype"].where(d["snum"] != d["snum"].iloc[5])), "pw", {"stype": POP_STYPE})
    with pytest.raises(CalibrationError, match="did not converge"):
        rake_weights(d, "pw", {"stype": POP_STYPE, "sch.wide": POP_SCH}, max_iter=1)
    with pytest.raises(CalibrationError, match="twice"):
        rake_weights(d, "pw", pd.DataFrame({"variable": ["stype"] * 2, "level": ["E", "E"], "total": [1.0, 2.0]}))
    with pytest.raises(DesignError, match="numeric"):
        rake_weights(d, "stype", {"stype": POP_STYPE})


def test_poststratify_on_two_columns() -> None:
    d = api()
    totals = pd.DataFrame(
        {
            "stype": ["E", "E", "H", "H", "M", "M"],
            "sch.wide": ["No", "Yes"] * 3,
            "total": [500, 3921, 300, 455, 272, 746],
        }
    )
    des = SurveyDesign(d, weights="pw", psu="dnum", fpc="fpc").poststratify(["stype", "sch.wide"], totals)
    sums = des.data.assign(w=des.weights).groupby(["stype", "sch.wide"])["w"].sum()
    for row in totals.itertuples():
        assert_close(sums[(row[1], row[2])], float(row.total))


def test_trim_proportional_keeps_total_and_cap() -> None:
    rng = np.random.default_rng(3)
    w = rng.lognormal(0, 1, 500)
    result = trim_weights(w, k=3.0)
    cap = 3.0 * np.median(w)
    assert result.cap == pytest.approx(cap)
    assert result.weights.max() <= cap * (1 + 1e-9)
    assert_close(result.weights.sum(), w.sum())
    assert result.n_trimmed > 0 and result.iterations >= 1
    assert result.after.weighting_effect < result.before.weighting_effect
    untouched = w < cap / 2  # far below the cap: scaled by one common factor
    ratios = result.weights[untouched] / w[untouched]
    assert np.ptp(ratios) < 1e-12
    with pytest.raises(CalibrationError, match="exactly one"):
        trim_weights(w)


def test_trim_then_rerake_meets_margins() -> None:
    des = SurveyDesign(api(), weights="pw2", psu="dnum", fpc="fpc").rake({"stype": POP_STYPE, "sch.wide": POP_SCH})
    out = des.trim(upper=60.0, rerake={"stype": POP_STYPE, "sch.wide": POP_SCH})
    sums = out.data.assign(w=out.weights).groupby("stype")["w"].sum()
    for level, total in POP_STYPE.items():
        assert_close(sums[level], total, rtol=1e-8)
    assert out.weights.max() <= 60.0 * (1 + 1e-6)
    kinds = [s.kind for s in out.steps]
    assert kinds[:3] == ["rake", "trim", "rake"] and kinds[-1] == "rake"
