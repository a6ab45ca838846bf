"""Reference values of methodology.md (R survey 4.1.1 on apiclus1), reproduced to |ours − R| <= 1e-8|R| + 1e-12.

Values printed with fewer digits (post-stratified mean and SE) are compared at relative 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis import SurveyDesign, effective_sample_size

from ._helpers import POP_SCH, POP_STYPE, api, assert_close


@pytest.fixture(scope="module")
def design_a() -> SurveyDesign:
    """Design A: svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)."""
    return SurveyDesign(api(), weights="pw", psu="dnum", fpc="fpc")


def test_design_a_structure(design_a: SurveyDesign) -> None:
    assert_close(design_a.weights.sum(), 6194.000324)
    assert design_a.df == 14
    assert design_a.layout.n_psu == 15


def test_mean_api00(design_a: SurveyDesign) -> None:
    row = design_a.mean("api00").iloc[0]
    assert_close(row["estimate"], 644.1693989071, what="mean")
    assert_close(row["se"], 23.5422406938, what="se")
    assert_close(row["deff"], 9.3458694506, what="deff")
    assert_close(row["deff_replace"], 9.0697483625, what="deff replace")
    assert_close(row["ci_low"], 593.6763145, what="ci low")
    assert_close(row["ci_high"], 694.6624834, what="ci high")
    assert row["df"] == 14
    assert row["n"] == 183
    assert row["ci_method"] == "t"


def test_mean_without_fpc() -> None:
    design = SurveyDesign(api(), weights="pw", psu="dnum")
    assert_close(design.mean("api00")["se"].iloc[0], 23.7790107209)


def test_total_enroll(design_a: SurveyDesign) -> None:
    row = design_a.total("enroll").iloc[0]
    assert_close(row["estimate"], 3404940.13)
    assert_close(row["se"], 932235.03)


def test_ratio(design_a: SurveyDesign) -> None:
    row = design_a.ratio("api.stu", "enroll").iloc[0]
    assert_close(row["estimate"], 0.8497087417)
    assert_close(row["se"], 0.008386297169)


def test_mean_by_stype(design_a: SurveyDesign) -> None:
    table = design_a.mean("api00", by="stype").set_index("stype")
    expected = {"E": (648.8680556, 22.36240889), "H": (618.5714286, 38.02024936), "M": (631.44, 31.60946523)}
    assert list(table.index) == ["E", "H", "M"]
    for level, (m, se) in expected.items():
        assert_close(table.loc[level, "estimate"], m, what=f"{level} mean")
        assert_close(table.loc[level, "se"], se, what=f"{level} se")


def test_proportion_stype_e(design_a: SurveyDesign) -> None:
    logit = design_a.mean("is_e").iloc[0]
    assert_close(logit["estimate"], 0.7868852459)
    assert_close(logit["se"] ** 2, 0.00214707620415)
    assert_close(logit["n_eff"], 78.1047525746)
    assert_close(float(effective_sample_size(logit["estimate"], logit["se"])), 78.1047525746)
    assert logit["ci_method"] == "logit"
    assert_close(logit["ci_low"], 0.6712011344)
    assert_close(logit["ci_high"], 0.8697647876)
    beta = design_a.mean("is_e", ci="beta").iloc[0]
    assert_close(beta["ci_low"], 0.6687850808)
    assert_close(beta["ci_high"], 0.8780530637)
    wald = design_a.mean("is_e", ci="wald").iloc[0]
    assert_close(wald["ci_low"], 0.6875032225)
    assert_close(wald["ci_high"], 0.8862672693)
    # the categorical form gives the same numbers for level E
    cat = design_a.proportion("stype").set_index("level").loc["E"]
    assert_close(cat["estimate"], 0.7868852459)
    assert_close(cat["ci_low"], 0.6712011344)


def test_proportion_sch_wide(design_a: SurveyDesign) -> None:
    logit = design_a.proportion("sch.wide", levels=["Yes"]).iloc[0]
    assert_close(logit["estimate"], 0.8743169399)
    assert_close(logit["ci_low"], 0.8237988924)
    assert_close(logit["ci_high"], 0.9119000770)
    beta = design_a.mean("yes", ci="beta").iloc[0]
    assert_close(beta["ci_low"], 0.8237022108)
    assert_close(beta["ci_high"], 0.9147044921)


def test_poststratified(design_a: SurveyDesign) -> None:
    ps = design_a.poststratify("stype", POP_STYPE)
    row = ps.mean("api00").iloc[0]
    assert_close(row["estimate"], 642.31079, rtol=1e-6)
    assert_close(row["se"], 23.92049, rtol=1e-6)
    assert "post-stratification" in row["variance_method"]
    # the weights meet the cell totals
    sums = ps.data.assign(w=ps.weights).groupby("stype")["w"].sum()
    for level, total in POP_STYPE.items():
        assert_close(sums[level], total)


def test_raked(design_a: SurveyDesign) -> None:
    raked = design_a.rake({"stype": POP_STYPE, "sch.wide": POP_SCH})
    row = raked.mean("api00").iloc[0]
    assert_close(row["estimate"], 641.2303209)
    assert_close(row["se"], 23.7036168879)
    assert "raking" in row["variance_method"]
    cells = raked.data.assign(w=raked.weights).groupby(["stype", "sch.wide"])["w"]
    assert (cells.max() - cells.min()).max() < 1e-9  # one weight per cell (all pw are equal)
    expected = {
        ("E", "No"): 39.8392362469,
        ("E", "Yes"): 29.8706754926,
        ("H", "No"): 67.1255292413,
        ("H", "Yes"): 50.3294011162,
        ("M", "No"): 49.0690721641,
        ("M", "Yes"): 36.7910248644,
    }
    means = cells.mean()
    for key, value in expected.items():
        assert_close(means[key], value, what=str(key))
    record = raked.calibration[-1]
    assert record.converged and record.max_margin_error < 1e-6
    assert record.after.weighting_effect > record.before.weighting_effect == pytest.approx(1.0)


def test_raking_variance_is_not_the_uncalibrated_one(design_a: SurveyDesign) -> None:
    """Ignoring the calibration (samplics' way) gives a different SE: the adjustment must be applied."""
    raked = design_a.rake({"stype": POP_STYPE, "sch.wide": POP_SCH})
    naive = SurveyDesign(raked.data.assign(w=raked.weights), weights="w", psu="dnum", fpc="fpc")
    assert abs(naive.mean("api00")["se"].iloc[0] - 23.7036168879) > 0.05


def test_jk1() -> None:
    design = SurveyDesign(api(), weights="pw", psu="dnum")
    assert_close(design.jk1().mean("api00")["se"].iloc[0], 26.5941613577)
    assert_close(design.jk1(mse=True).mean("api00")["se"].iloc[0], 26.5997137221)
    assert design.jk1().n_replicates == 15


def test_domain_estimates_use_the_full_design(design_a: SurveyDesign) -> None:
    """Subsetting the data and treating it as the design gives a different (wrong) SE for domain H."""
    sub = api()[api()["stype"] == "H"]
    wrong = SurveyDesign(sub, weights="pw", psu="dnum", fpc="fpc", lonely_psu="certainty").mean("api00")
    assert not np.isclose(wrong["se"].iloc[0], 38.02024936, rtol=1e-3)
