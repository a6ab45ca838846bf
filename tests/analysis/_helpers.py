"""Shared test helpers for the analysis library: the apiclus1 data and R's comparison rule."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
RTOL = 1e-8
ATOL = 1e-12


@cache
def _api() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "apiclus1.csv", dtype={"cds": str})


def api() -> pd.DataFrame:
    """R survey's apiclus1 with the derived columns used by tests/data/r_core/make_core_fixtures.R."""
    d = _api().copy()
    d["st"] = np.where(d["dnum"] == 637, "L", np.where(d["dnum"] % 2 == 0, "A", "B"))
    d["st2"] = np.where(d["dnum"] % 2 == 0, "A", "B")
    d["big"] = np.where(d["enroll"] > 500, "Y", "N")
    d["pw2"] = d["pw"] * (1 + (d["snum"] % 3) / 4)
    d["api_na"] = np.where(d["snum"] % 7 == 0, np.nan, d["api00"])
    d["yes"] = (d["sch.wide"] == "Yes").astype(float)
    d["is_e"] = (d["stype"] == "E").astype(float)
    d["frac"] = np.where(d["st2"] == "A", 0.02, 0.03)
    d["Nh"] = d["stype"].map({"E": 4421, "H": 755, "M": 1018}).astype(float)
    d["i1"] = np.where(d["snum"] % 5 == 0, np.nan, (d["api00"] > 650).astype(float))
    d["i2"] = np.where(d["snum"] % 4 == 1, np.nan, (d["api99"] > 600).astype(float))
    d["i3"] = (d["sch.wide"] == "Yes").astype(float)
    return d


def close(ours: float, ref: float, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """methodology.md's comparison: |ours − R| <= rtol·|R| + atol."""
    return bool(abs(float(ours) - float(ref)) <= rtol * abs(float(ref)) + atol)


def assert_close(ours: float, ref: float, rtol: float = RTOL, atol: float = ATOL, what: str = "") -> None:
    assert close(ours, ref, rtol, atol), f"{what}: ours {ours!r} vs R {ref!r} (rel {abs(ours - ref) / abs(ref):.3g})"


POP_STYPE = {"E": 4421.0, "H": 755.0, "M": 1018.0}
POP_SCH = {"No": 1072.0, "Yes": 5122.0}
