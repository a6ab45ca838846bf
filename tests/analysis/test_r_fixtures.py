"""Compare the design-based estimators with R survey 4.1.1 on fixtures made by tests/data/r/make_fixtures.R.

Every row of tests/data/r/results.csv is checked (a fixture group the test does not know fails), with the
tolerance of methodology.md: |ours - R| <= 1e-8 |R| + 1e-12.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest

from analysis.design import SurveyDesign
from analysis.errors import LonelyPSUError

R_DIR = Path(__file__).resolve().parents[1] / "data" / "r"
RTOL, ATOL = 1e-8, 1e-12
VARS = ["sat", "y"]
DOMAIN = ["commune", "sector"]


@cache
def results() -> pd.DataFrame:
    res = pd.read_csv(R_DIR / "results.csv", dtype=str, keep_default_na=False)
    res["value"] = res["value"].astype(float)
    return res


@cache
def data(name: str = "data.csv") -> pd.DataFrame:
    return pd.read_csv(R_DIR / name, dtype={"commune": str, "sector": str, "stratum": str, "psu_id": str})


def design_a(**kw: Any) -> SurveyDesign:
    return SurveyDesign(data(), weights="w", strata="stratum", psu="psu", fpc="fpc", nest=True, **kw)


def design_nofpc() -> SurveyDesign:
    return SurveyDesign(data(), weights="w", strata="stratum", psu="psu", nest=True)


def targets(fixture: str) -> dict[str, dict[str, float]]:
    t = results().query("fixture == @fixture and quantity == 'target'")
    return {str(var): dict(zip(g["key"], g["value"], strict=True)) for var, g in t.groupby("variable")}


def build(fixture: str, key: str) -> Any:
    """The design R used for a fixture group (``key`` carries the option)."""
    mse = key.endswith("mse=TRUE")
    if fixture == "a_design":
        return design_a()
    if fixture == "a_nofpc":
        return design_nofpc()
    if fixture == "b_rake":
        return design_a().rake(targets("b_rake"))
    if fixture == "b_post":
        return design_a().poststratify("agegrp", targets("b_post")["agegrp"])
    if fixture == "c_lonely":
        return SurveyDesign(
            data("data_lonely.csv"),
            weights="w",
            strata="stratum",
            psu="psu",
            fpc="fpc",
            nest=True,
            lonely_psu=cast(Any, key),
        )
    if fixture == "d_jk1":
        return SurveyDesign(data(), weights="w", psu="psu_id").jk1(mse=mse)
    if fixture == "d_jkn":
        return (design_nofpc() if key.startswith("nofpc") else design_a()).jkn(mse=mse)
    raise KeyError(f"unknown fixture {fixture!r}")


def tidy(table: pd.DataFrame, stats: list[str]) -> pd.DataFrame:
    """Our estimator table in R's long format: variable, stat, commune, sector, value."""
    t = table.copy()
    for col in DOMAIN:
        t[col] = t[col].astype(str) if col in t.columns else ""
    long = t.melt(id_vars=["variable", *DOMAIN], value_vars=stats, var_name="stat", value_name="value")
    return long[["variable", "stat", *DOMAIN, "value"]]


def scalar(value: float, stat: str = "estimate") -> pd.DataFrame:
    return pd.DataFrame({"variable": [""], "stat": [stat], "commune": [""], "sector": [""], "value": [value]})


QUANTITIES: dict[str, Callable[[Any], pd.DataFrame]] = {
    "svymean": lambda d: tidy(d.mean(VARS), ["estimate", "se", "deff"]),
    "svytotal": lambda d: tidy(d.total(VARS), ["estimate", "se", "deff"]),
    "svyratio": lambda d: tidy(d.ratio("y", "x"), ["estimate", "se"]),
    "svyby_mean": lambda d: tidy(d.mean(VARS, by=DOMAIN), ["estimate", "se", "deff"]),
    "svyby_total": lambda d: tidy(d.total(VARS, by=DOMAIN), ["estimate", "se", "deff"]),
    "svyby_mean_sector": lambda d: tidy(d.mean(VARS, by="sector"), ["estimate", "se"]),
    "sum_weights": lambda d: scalar(float(np.sum(d.weights))),
    "degf": lambda d: scalar(float(d.df)),
    "n_replicates": lambda d: scalar(float(d.n_replicates)),
}


def groups() -> list[tuple[str, str, str]]:
    r = results()
    r = r[(r["quantity"] != "target") & (r["stat"] != "error") & (r["quantity"] != "weights")]
    return sorted({(f, q, k) for f, q, k in zip(r["fixture"], r["quantity"], r["key"], strict=True)})


def assert_close(merged: pd.DataFrame, label: str) -> None:
    diff = (merged["ours"] - merged["value"]).abs()
    bound = RTOL * merged["value"].abs() + ATOL
    bad = ~(diff <= bound)
    if bad.any():
        show = merged.loc[bad].assign(diff=diff[bad]).head(12).to_string()
        pytest.fail(
            f"{label}: {int(bad.sum())} of {len(merged)} values differ from R survey beyond 1e-8|R| + 1e-12:\n{show}"
        )


@pytest.mark.parametrize(("fixture", "quantity", "key"), groups(), ids="/".join)
def test_matches_r(fixture: str, quantity: str, key: str) -> None:
    r = results().query("fixture == @fixture and quantity == @quantity and key == @key")
    design = build(fixture, key)
    ours = QUANTITIES[quantity](design).rename(columns={"value": "ours"})
    merged = r.merge(ours, on=["variable", "stat", *DOMAIN], how="left", validate="one_to_one")
    missing = merged["ours"].isna()
    assert not missing.any(), f"no estimate of ours for R rows:\n{merged.loc[missing].head().to_string()}"
    if quantity.startswith("svyby"):
        # svyby drops empty domains; so must we (or give them NaN): no domain of ours that R does not have
        ours_dom = ours.dropna(subset=["ours"])[DOMAIN].drop_duplicates()
        r_dom = r[DOMAIN].drop_duplicates()
        assert len(ours_dom.merge(r_dom, how="left", indicator=True).query("_merge == 'left_only'")) == 0
    assert_close(merged, f"{fixture}/{quantity}/{key}")


@pytest.mark.parametrize("fixture", ["b_rake", "b_post"])
def test_calibrated_weights_match_r(fixture: str) -> None:
    r = results().query("fixture == @fixture and quantity == 'weights'")
    rows = r["key"].astype(int).to_numpy() - 1
    design = build(fixture, "")
    merged = pd.DataFrame({"value": r["value"].to_numpy(), "ours": np.asarray(design.weights)[rows]})
    assert len(r) == len(data())
    assert_close(merged, f"{fixture}/weights")


def test_lonely_psu_fail_raises_like_r() -> None:
    r = results().query("fixture == 'c_lonely' and key == 'fail' and stat == 'error'")
    assert r["value"].tolist() == [1.0]  # R stopped with an error
    with pytest.raises(LonelyPSUError):
        SurveyDesign(
            data("data_lonely.csv"), weights="w", strata="stratum", psu="psu", fpc="fpc", nest=True, lonely_psu="fail"
        ).mean(VARS)


def test_every_fixture_group_is_checked() -> None:
    r = results()
    assert set(r["fixture"]) == {"a_design", "a_nofpc", "b_rake", "b_post", "c_lonely", "d_jk1", "d_jkn"}
    assert {q for _, q, _ in groups()} <= set(QUANTITIES)
    # the domains differ in size and many are missing from some PSUs: the design is not trivial
    d = data()
    cells = d.groupby(["psu_id", *DOMAIN]).size().unstack(DOMAIN, fill_value=0)
    assert (cells == 0).to_numpy().mean() > 0.3
