"""Cross-checks against samplics where samplics is right (Taylor SEs without calibration, domain means).

samplics is wrong after calibration (it ignores it); those cases are checked against R instead.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from analysis import SurveyDesign

from ._helpers import api


def _samplics(param: str, **kwargs: Any) -> Any:
    pytest.importorskip("samplics")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics.estimation import TaylorEstimator
        from samplics.utils.types import PopParam

        est = TaylorEstimator(getattr(PopParam, param))
        est.estimate(**kwargs)
    return est


def test_mean_with_and_without_fpc() -> None:
    d = api()
    for fpc, samplics_fpc in ((None, 1.0), ("fpc", 1 - 15 / 757)):
        ours = SurveyDesign(d, weights="pw", psu="dnum", fpc=fpc).mean("api00").iloc[0]
        theirs = _samplics("mean", y=d["api00"], samp_weight=d["pw"], psu=d["dnum"], fpc=samplics_fpc)
        assert np.isclose(ours["estimate"], theirs.point_est, rtol=1e-12)
        assert np.isclose(ours["se"], theirs.stderror, rtol=1e-10)


def test_stratified_domain_means_and_totals() -> None:
    d = api()
    des = SurveyDesign(d, weights="pw", strata="st2", psu="dnum")
    means = des.mean("api00", by="stype").set_index("stype")
    s_mean = _samplics("mean", y=d["api00"], samp_weight=d["pw"], psu=d["dnum"], stratum=d["st2"], domain=d["stype"])
    totals = des.total("enroll", by="stype").set_index("stype")
    s_tot = _samplics("total", y=d["enroll"], samp_weight=d["pw"], psu=d["dnum"], stratum=d["st2"], domain=d["stype"])
    for level in ("E", "H", "M"):
        assert np.isclose(means.loc[level, "estimate"], s_mean.point_est[level], rtol=1e-12)
        assert np.isclose(means.loc[level, "se"], s_mean.stderror[level], rtol=1e-10)
        assert np.isclose(totals.loc[level, "estimate"], s_tot.point_est[level], rtol=1e-12)
        assert np.isclose(totals.loc[level, "se"], s_tot.stderror[level], rtol=1e-10)


def test_unclustered_domain_means() -> None:
    d = api()
    ours = SurveyDesign(d, weights="pw", strata="stype").mean("api00", by="big").set_index("big")
    theirs = _samplics("mean", y=d["api00"], samp_weight=d["pw"], stratum=d["stype"], domain=d["big"])
    for level in ("N", "Y"):
        assert np.isclose(ours.loc[level, "se"], theirs.stderror[level], rtol=1e-10)
