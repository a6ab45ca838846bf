"""Compare with R survey 4.1.1 on the fixtures of tests/data/r_core/make_core_fixtures.R.

Covers lonely-PSU policies (means, totals, domains), fpc given as sampling fractions, domain totals, ratios and
design effects, missing outcomes (na.rm), domain proportion intervals with domain df, post-stratified and raked
designs with unequal weights (domains included), post-stratification followed by raking, trimming after raking,
JKn (with raking re-run in every replicate, and with a single-PSU stratum under each policy), JK1 with post-stratification, an unclustered stratified design, and
SIPAS-style indices of items with different non-missing denominators (R: svycontrast on the vector of totals),
overall, in a domain and after raking.
Every row of the fixture file must be checked. Each comparison runs twice: with dense PSU × domain totals and with
the sparse (PSU, domain)-pair algorithm used for large designs.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import pandas as pd
import pytest

import analysis.variance as variance_module
from analysis import SurveyDesign, sipas_index

from ._helpers import DATA_DIR, POP_SCH, POP_STYPE, api, close

BOTH = {"stype": POP_STYPE, "sch.wide": POP_SCH}


@cache
def fixtures() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "r_core" / "core_fixtures.csv", keep_default_na=False)


def by_rows(table: pd.DataFrame, key: str) -> Iterator[tuple[str, str, float]]:
    for _, row in table.iterrows():
        yield "estimate", str(row[key]), float(row["estimate"])
        yield "se", str(row[key]), float(row["se"])


def ours() -> Iterator[tuple[str, str, str, float]]:
    """(case, quantity, domain, value) for every fixture row, computed by the library."""
    d = api()
    for lp in ("remove", "adjust", "average", "certainty"):
        des = SurveyDesign(d, weights="pw", strata="st", psu="dnum", lonely_psu=lp)
        yield f"lonely_{lp}", "mean_api00_se", "", des.mean("api00")["se"].iloc[0]
        yield f"lonely_{lp}", "total_enroll_se", "", des.total("enroll")["se"].iloc[0]
        for q, dom, v in by_rows(des.mean("api00", by="big"), "big"):
            yield f"lonely_{lp}_by_big", q, dom, v
    des2 = SurveyDesign(d, weights="pw", strata="st2", psu="dnum", fpc="frac")
    m = des2.mean("api00").iloc[0]
    yield "strat_frac", "mean_api00", "", m["estimate"]
    yield "strat_frac", "mean_api00_se", "", m["se"]
    yield "strat_frac", "deff", "", m["deff"]
    b = des2.mean("api00", by="stype")
    for q, dom, v in by_rows(b, "stype"):
        yield "strat_frac_by_stype", q, dom, v
    for _, row in b.iterrows():
        yield "strat_frac_by_stype", "deff", row["stype"], row["deff"]
    for q, dom, v in by_rows(des2.total("enroll", by="big"), "big"):
        yield "strat_frac_total_by_big", q, dom, v
    for q, dom, v in by_rows(des2.ratio("api.stu", "enroll", by="big"), "big"):
        yield "strat_frac_ratio_by_big", q, dom, v
    des_a = SurveyDesign(d, weights="pw", psu="dnum", fpc="fpc")
    m = des_a.mean("api_na").iloc[0]
    yield "missing", "mean", "", m["estimate"]
    yield "missing", "se", "", m["se"]
    for q, dom, v in by_rows(des_a.mean("api_na", by="stype"), "stype"):
        yield "missing_by_stype", q, dom, v
    for method in ("logit", "beta"):
        for _, row in des_a.mean("yes", by="big", ci=method, df="domain").iterrows():
            yield f"ciprop_{method}_by_big", "ci_low", row["big"], row["ci_low"]
            yield f"ciprop_{method}_by_big", "ci_high", row["big"], row["ci_high"]
    for q, dom, v in by_rows(des_a.poststratify("stype", POP_STYPE).mean("api00", by="big"), "big"):
        yield "post_by_big", q, dom, v
    des_u = SurveyDesign(d, weights="pw2", psu="dnum", fpc="fpc")
    raked = des_u.rake(BOTH)
    m = raked.mean("api00").iloc[0]
    yield "rake_pw2", "mean_api00", "", m["estimate"]
    yield "rake_pw2", "mean_api00_se", "", m["se"]
    for q, dom, v in by_rows(raked.mean("api00", by="big"), "big"):
        yield "rake_pw2_by_big", q, dom, v
    yield "rake_pw2", "total_enroll_se", "", raked.total("enroll")["se"].iloc[0]
    post_rake = des_u.poststratify("big", {"N": 3000, "Y": 3194}).rake(BOTH)
    yield "post_then_rake", "mean_api00_se", "", post_rake.mean("api00")["se"].iloc[0]
    trimmed = raked.trim(upper=60, redistribute="equal")
    w = trimmed.weights
    yield "trim_after_rake", "weight_sum", "", w.sum()
    yield "trim_after_rake", "weight_max", "", w.max()
    yield "trim_after_rake", "weight_first", "", w[0]
    yield "trim_after_rake", "weight_min", "", w.min()
    yield "trim_after_rake", "mean_api00_se", "", trimmed.mean("api00")["se"].iloc[0]
    rep_n = des2.jkn()
    yield "jkn", "mean_api00_se", "", rep_n.mean("api00")["se"].iloc[0]
    for q, dom, v in by_rows(rep_n.mean("api00", by="stype"), "stype"):
        yield "jkn_by_stype", q, dom, v
    rep_rake = SurveyDesign(d, weights="pw2", strata="st2", psu="dnum").jkn().rake(BOTH)
    yield "jkn_rake", "mean_api00_se", "", rep_rake.mean("api00")["se"].iloc[0]
    rep_post = SurveyDesign(d, weights="pw", psu="dnum").jk1().poststratify("stype", POP_STYPE)
    yield "jk1_post", "mean_api00_se", "", rep_post.mean("api00")["se"].iloc[0]
    for lp in ("remove", "adjust", "average", "certainty"):
        rep_l = SurveyDesign(d, weights="pw", strata="st", psu="dnum", lonely_psu=lp).jkn()
        yield f"jkn_lonely_{lp}", "mean_api00_se", "", rep_l.mean("api00")["se"].iloc[0]
        for q, dom, v in by_rows(rep_l.mean("api00", by="big"), "big"):
            yield f"jkn_lonely_{lp}_by_big", q, dom, v
    des8 = SurveyDesign(d, weights="pw", strata="stype", fpc="Nh")
    yield "unclustered", "mean_api00_se", "", des8.mean("api00")["se"].iloc[0]
    for q, dom, v in by_rows(des8.mean("api00", by="big"), "big"):
        yield "unclustered_by_big", q, dom, v
    elements = {"E1": ["i1", "i2"], "E2": ["i3"]}
    for case, table in (
        ("sipas", sipas_index(des_a, elements, recode=False, scale=1.0)),
        ("sipas_raked", sipas_index(des_u.rake(BOTH), elements, recode=False, scale=1.0)),
        ("sipas_domain_E", sipas_index(des_a, elements, by="stype", recode=False, scale=1.0).query("stype == 'E'")),
    ):
        rows = table.set_index("variable")
        yield case, "E1_estimate", "", rows.loc["E1", "estimate"]
        yield case, "E1_se", "", rows.loc["E1", "se"]
        yield case, "index_estimate", "", rows.loc["SIPAS", "estimate"]
        yield case, "index_se", "", rows.loc["SIPAS", "se"]


@pytest.mark.parametrize("algorithm", ["dense", "blocked", "pairs"])
def test_every_fixture_row_matches_r(algorithm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if algorithm == "pairs":
        monkeypatch.setattr(variance_module, "_DENSE_CELLS", 0)
    elif algorithm == "blocked":
        # apiclus1's 15 PSUs: calibrated PSU × domain totals of several domains are formed one domain column at a time
        monkeypatch.setattr(variance_module, "_DENSE_CELLS", 15)
    ref = fixtures()
    computed = {(c, q, dom): v for c, q, dom, v in ours()}
    expected = {(r.case, r.quantity, str(r.domain)): float(r.value) for r in ref.itertuples()}
    assert set(computed) == set(expected), set(computed) ^ set(expected)
    failures = [
        f"{key}: ours {computed[key]!r} R {value!r}"
        for key, value in expected.items()
        if not close(computed[key], value)
    ]
    assert not failures, "\n".join(failures)
