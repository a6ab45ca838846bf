"""Design specification: lonely-PSU policies, nesting, fpc forms, input errors, missing outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import DesignError, EmptyDomainError, LonelyPSUError, SurveyDesign

from ._helpers import api, assert_close


def test_lonely_psu_fail_names_the_stratum() -> None:
    with pytest.raises(LonelyPSUError, match=r"stratum 'L' has only one PSU"):
        SurveyDesign(api(), weights="pw", strata="st", psu="dnum")
    # a census stratum with one PSU is not lonely (R returns 0 for it before checking)
    d = api().assign(N=lambda x: np.where(x["st"] == "L", 1.0, 100.0))
    des = SurveyDesign(d, weights="pw", strata="st", psu="dnum", fpc="N")
    assert np.isfinite(des.mean("api00")["se"].iloc[0])


def test_remove_and_certainty_agree_and_adjust_is_larger() -> None:
    se = {
        lp: SurveyDesign(api(), weights="pw", strata="st", psu="dnum", lonely_psu=lp).mean("api00")["se"].iloc[0]
        for lp in ("remove", "certainty", "adjust", "average")
    }
    assert se["remove"] == se["certainty"] < se["adjust"]
    assert se["average"] > se["remove"]
    with pytest.raises(DesignError, match="lonely_psu"):
        SurveyDesign(api(), weights="pw", lonely_psu="ignore")  # type: ignore[arg-type]


def test_nested_psu_ids() -> None:
    d = api()
    d["local_psu"] = d.groupby("st2")["dnum"].rank(method="dense").astype(int)  # ids repeat across strata
    with pytest.raises(DesignError, match="nest=True"):
        SurveyDesign(d, weights="pw", strata="st2", psu="local_psu")
    nested = SurveyDesign(d, weights="pw", strata="st2", psu="local_psu", nest=True).mean("api00")
    plain = SurveyDesign(d, weights="pw", strata="st2", psu="dnum").mean("api00")
    assert_close(nested["se"].iloc[0], plain["se"].iloc[0])
    assert nested["df"].iloc[0] == 13


def test_fpc_as_fraction_or_population() -> None:
    d = api().assign(f=15 / 757)
    a = SurveyDesign(d, weights="pw", psu="dnum", fpc="f").mean("api00")["se"].iloc[0]
    assert_close(a, 23.5422406938)
    with pytest.raises(DesignError, match="more than 100%"):
        SurveyDesign(d.assign(N=10.0), weights="pw", psu="dnum", fpc="N")
    with pytest.raises(DesignError, match="either population sizes"):
        SurveyDesign(d.assign(N=np.where(d["stype"] == "E", 0.5, 800.0)), weights="pw", psu="dnum", fpc="N")
    with pytest.raises(DesignError, match="varies within stratum"):
        SurveyDesign(d.assign(N=np.where(d["stype"] == "E", 900.0, 800.0)), weights="pw", psu="dnum", fpc="N")


def test_input_errors() -> None:
    d = api()
    with pytest.raises(DesignError, match="'nope' not found"):
        SurveyDesign(d, weights="nope")
    with pytest.raises(DesignError, match="numeric"):
        SurveyDesign(d, weights="stype")
    with pytest.raises(DesignError, match=">= 0"):
        SurveyDesign(d.assign(w=-d["pw"]), weights="w")
    with pytest.raises(DesignError, match="missing values"):
        SurveyDesign(d.assign(p=d["dnum"].where(d["snum"] != d["snum"].iloc[0])), weights="pw", psu="p")
    des = SurveyDesign(d, weights="pw", psu="dnum")
    with pytest.raises(DesignError, match="not numeric"):
        des.mean("stype")
    with pytest.raises(DesignError, match="not found"):
        des.mean("api00", by="nope")
    with pytest.raises(DesignError, match="no rows"):
        SurveyDesign(d.iloc[:0], weights="pw")


def test_empty_domain_is_nan_or_an_error() -> None:
    d = api().assign(y=lambda x: x["api00"].where(x["stype"] != "H"))
    des = SurveyDesign(d, weights="pw", psu="dnum", fpc="fpc")
    out = des.mean("y", by="stype").set_index("stype")
    assert out.loc["H", "n"] == 0 and np.isnan(out.loc["H", "estimate"]) and np.isnan(out.loc["H", "se"])
    with pytest.raises(EmptyDomainError, match=r"'y'.*'H'"):
        des.mean("y", by="stype", on_empty="raise")


def test_rows_with_missing_keys_belong_to_no_domain() -> None:
    d = api().assign(g=lambda x: x["stype"].where(x["stype"] != "M"))
    out = SurveyDesign(d, weights="pw", psu="dnum", fpc="fpc").mean("api00", by="g")
    assert out["g"].tolist() == ["E", "H"]
    assert out["n"].sum() == 158


def test_domain_df_option() -> None:
    des = SurveyDesign(api(), weights="pw", psu="dnum", fpc="fpc")
    out = des.mean("api00", by="stype", df="domain").set_index("stype")
    counts = api().groupby("stype")["dnum"].nunique() - 1
    assert out["df"].to_dict() == counts.astype(float).to_dict()


def test_design_is_immutable() -> None:
    des = SurveyDesign(api(), weights="pw", psu="dnum")
    with pytest.raises(ValueError, match="read-only"):
        des.weights[0] = 1.0
    raked = des.poststratify("stype", {"E": 4421, "H": 755, "M": 1018})
    assert des.steps == () and len(raked.steps) == 1
    assert "post" in repr(raked) or "poststratify" in repr(raked)
    assert isinstance(raked.data, pd.DataFrame)
