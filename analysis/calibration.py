"""Calibration steps (raking, post-stratification, trimming) as re-runnable recipes with their diagnostics.

A design keeps the ordered list of steps it was calibrated with, so that a replicate design can re-run them in
every replicate, and the Taylor design records what R's ``svyrecvar`` needs to account for them
(:class:`~analysis.variance.CalibrationAdjustment`). Trimming is treated as R treats ``trimWeights``: the trimmed
weights are taken as fixed in the linearisation variance (a replicate design re-runs the trimming).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .errors import CalibrationError
from .margins import Margin, MarginsLike, parse_margins, poststrata_margin
from .variance import CalibrationAdjustment
from .weighting import (
    TrimRule,
    WeightSummary,
    ipf,
    poststratify_matrix,
    trim_matrix,
    weight_summary,
    weights_column,
)

__all__ = [
    "CalibratedWeights",
    "CalibrationRecord",
    "PostStratifyStep",
    "RakeStep",
    "Step",
    "TrimStep",
    "poststratify_weights",
    "rake_weights",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class CalibrationRecord:
    """Diagnostics of one calibration step of a design.

    Attributes
    ----------
    kind : {"rake", "poststratify", "trim"}
        The step.
    variance_method : str
        How the linearisation variance accounts for it.
    iterations : int
        IPF sweeps (raking) or trimming rounds; 1 for post-stratification.
    converged : bool
        Whether the step met its targets.
    max_margin_error : float
        Largest absolute difference between a calibrated weighted total and its target (0 for trimming).
    before, after : WeightSummary
        Weight range and Kish weighting effect before and after the step.
    margins : DataFrame
        ``variable, level, target, before, after`` (empty for trimming).
    """

    kind: Literal["rake", "poststratify", "trim"]
    variance_method: str
    iterations: int
    converged: bool
    max_margin_error: float
    before: WeightSummary
    after: WeightSummary
    margins: pd.DataFrame = field(repr=False)


def _margin_table(
    margins: Sequence[Margin], codes: Sequence[IntArray], before: FloatArray, after: FloatArray
) -> pd.DataFrame:
    frames = []
    for m, c in zip(margins, codes, strict=True):
        frames.append(
            pd.DataFrame(
                {
                    "variable": m.name,
                    "level": list(m.levels),
                    "target": m.totals,
                    "before": np.bincount(c, weights=before, minlength=len(m.levels)),
                    "after": np.bincount(c, weights=after, minlength=len(m.levels)),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class RakeStep:
    """Raking (IPF) to ``margins`` (R ``rake`` run to convergence)."""

    margins: tuple[Margin, ...]
    tol: float = 1e-10
    max_iter: int = 200

    kind: Literal["rake"] = "rake"

    def codes(self, data: pd.DataFrame, weights: FloatArray | None) -> list[IntArray]:
        """Level codes of every margin, checked against the targets."""
        return [m.codes(data, weights) for m in self.margins]

    def apply(self, codes: Sequence[IntArray], w: FloatArray) -> tuple[FloatArray, BoolArray]:
        """Rake every column of ``w``; the second result says which columns converged."""
        fit = ipf(codes, self.margins, w, tol=self.tol, max_iter=self.max_iter)
        return fit.weights, fit.converged

    def run(self, data: pd.DataFrame, w: FloatArray) -> tuple[FloatArray, CalibrationAdjustment, CalibrationRecord]:
        """Rake the full-sample weights; raise :class:`CalibrationError` if the fit does not converge."""
        codes = self.codes(data, w)
        fit = ipf(codes, self.margins, w, tol=self.tol, max_iter=self.max_iter, keep_last_sweep=True)
        if not fit.converged.all():
            raise CalibrationError(
                f"raking did not converge in {self.max_iter} sweeps "
                f"(largest margin error {float(fit.max_error.max()):.3g}); raise max_iter or tol"
            )
        new_w = fit.weights[:, 0]
        adjustment = CalibrationAdjustment(
            kind="rake",
            codes=tuple(codes),
            n_levels=tuple(len(m.levels) for m in self.margins),
            weights=fit.last_sweep,
        )
        record = CalibrationRecord(
            kind="rake",
            variance_method="raking: R svyrecvar (10 sweeps of unweighted level means of x/w)",
            iterations=fit.iterations,
            converged=True,
            max_margin_error=float(fit.max_error.max()),
            before=weight_summary(w),
            after=weight_summary(new_w),
            margins=_margin_table(self.margins, codes, w, new_w),
        )
        return new_w, adjustment, record


@dataclass(frozen=True)
class PostStratifyStep:
    """Post-stratification to the cells of ``margin`` (R ``postStratify``)."""

    margin: Margin

    kind: Literal["poststratify"] = "poststratify"

    def codes(self, data: pd.DataFrame, weights: FloatArray | None) -> list[IntArray]:
        """Cell codes, checked against the targets."""
        return [self.margin.codes(data, weights)]

    def apply(self, codes: Sequence[IntArray], w: FloatArray) -> tuple[FloatArray, BoolArray]:
        """Post-stratify every column; a column whose cell has no weight left does not calibrate."""
        out = poststratify_matrix(codes[0], self.margin, w)
        sums = np.asarray([np.bincount(codes[0], weights=col, minlength=len(self.margin.levels)) for col in out.T]).T
        ok = np.all(np.abs(sums - self.margin.totals[:, None]) <= 1e-8 * max(self.margin.total, 1.0), axis=0)
        return out, ok

    def run(self, data: pd.DataFrame, w: FloatArray) -> tuple[FloatArray, CalibrationAdjustment, CalibrationRecord]:
        """Post-stratify the full-sample weights."""
        codes = self.codes(data, w)
        new_w = poststratify_matrix(codes[0], self.margin, w)
        adjustment = CalibrationAdjustment(
            kind="poststratify",
            codes=(codes[0],),
            n_levels=(len(self.margin.levels),),
            weights=(new_w,),
            old_weights=w,
        )
        sums = np.bincount(codes[0], weights=new_w, minlength=len(self.margin.levels))
        record = CalibrationRecord(
            kind="poststratify",
            variance_method="post-stratification: R svyrecvar (x minus w × weighted cell mean of x/w)",
            iterations=1,
            converged=True,
            max_margin_error=float(np.max(np.abs(sums - self.margin.totals))),
            before=weight_summary(w),
            after=weight_summary(new_w),
            margins=_margin_table([self.margin], codes, w, new_w),
        )
        return new_w, adjustment, record


@dataclass(frozen=True)
class TrimStep:
    """Weight trimming (cap, redistribute, iterate); weights are then treated as fixed, as R ``trimWeights``."""

    rule: TrimRule

    kind: Literal["trim"] = "trim"

    def codes(self, data: pd.DataFrame, weights: FloatArray | None) -> list[IntArray]:
        """Trimming uses no cell codes."""
        return []

    def apply(self, codes: Sequence[IntArray], w: FloatArray) -> tuple[FloatArray, BoolArray]:
        """Trim every column."""
        out, _ = trim_matrix(w, self.rule)
        return out, np.ones(out.shape[1], dtype=bool)

    def run(self, data: pd.DataFrame, w: FloatArray) -> tuple[FloatArray, None, CalibrationRecord]:
        """Trim the full-sample weights."""
        new_w, rounds = trim_matrix(w, self.rule)
        record = CalibrationRecord(
            kind="trim",
            variance_method="trimming: trimmed weights treated as fixed (R trimWeights)",
            iterations=rounds,
            converged=True,
            max_margin_error=0.0,
            before=weight_summary(w),
            after=weight_summary(new_w),
            margins=pd.DataFrame(columns=["variable", "level", "target", "before", "after"]),
        )
        return new_w, None, record


Step = RakeStep | PostStratifyStep | TrimStep


@dataclass(frozen=True)
class CalibratedWeights:
    """Calibrated weights and the diagnostics of the calibration."""

    weights: FloatArray
    record: CalibrationRecord


def rake_weights(
    data: pd.DataFrame,
    weights: str,
    margins: MarginsLike | Sequence[Margin],
    *,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> CalibratedWeights:
    """Rake weights to population margins by iterative proportional fitting (Deming & Stephan 1940; R ``rake``).

    Parameters
    ----------
    data : DataFrame
        Respondents.
    weights : str
        Column of starting weights.
    margins : DataFrame or mapping
        Targets (see :func:`analysis.margins.parse_margins`); a table has columns ``variable, level, total``.
    tol : float
        Relative tolerance: stop when every margin is within ``tol × N`` (``N`` the population total).
    max_iter : int
        Maximum number of sweeps.

    Raises
    ------
    CalibrationError
        Empty margin level, level without target, inconsistent margin totals, or no convergence.
    """
    w0 = weights_column(data, weights)
    new_w, _, record = RakeStep(parse_margins(margins), tol=tol, max_iter=max_iter).run(data, w0)
    return CalibratedWeights(new_w, record)


def poststratify_weights(
    data: pd.DataFrame, weights: str, cells: str | Sequence[str], totals: pd.DataFrame | Mapping[Any, float]
) -> CalibratedWeights:
    """Post-stratified weights :math:`w_i N_g/\\sum_{k\\in g} w_k` (R ``postStratify``; Holt & Smith 1979)."""
    w0 = weights_column(data, weights)
    new_w, _, record = PostStratifyStep(poststrata_margin(cells, totals)).run(data, w0)
    return CalibratedWeights(new_w, record)
