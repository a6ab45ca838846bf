"""Survey weights: design weights, nonresponse adjustment, post-stratification, raking, trimming, diagnostics.

The engines (:func:`ipf`, :func:`poststratify_matrix`, :func:`trim_matrix`) work on a matrix of weights with one
column per replicate, so the same code calibrates the full-sample weights and, inside a replicate design, every
replicate (calibration re-run in each replicate, as R's ``rake``/``postStratify`` on a ``svyrep.design``).

References: Deville & Särndal (1992); Deming & Stephan (1940) for raking; Kish (1965) for the weighting effect;
R survey ``postStratify``, ``rake``, ``trimWeights``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from .errors import CalibrationError, DesignError
from .grouping import group_codes
from .margins import Margin

__all__ = [
    "TrimResult",
    "TrimRule",
    "WeightSummary",
    "design_weights",
    "ipf",
    "kish_weighting_effect",
    "nonresponse_adjustment",
    "poststratify_matrix",
    "trim_matrix",
    "trim_weights",
    "weight_summary",
    "weights_column",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

Redistribution = Literal["proportional", "equal"]


@dataclass(frozen=True)
class WeightSummary:
    """Distribution of a set of weights.

    Attributes
    ----------
    n, total, minimum, maximum, ratio : int, float, float, float, float
        Count, sum, range and max/min ratio of the weights.
    weighting_effect : float
        Kish's weighting effect :math:`1 + CV^2(w) = n\\sum w^2/(\\sum w)^2`.
    effective_n : float
        :math:`n / (1 + CV^2(w)) = (\\sum w)^2/\\sum w^2`.
    """

    n: int
    total: float
    minimum: float
    maximum: float
    ratio: float
    weighting_effect: float
    effective_n: float


def kish_weighting_effect(weights: ArrayLike) -> float:
    """Kish's (1965) weighting effect :math:`1 + CV^2(w) = n \\sum w^2 / (\\sum w)^2` (CV with divisor n)."""
    w = np.asarray(weights, dtype=np.float64)
    return float(len(w) * np.sum(w * w) / np.sum(w) ** 2)


def weight_summary(weights: ArrayLike) -> WeightSummary:
    """Summary of weights for a weighting report (range, Kish weighting effect, effective n)."""
    w = np.asarray(weights, dtype=np.float64)
    deff_w = kish_weighting_effect(w)
    lo, hi = float(w.min()), float(w.max())
    return WeightSummary(
        n=len(w),
        total=float(w.sum()),
        minimum=lo,
        maximum=hi,
        ratio=hi / lo if lo > 0 else float("inf"),
        weighting_effect=deff_w,
        effective_n=len(w) / deff_w,
    )


def design_weights(*stage_probabilities: ArrayLike) -> FloatArray:
    """Design weights :math:`d_i = 1/\\pi_i` with :math:`\\pi_i` the product of the stage-wise probabilities.

    Parameters
    ----------
    *stage_probabilities : array_like
        Inclusion probability of each unit at each stage (e.g. PPS probability of the village, then
        ``m/M`` of the adult within the village). Certainty units have probability 1 at that stage.

    Raises
    ------
    DesignError
        A probability outside (0, 1] or missing.
    """
    if not stage_probabilities:
        raise DesignError("design_weights needs at least one stage's inclusion probabilities")
    pi = np.ones_like(np.asarray(stage_probabilities[0], dtype=np.float64))
    for k, p in enumerate(stage_probabilities, start=1):
        arr = np.asarray(p, dtype=np.float64)
        if not np.all((arr > 0) & (arr <= 1)):
            raise DesignError(f"stage {k} inclusion probabilities must lie in (0, 1]")
        pi = pi * arr
    out: FloatArray = 1.0 / pi
    return out


def nonresponse_adjustment(
    data: pd.DataFrame, weights: str, responded: str, classes: str | Sequence[str]
) -> FloatArray:
    """Weighting-class nonresponse adjustment.

    :math:`w_i = d_i \\sum_{c} d / \\sum_{c,\\,resp} d` for respondents of class ``c``; nonrespondents get 0.

    Parameters
    ----------
    data : DataFrame
        Respondents and nonrespondents.
    weights : str
        Column of design weights ``d``.
    responded : str
        Boolean (or 0/1) column, true for respondents.
    classes : str or sequence of str
        Column(s) defining the adjustment classes.

    Raises
    ------
    CalibrationError
        A class without respondents (its weight cannot be carried by anyone), or a missing class key.
    """
    d = np.asarray(data[weights], dtype=np.float64)
    resp = np.asarray(data[responded]).astype(bool)
    cols = [classes] if isinstance(classes, str) else list(classes)
    grouping = group_codes(data, cols)
    if (grouping.codes < 0).any():
        raise CalibrationError(f"nonresponse classes {cols} have missing values")
    k = grouping.n_groups
    all_sum = np.bincount(grouping.codes, weights=d, minlength=k)
    resp_sum = np.bincount(grouping.codes, weights=d * resp, minlength=k)
    empty = np.flatnonzero((resp_sum <= 0) & (all_sum > 0))
    if len(empty):
        key = grouping.keys.iloc[int(empty[0])].to_dict()
        raise CalibrationError(f"nonresponse class {key} has no respondents")
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(resp_sum > 0, all_sum / resp_sum, 0.0)
    out: FloatArray = np.where(resp, d * factor[grouping.codes], 0.0)
    return out


class _LevelSums:
    """Level × column sums of weight matrices for one fixed coding of the rows."""

    def __init__(self, codes: IntArray, n_levels: int) -> None:
        self.codes = codes
        self.n_levels = n_levels
        self._indicator: sp.csr_matrix | None = None

    def __call__(self, w: FloatArray) -> FloatArray:
        if w.shape[1] == 1:
            out1: FloatArray = np.asarray(
                np.bincount(self.codes, weights=w[:, 0], minlength=self.n_levels)[:, None], dtype=np.float64
            )
            return out1
        if self._indicator is None:
            n = len(self.codes)
            self._indicator = sp.csr_matrix(
                (np.ones(n), (self.codes, np.arange(n))), shape=(self.n_levels, n), dtype=np.float64
            )
        out: FloatArray = np.asarray(self._indicator @ w)
        return out


def _check_consistent(margins: Sequence[Margin], tol: float) -> None:
    ref = margins[0]
    for m in margins[1:]:
        if abs(m.total - ref.total) > tol * max(ref.total, 1.0):
            raise CalibrationError(
                f"inconsistent margin totals: {ref.name!r} sums to {ref.total:.10g} but {m.name!r} sums to "
                f"{m.total:.10g}; raking cannot meet both"
            )


@dataclass(frozen=True)
class IPFFit:
    """Raw output of :func:`ipf` (weights matrix, iterations, per-column convergence)."""

    weights: FloatArray
    iterations: int
    converged: NDArray[np.bool_]
    max_error: FloatArray
    last_sweep: tuple[FloatArray, ...]


def ipf(
    codes: Sequence[IntArray],
    margins: Sequence[Margin],
    weights: FloatArray,
    *,
    tol: float = 1e-10,
    max_iter: int = 200,
    keep_last_sweep: bool = False,
) -> IPFFit:
    """Iterative proportional fitting (raking) of one or many weight columns.

    Each sweep post-stratifies to every margin in turn, :math:`w_i \\leftarrow w_i N_{m,\\ell}/\\sum_{k\\in\\ell} w_k`
    (Deming & Stephan 1940; R ``rake``). Stops when :math:`\\max_{m,\\ell}|\\sum w - N_{m,\\ell}| \\le tol \\cdot N`
    after a sweep (``N`` the population total) for every column, or after ``max_iter`` sweeps.

    Parameters
    ----------
    codes : sequence of ndarray
        Level index of each row, per margin (see :meth:`Margin.codes`).
    margins : sequence of Margin
        Targets.
    weights : ndarray, shape (n,) or (n, r)
        Starting weights (one column per replicate).
    tol : float
        Relative tolerance on the margins.
    max_iter : int
        Maximum number of sweeps.
    keep_last_sweep : bool
        Keep the weights after each margin's step in the last sweep (R's ``attr(, "weights")`` used by
        ``svyrecvar``); only for a single column.
    """
    w = np.array(weights, dtype=np.float64, copy=True)
    if w.ndim == 1:
        w = w[:, None]
    _check_consistent(margins, tol)
    total = margins[0].total
    targets = [m.totals[:, None] for m in margins]
    summers = [_LevelSums(c, len(m.levels)) for c, m in zip(codes, margins, strict=True)]
    last: list[FloatArray] = []
    err = np.full(w.shape[1], np.inf)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        last = []
        for c, summer, t in zip(codes, summers, targets, strict=True):
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(t > 0, t / summer(w), 0.0)
            w *= factor[c]
            if keep_last_sweep:
                last.append(w[:, 0].copy())
        err = np.zeros(w.shape[1])
        for summer, t in zip(summers, targets, strict=True):
            err = np.maximum(err, np.max(np.abs(summer(w) - t), axis=0))
        if np.all(err <= tol * max(total, 1.0)):
            break
    return IPFFit(w, it, err <= tol * max(total, 1.0), err, tuple(last))


def poststratify_matrix(codes: IntArray, margin: Margin, weights: FloatArray) -> FloatArray:
    """Post-stratify weight columns: :math:`w_i N_g / \\sum_{k \\in g} w_k` (R ``postStratify``)."""
    w = np.asarray(weights, dtype=np.float64)
    w2 = w[:, None] if w.ndim == 1 else w
    sums = _LevelSums(codes, len(margin.levels))(w2)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(margin.totals[:, None] > 0, margin.totals[:, None] / sums, 0.0)
    out: FloatArray = w2 * factor[codes]
    return out[:, 0] if w.ndim == 1 else out


@dataclass(frozen=True)
class TrimRule:
    """Upper (and optional lower) bound for weights: ``upper`` absolute, or ``k`` times the median weight."""

    upper: float | None = None
    k: float | None = None
    lower: float | None = None
    redistribute: Redistribution = "proportional"
    max_iter: int = 50

    def __post_init__(self) -> None:
        if (self.upper is None) == (self.k is None):
            raise CalibrationError("trimming needs exactly one of upper= (a cap) or k= (k × median weight)")
        if self.redistribute not in ("proportional", "equal"):
            raise CalibrationError(f"redistribute must be 'proportional' or 'equal', not {self.redistribute!r}")

    def caps(self, w: FloatArray) -> FloatArray:
        """Upper cap per column (the k × median rule uses the positive weights of that column)."""
        if self.upper is not None:
            return np.full(w.shape[1], float(self.upper))
        assert self.k is not None
        med = np.array([np.median(col[col > 0]) if np.any(col > 0) else np.nan for col in w.T])
        out: FloatArray = self.k * med
        return out


def trim_matrix(w_in: FloatArray, rule: TrimRule) -> tuple[FloatArray, int]:
    """Cap weights at the rule's bounds and give the excess to the untrimmed units, iterating (total kept).

    Units that reach a bound stay there; the others are rescaled (``redistribute="proportional"``) or shifted by
    a common amount (``"equal"``, the fixed point of R's ``trimWeights(strict=TRUE)``) so that each column keeps
    its total; rounds repeat until no free unit crosses a bound.
    """
    w = np.array(w_in, dtype=np.float64, copy=True)
    squeeze = w.ndim == 1
    if squeeze:
        w = w[:, None]
    upper = rule.caps(w)[None, :]
    lower = -np.inf if rule.lower is None else float(rule.lower)
    total = w.sum(axis=0)
    at_upper = np.zeros(w.shape, dtype=bool)
    at_lower = np.zeros(w.shape, dtype=bool)
    rounds = 0
    for _ in range(rule.max_iter):
        new_up = ~at_upper & (w > upper * (1 + 1e-12))
        new_low = ~at_lower & (w < lower) & ~new_up
        if not (new_up.any() or new_low.any()):
            break
        rounds += 1
        at_upper |= new_up
        at_lower |= new_low
        fixed_w = np.where(at_upper, upper, np.where(at_lower, lower, 0.0))
        free = ~(at_upper | at_lower) & (w > 0)
        remaining = total - fixed_w.sum(axis=0)
        free_sum = np.where(free, w, 0.0).sum(axis=0)
        if rule.redistribute == "equal":
            add = (remaining - free_sum) / np.maximum(free.sum(axis=0), 1)
            w = np.where(free, w + add[None, :], np.where(at_upper | at_lower, fixed_w, w))
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(free_sum > 0, remaining / free_sum, 1.0)
            w = np.where(free, w * factor[None, :], np.where(at_upper | at_lower, fixed_w, w))
    return (w[:, 0] if squeeze else w), rounds


def weights_column(data: pd.DataFrame, weights: str) -> FloatArray:
    """The weight column as floats; raise :class:`DesignError` if absent, non-numeric, missing or negative."""
    if weights not in data.columns:
        raise DesignError(f"weight column {weights!r} not found in the data")
    raw = data[weights]
    w = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(w)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DesignError(f"weight column {weights!r} must be numeric and finite; row {i} has {raw.iloc[i]!r}")
    if np.any(w < 0):
        i = int(np.flatnonzero(w < 0)[0])
        raise DesignError(f"weight column {weights!r} must be >= 0; row {i} has {w[i]:g}")
    return w


@dataclass(frozen=True)
class TrimResult:
    """Trimmed weights with diagnostics (iterations, number trimmed, weighting effect before and after)."""

    weights: FloatArray
    cap: float
    iterations: int
    n_trimmed: int
    before: WeightSummary
    after: WeightSummary


def trim_weights(
    weights: ArrayLike,
    *,
    upper: float | None = None,
    k: float | None = None,
    lower: float | None = None,
    redistribute: Redistribution = "proportional",
    max_iter: int = 50,
) -> TrimResult:
    """Trim weights at a cap and redistribute the excess so that the total is kept.

    Parameters
    ----------
    weights : array_like
        Weights to trim.
    upper : float, optional
        Absolute cap ``U``.
    k : float, optional
        Cap at ``k × median(w)`` instead (median of the positive weights).
    lower : float, optional
        Lower bound.
    redistribute : {"proportional", "equal"}
        How the excess is spread over the untrimmed units; ``"equal"`` is R's ``trimWeights(strict=TRUE)``.
    max_iter : int
        Maximum number of cap-and-redistribute rounds.
    """
    rule = TrimRule(upper=upper, k=k, lower=lower, redistribute=redistribute, max_iter=max_iter)
    w0 = np.asarray(weights, dtype=np.float64)
    w, it = trim_matrix(w0, rule)
    cap = float(rule.caps(w0[:, None])[0])
    return TrimResult(
        weights=w,
        cap=cap,
        iterations=it,
        n_trimmed=int(np.sum(w0 > cap * (1 + 1e-12))),
        before=weight_summary(w0),
        after=weight_summary(w),
    )
