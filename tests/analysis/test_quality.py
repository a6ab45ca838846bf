"""Minimum-n suppression and CV flags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import SurveyDesign, quality_flags

from ._helpers import api


def test_flags_follow_thresholds() -> None:
    table = pd.DataFrame({"n": [10, 50, 50, 50], "cv": [0.1, 0.1, 0.45, np.nan]})
    out = quality_flags(table, min_n=30, max_cv=0.30)
    assert out["suppress"].tolist() == [True, False, False, False]
    assert out["cv_flag"].tolist() == [False, False, True, True]
    assert out["reliability"].tolist() == ["suppress", "ok", "caution", "caution"]
    assert quality_flags(table, min_n=5, max_cv=0.5)["reliability"].tolist() == ["ok", "ok", "ok", "caution"]
    assert "suppress" not in table.columns


def test_flags_on_estimates() -> None:
    des = SurveyDesign(api(), weights="pw", psu="dnum", fpc="fpc")
    out = quality_flags(des.mean("enroll", by="stype"), min_n=20, max_cv=0.30).set_index("stype")
    assert out.loc["H", "suppress"] and out.loc["H", "cv_flag"]  # n = 14, CV 0.32
    assert not out.loc["E", "suppress"] and not out.loc["E", "cv_flag"]
