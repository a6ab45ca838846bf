"""Property tests (hypothesis): invariances every design-based estimator must have."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import SurveyDesign

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def surveys(draw: st.DrawFn) -> pd.DataFrame:
    """Small stratified cluster samples: 2–3 strata, 2–4 PSUs each, 1–5 rows per PSU."""
    psu_sizes = [draw(st.lists(st.integers(1, 5), min_size=2, max_size=4)) for _ in range(draw(st.integers(2, 3)))]
    stratum = [f"s{h}" for h, sizes in enumerate(psu_sizes) for j, k in enumerate(sizes) for _ in range(k)]
    psu = [f"p{h}_{j}" for h, sizes in enumerate(psu_sizes) for j, k in enumerate(sizes) for _ in range(k)]
    n = len(stratum)
    data = pd.DataFrame(
        {
            "stratum": stratum,
            "psu": psu,
            "w": draw(st.lists(st.floats(0.5, 20), min_size=n, max_size=n)),
            "y": draw(st.lists(st.floats(-10, 10, width=32), min_size=n, max_size=n)),
            "sat": draw(st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=n, max_size=n)),
            "sex": draw(st.lists(st.sampled_from(["F", "M"]), min_size=n, max_size=n)),
            "area": draw(st.lists(st.sampled_from(["u", "r"]), min_size=n, max_size=n)),
        }
    )
    # every sex × area cell occurs, so that any pair of margins can be met by raking
    start = draw(st.integers(0, n - 4))
    data.loc[start : start + 3, ["sex", "area"]] = [["F", "u"], ["F", "r"], ["M", "u"], ["M", "r"]]
    return data


def design(data: pd.DataFrame, weights: str = "w") -> SurveyDesign:
    return SurveyDesign(data, weights=weights, strata="stratum", psu="psu")


@SETTINGS
@given(surveys(), st.floats(0.01, 1000))
def test_scaling_weights_leaves_means_and_ses_unchanged(data: pd.DataFrame, factor: float) -> None:
    base = design(data).mean(["y", "sat"], by="sex")
    scaled = design(data.assign(w2=data["w"] * factor), weights="w2").mean(["y", "sat"], by="sex")
    np.testing.assert_allclose(scaled["estimate"], base["estimate"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(scaled["se"], base["se"], rtol=1e-7, atol=1e-10)


@SETTINGS
@given(surveys())
def test_a_domain_covering_every_row_equals_the_full_estimate(data: pd.DataFrame) -> None:
    full = design(data).mean(["y", "sat"])
    one = design(data.assign(everyone="all")).mean(["y", "sat"], by="everyone")
    np.testing.assert_allclose(one["estimate"], full["estimate"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(one["se"], full["se"], rtol=1e-9, atol=1e-12)


@SETTINGS
@given(surveys())
def test_domain_estimates_are_invariant_to_row_order(data: pd.DataFrame) -> None:
    before = design(data).mean(["y", "sat"], by=["sex", "area"])
    shuffled = data.sample(frac=1.0, random_state=7).reset_index(drop=True)
    after = design(shuffled).mean(["y", "sat"], by=["sex", "area"])
    pd.testing.assert_frame_equal(before[["sex", "area", "variable", "n"]], after[["sex", "area", "variable", "n"]])
    np.testing.assert_allclose(after["estimate"], before["estimate"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(after["se"], before["se"], rtol=1e-8, atol=1e-12)


@SETTINGS
@given(surveys(), st.floats(100, 10_000), st.floats(0.1, 0.9), st.floats(0.1, 0.9))
def test_raking_reproduces_its_margins(data: pd.DataFrame, total: float, p_f: float, p_u: float) -> None:
    margins = {"sex": {"F": total * p_f, "M": total * (1 - p_f)}, "area": {"u": total * p_u, "r": total * (1 - p_u)}}
    raked = design(data).rake(margins, max_iter=2000)
    w = pd.Series(raked.weights)
    for var, targets in margins.items():
        sums = w.groupby(data[var].to_numpy()).sum()
        for level, target in targets.items():
            assert abs(sums[level] - target) <= 1e-8 * total
    assert abs(w.sum() - total) <= 1e-8 * total


@SETTINGS
@given(surveys())
def test_domain_ses_are_the_same_in_one_pass_or_one_domain_at_a_time(data: pd.DataFrame) -> None:
    """The vectorised pass equals estimating each domain alone (other rows kept, outcome set to missing)."""
    des = design(data)
    joint = des.mean("y", by="sex").set_index("sex")
    for level in joint.index:
        alone = design(data.assign(y=data["y"].where(data["sex"] == level))).mean("y").iloc[0]
        assert np.isclose(alone["estimate"], joint.loc[level, "estimate"], rtol=1e-10, atol=1e-12)
        assert np.isclose(alone["se"], joint.loc[level, "se"], rtol=1e-8, atol=1e-12)
