"""Satisfaction indices: item coding, SIPAS element and overall indices, PAPI aggregation.

SIPAS (Bộ Nội vụ, Quyết định 1001/QĐ-BNV 2023): the satisfaction rate of an item is the weighted share answering
4 or 5 on the 5-level scale among those who answered it; an element index is the mean of its items' rates; the
overall index is the mean of the element indices. Each index is a linear combination of item ratios
:math:`I = \\sum_k a_k \\hat R_k`, and its variance is computed by linearising the whole vector of ratios
(Woodruff 1971), so that the covariances between items enter; each item keeps its own denominator (respondents
who answered that item).

PAPI (UNDP, CECODES): a dimension (axis) score is the sum of its K sub-dimension scores, each scaled to
[1/K, 10/K]; the total is the sum of the dimension scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .errors import DesignError, SurveyError
from .grouping import group_codes, require_columns
from .ratios import (
    DfMode,
    EstimationDesign,
    RatioTerm,
    estimate_linear,
    numeric_column,
    resolve_by,
    stack_by_domain,
)

__all__ = ["papi_component_score", "papi_dimension", "papi_total", "satisfied", "sipas_index"]

FloatArray = NDArray[np.float64]


def satisfied(
    values: ArrayLike | pd.Series,
    *,
    satisfied_codes: Sequence[int] = (4, 5),
    valid_codes: Sequence[int] = (1, 2, 3, 4, 5),
) -> FloatArray:
    """Code answers on the 5-level scale as satisfied (1: codes 4–5) or not (0: codes 1–3).

    Anything else — ``"na"`` (không áp dụng / không biết), empty, NaN, out-of-range codes — becomes NaN, so it is
    left out of the item's denominator.
    """
    series = pd.Series(np.asarray(values, dtype=object) if not isinstance(values, pd.Series) else values)
    codes = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    valid = np.isin(codes, np.asarray(valid_codes, dtype=np.float64))
    sat = np.isin(codes, np.asarray(satisfied_codes, dtype=np.float64)).astype(np.float64)
    out: FloatArray = np.where(valid, sat, np.nan)
    return out


def _item_values(design: EstimationDesign, column: str, recode: bool) -> FloatArray:
    require_columns(design.data, [column], "item")
    if recode:
        return satisfied(design.data[column])
    values = numeric_column(design.data, column)
    obs = values[~np.isnan(values)]
    if not np.all((obs == 0) | (obs == 1)):
        raise DesignError(f"item {column!r} must be coded 0/1 (or pass recode=True for 1–5 answers)")
    return values


def sipas_index(
    design: EstimationDesign,
    elements: Mapping[str, Sequence[str]],
    by: str | Sequence[str] | None = None,
    *,
    recode: bool = True,
    items: bool = False,
    scale: float = 100.0,
    level: float = 0.95,
    df: DfMode = "design",
    overall: str = "SIPAS",
) -> pd.DataFrame:
    """SIPAS-style element indices and overall index, by domain, with linearised SEs.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        The (calibrated) design.
    elements : mapping of str to sequence of str
        Element name → its item columns.
    by : str or sequence of str, optional
        Domain columns.
    recode : bool, default True
        Item columns hold 1–5 answers (coded with :func:`satisfied`); False: they already hold 0/1/NaN.
    items : bool, default False
        Also report each item's satisfaction rate.
    scale : float, default 100
        Multiply estimates, SEs and interval bounds (100: percentages).
    level : float
        Confidence level (t intervals with the design df).
    df : {"design", "domain"}
        Degrees of freedom of the intervals.
    overall : str
        Label of the overall index.

    Returns
    -------
    DataFrame
        Domain columns, ``component`` ("item", "element", "index"), ``variable`` and the usual estimate columns.

    Notes
    -----
    An element index is :math:`I_e = K_e^{-1}\\sum_{k\\in e}\\hat R_k` with
    :math:`\\hat R_k = \\sum w y_k / \\sum w 1(y_k \\text{ observed})`; the overall index is
    :math:`E^{-1}\\sum_e I_e`. The linearised value of row ``i`` is
    :math:`\\sum_k a_k w_i 1_{ik}(y_{ik} - \\hat R_k)/\\hat N_k`, whose design variance includes all item
    covariances. A domain in which some item has no answer gets NaN for the indices that use that item.
    """
    if not elements:
        raise SurveyError("sipas_index needs at least one element")
    by_cols = resolve_by(by)
    grouping = group_codes(design.data, by_cols)
    values: dict[str, FloatArray] = {}
    for cols in elements.values():
        if not cols:
            raise SurveyError("every element needs at least one item")
        for col in cols:
            if col not in values:
                values[col] = _item_values(design, col, recode)

    def term(col: str, coef: float) -> RatioTerm:
        y = values[col]
        obs = ~np.isnan(y)
        return RatioTerm(coef, np.where(obs, y, 0.0), obs.astype(np.float64), obs)

    frames: list[pd.DataFrame] = []

    def add(component: str, name: str, terms: list[RatioTerm]) -> None:
        frame = estimate_linear(design, terms, grouping, variable=name, interval="t", level=level, df=df)
        frame.insert(len(by_cols), "component", component)
        frames.append(frame)

    if items:
        for col in values:
            add("item", col, [term(col, 1.0)])
    n_el = len(elements)
    overall_terms: list[RatioTerm] = []
    for name, cols in elements.items():
        k = len(cols)
        add("element", name, [term(c, 1.0 / k) for c in cols])
        overall_terms.extend(term(c, 1.0 / (k * n_el)) for c in cols)
    add("index", overall, overall_terms)
    out = stack_by_domain(frames, by_cols)
    for col in ("estimate", "se", "ci_low", "ci_high"):
        out[col] = out[col] * scale
    return out


def papi_component_score(values: ArrayLike, lower: float, upper: float, k: int) -> FloatArray:
    """Scale raw sub-dimension values linearly from ``[lower, upper]`` to PAPI's ``[1/K, 10/K]``."""
    if k < 1 or not upper > lower:
        raise SurveyError("papi_component_score needs k >= 1 and upper > lower")
    v = np.asarray(values, dtype=np.float64)
    out: FloatArray = (1.0 + 9.0 * (v - lower) / (upper - lower)) / k
    return out


def papi_dimension(components: ArrayLike, *, tolerance: float = 5e-5) -> FloatArray | float:
    """PAPI dimension (axis) score: the sum of its K sub-dimension scores, each within ``[1/K, 10/K]``.

    ``components`` has the K scores on its last axis (one axis per province, year, ... before it).
    ``tolerance`` allows for the published 4-decimal rounding. Example (PAPI 2023, Hà Nội, axis 6):
    ``papi_dimension([1.7029, 1.9570, 2.2548, 1.9339])`` is 7.8486.

    Raises
    ------
    SurveyError
        A sub-dimension score outside ``[1/K, 10/K]``.
    """
    c = np.asarray(components, dtype=np.float64)
    k = c.shape[-1]
    if k == 0:
        raise SurveyError("a PAPI dimension needs at least one sub-dimension")
    if np.any(c < 1.0 / k - tolerance) or np.any(c > 10.0 / k + tolerance):
        raise SurveyError(f"PAPI sub-dimension scores must lie in [1/{k}, 10/{k}] = [{1 / k:.4f}, {10 / k:.4f}]")
    total = c.sum(axis=-1)
    return float(total) if np.ndim(total) == 0 else np.asarray(total, dtype=np.float64)


def papi_total(dimensions: ArrayLike, *, tolerance: float = 5e-5) -> FloatArray | float:
    """PAPI total: the sum of the dimension (axis) scores, each within [1, 10] (8 axes: 8–80)."""
    d = np.asarray(dimensions, dtype=np.float64)
    if np.any(d < 1 - tolerance) or np.any(d > 10 + tolerance):
        raise SurveyError("PAPI dimension scores must lie in [1, 10]")
    total = d.sum(axis=-1)
    return float(total) if np.ndim(total) == 0 else np.asarray(total, dtype=np.float64)
