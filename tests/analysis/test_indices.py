"""Satisfaction coding, SIPAS indices (covariances between items), PAPI aggregation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign, SurveyError, papi_component_score, papi_dimension, papi_total, satisfied, sipas_index

from ._helpers import api, assert_close


def test_satisfied_coding() -> None:
    values = pd.Series([1, 2, 3, 4, 5, "na", None, "", 6, "4", 4.0], dtype=object)
    out = satisfied(values)
    np.testing.assert_array_equal(out[:5], [0, 0, 0, 1, 1])
    assert np.isnan(out[5:9]).all()
    np.testing.assert_array_equal(out[9:], [1, 1])


def _answers() -> pd.DataFrame:
    """apiclus1 with three 1–5 answers per school (no missing answers)."""
    d = api()
    d["q1"] = 1 + (d["api00"] // 50) % 5
    d["q2"] = 1 + (d["api99"] // 40) % 5
    d["q3"] = np.where(d["sch.wide"] == "Yes", 4, 2)
    return d


def test_element_index_equals_mean_of_row_averages_when_nothing_is_missing() -> None:
    """With complete items the element index is the mean of the per-row average, so its SE must equal that
    mean's SE: this holds only if the covariances between the items enter the variance."""
    d = _answers()
    sat = {q: satisfied(d[q]) for q in ("q1", "q2", "q3")}
    d["avg12"] = (sat["q1"] + sat["q2"]) / 2
    d["avg_all"] = ((sat["q1"] + sat["q2"]) / 2 + sat["q3"]) / 2
    des = SurveyDesign(d, weights="pw", psu="dnum", fpc="fpc")
    table = sipas_index(des, {"A": ["q1", "q2"], "B": ["q3"]}, by="stype", items=True)
    direct = des.mean(["avg12", "avg_all"], by="stype").set_index(["stype", "variable"])
    for stype in ("E", "H", "M"):
        rows = table[table["stype"] == stype].set_index("variable")
        assert_close(rows.loc["A", "estimate"], 100 * direct.loc[(stype, "avg12"), "estimate"])
        assert_close(rows.loc["A", "se"], 100 * direct.loc[(stype, "avg12"), "se"])
        assert_close(rows.loc["SIPAS", "se"], 100 * direct.loc[(stype, "avg_all"), "se"])
        # ignoring covariances would give a different SE
        independent = np.sqrt(rows.loc["q1", "se"] ** 2 + rows.loc["q2", "se"] ** 2) / 2
        assert not np.isclose(independent, rows.loc["A", "se"], rtol=1e-3)
    assert set(table["component"]) == {"item", "element", "index"}


def test_index_is_nan_in_a_domain_without_answers_to_an_item() -> None:
    d = _answers()
    d["q3"] = d["q3"].astype(object)
    d.loc[d["stype"] == "H", "q3"] = "na"
    des = SurveyDesign(d, weights="pw", psu="dnum", fpc="fpc")
    table = sipas_index(des, {"A": ["q1", "q2"], "B": ["q3"]}, by="stype").set_index(["stype", "variable"])
    assert np.isnan(table.loc[("H", "SIPAS"), "estimate"]) and np.isnan(table.loc[("H", "B"), "estimate"])
    assert np.isfinite(table.loc[("H", "A"), "estimate"])
    with pytest.raises(SurveyError, match="0/1"):
        sipas_index(des, {"A": ["q1"]}, recode=False)


def test_papi_hanoi_2023_axis6() -> None:
    assert papi_dimension([1.7029, 1.9570, 2.2548, 1.9339]) == pytest.approx(7.8486, abs=1e-12)
    two = papi_dimension(np.array([[1.7029, 1.9570, 2.2548, 1.9339], [0.25, 0.25, 0.25, 0.25]]))
    np.testing.assert_allclose(two, [7.8486, 1.0])
    with pytest.raises(SurveyError, match=r"\[1/4, 10/4\]"):
        papi_dimension([2.6, 1.0, 1.0, 1.0])
    assert papi_total([7.8486, 5.0]) == pytest.approx(12.8486)
    with pytest.raises(SurveyError):
        papi_total([11.0])


def test_papi_component_scaling() -> None:
    np.testing.assert_allclose(papi_component_score([0.0, 50.0, 100.0], 0.0, 100.0, 4), [0.25, 1.375, 2.5])
