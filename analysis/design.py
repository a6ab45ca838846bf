"""The survey design object: weights, strata, PSUs, fpc, calibration; estimation with linearisation variance.

Usage::

    from analysis import SurveyDesign

    design = SurveyDesign(data, weights="w", strata="province", psu="village", fpc="n_villages",
                          nest=True, lonely_psu="adjust")
    design.mean(["sat_q1", "sat_q2"], by=["commune", "sector"])       # one row per domain × variable
    raked = design.rake(margins)                                        # new design; SEs account for raking
    raked.mean("sat_q1", by="commune")
    raked.jk1()  /  design.jkn()  /  design.bootstrap(500, seed=1)     # replicate designs (calibration re-run)

A design is immutable: :meth:`SurveyDesign.rake`, :meth:`SurveyDesign.poststratify` and
:meth:`SurveyDesign.trim` return a new design. The variance is R survey 4.1.1's ``svyrecvar`` (ultimate cluster,
first-stage fpc, ``df = #PSU − #strata``), including its treatment of post-stratification and raking.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from . import replicate
from .calibration import CalibrationRecord, PostStratifyStep, RakeStep, Step, TrimStep
from .estimators import DomainEstimators
from .grouping import require_columns
from .layout import LonelyPSU, StratumLayout, build_layout
from .margins import Margin, MarginsLike, parse_margins, poststrata_margin
from .ratios import DfMode, RatioTerm
from .variance import CalibrationAdjustment, domain_degrees_of_freedom, linearization_variance
from .weighting import Redistribution, TrimRule, WeightSummary, weight_summary, weights_column

__all__ = ["SurveyDesign"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

TAYLOR = "Taylor linearisation (ultimate cluster, R svyrecvar)"


class SurveyDesign(DomainEstimators):
    """A one-stage (ultimate cluster) stratified survey design, as R's ``svydesign``.

    Parameters
    ----------
    data : DataFrame
        One row per respondent.
    weights : str
        Column of sampling weights ``1/π`` (numeric, finite, >= 0).
    strata : str, optional
        Column of first-stage strata.
    psu : str, optional
        Column of first-stage sampling units (clusters); absent: every row is a PSU.
    fpc : str, optional
        Column with the population number of PSUs of the stratum, or the sampling fraction (R ``fpc``).
    nest : bool, default False
        PSU ids are unique only within strata (R ``nest = TRUE``).
    lonely_psu : {"fail", "remove", "adjust", "average", "certainty"}, default "fail"
        Treatment of single-PSU strata, exactly as R's ``options(survey.lonely.psu=)``: ``fail`` raises
        :class:`~analysis.errors.LonelyPSUError` naming the stratum (when the design is built); ``remove`` and
        ``certainty`` let the stratum contribute 0; ``adjust`` leaves the lonely PSU's total uncentred, keeping
        its ``1 − f_h`` factor: that is centring at the grand mean of all PSU totals for a mean, proportion or
        ratio (their influence values sum to 0), and for a total it is what R 4.1.1 does (centred at 0, not at
        the grand mean); ``average`` drops lonely strata and multiplies the variance by #strata / #strata with
        more than one PSU (for a domain of an uncalibrated design R counts only strata with members of the
        domain, and so does this library). A stratum sampled exhaustively (fpc) is never lonely.

    Notes
    -----
    Point estimates are Hájek (ratio) means; domains are estimated on the full design. See
    :mod:`analysis.estimators` for the estimators and :mod:`analysis.variance` for the variance.
    """

    _data: pd.DataFrame
    _layout: StratumLayout
    _base_weights: FloatArray
    _weights: FloatArray
    _steps: tuple[Step, ...]
    _adjustments: tuple[CalibrationAdjustment, ...]
    _records: tuple[CalibrationRecord, ...]
    _spec: dict[str, Any]

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        weights: str,
        strata: str | None = None,
        psu: str | None = None,
        fpc: str | None = None,
        nest: bool = False,
        lonely_psu: LonelyPSU = "fail",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise TypeError("data must be a pandas DataFrame")
        require_columns(data, [weights], "weight column")
        w = weights_column(data, weights)
        self._data = data
        self._layout = build_layout(data, strata=strata, psu=psu, fpc=fpc, nest=nest, lonely_psu=lonely_psu)
        self._base_weights = w
        self._weights = w
        self._steps = ()
        self._adjustments = ()
        self._records = ()
        self._spec = {"weights": weights, "strata": strata, "psu": psu, "fpc": fpc, "nest": nest}
        w.setflags(write=False)

    # ------------------------------------------------------------------ properties
    @property
    def data(self) -> pd.DataFrame:
        """The respondents' data."""
        return self._data

    @property
    def weights(self) -> FloatArray:
        """Current (possibly calibrated) weights, read-only."""
        return self._weights

    @property
    def base_weights(self) -> FloatArray:
        """Design weights before any calibration."""
        return self._base_weights

    @property
    def layout(self) -> StratumLayout:
        """Strata, PSUs and fpc."""
        return self._layout

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self._data)

    @property
    def df(self) -> int:
        """Design degrees of freedom, #PSU − #strata (R ``degf``)."""
        return self._layout.df

    @property
    def steps(self) -> tuple[Step, ...]:
        """Calibration steps applied, in order (re-run in every replicate by a replicate design)."""
        return self._steps

    @property
    def calibration(self) -> tuple[CalibrationRecord, ...]:
        """Diagnostics of every calibration step (iterations, max margin error, weight range, weighting effect)."""
        return self._records

    @property
    def variance_method(self) -> str:
        """Name of the variance method, including how calibration is accounted for."""
        parts = [TAYLOR, *(r.variance_method for r in self._records)]
        return "; ".join(parts)

    def __repr__(self) -> str:
        spec = ", ".join(f"{k}={v!r}" for k, v in self._spec.items() if v)
        cal = f", calibrated: {'+'.join(s.kind for s in self._steps)}" if self._steps else ""
        return (
            f"SurveyDesign(n={self.n}, {spec}, strata={self._layout.n_strata}, psu={self._layout.n_psu}, "
            f"df={self.df}, lonely_psu={self._layout.lonely_psu!r}{cal})"
        )

    def weight_summary(self) -> WeightSummary:
        """Range, Kish weighting effect and effective n of the current weights."""
        return weight_summary(self._weights)

    # ------------------------------------------------------------------ estimation backend
    def degrees_of_freedom(self, dom: IntArray, n_dom: int, mode: DfMode) -> FloatArray:
        """Design df for every domain (``mode="design"``) or the domain's own (``"domain"``, R ``svyciprop``)."""
        if mode == "domain":
            return domain_degrees_of_freedom(self._layout, dom, n_dom)
        return np.full(n_dom, float(self.df))

    def domain_variance(
        self, terms: Sequence[RatioTerm], x: FloatArray, dom: IntArray, n_dom: int, estimate: FloatArray
    ) -> FloatArray:
        """Linearisation variance of every domain's estimator from its influence values ``x``."""
        return linearization_variance(self._layout, x, dom, n_dom, self._adjustments)

    # ------------------------------------------------------------------ calibration
    def _with_step(self, step: Step) -> SurveyDesign:
        new_w, adjustment, record = step.run(self._data, self._weights)
        new_w.setflags(write=False)
        out = object.__new__(SurveyDesign)
        out._data = self._data
        out._layout = self._layout
        out._base_weights = self._base_weights
        out._weights = new_w
        out._steps = (*self._steps, step)
        out._adjustments = self._adjustments if adjustment is None else (*self._adjustments, adjustment)
        out._records = (*self._records, record)
        out._spec = self._spec
        return out

    def rake(self, margins: MarginsLike | Sequence[Margin], *, tol: float = 1e-10, max_iter: int = 200) -> SurveyDesign:
        """Rake the weights to population margins (R ``rake``, run to convergence).

        Parameters
        ----------
        margins : DataFrame or mapping
            A table ``variable, level, total`` or ``{variable: {level: total}}`` (tuple keys for
            cross-classified margins); levels are compared as text.
        tol : float
            Stop when every margin is within ``tol × N``.
        max_iter : int
            Maximum number of IPF sweeps.

        Returns
        -------
        SurveyDesign
            Raked design; its variance accounts for the raking as R's ``svyrecvar`` does.

        Raises
        ------
        CalibrationError
            Empty margin level, level without a target, inconsistent margin totals, no convergence.
        """
        return self._with_step(RakeStep(parse_margins(margins), tol=tol, max_iter=max_iter))

    def poststratify(self, cells: str | Sequence[str], totals: pd.DataFrame | Mapping[Any, float]) -> SurveyDesign:
        """Post-stratify to known cell totals (R ``postStratify``); the variance accounts for it.

        Parameters
        ----------
        cells : str or sequence of str
            Column(s) whose combinations are the post-strata.
        totals : DataFrame or mapping
            Table with the cell columns and ``total``, or ``{level: total}``.
        """
        return self._with_step(PostStratifyStep(poststrata_margin(cells, totals)))

    def trim(
        self,
        *,
        upper: float | None = None,
        k: float | None = None,
        lower: float | None = None,
        redistribute: Redistribution = "proportional",
        max_iter: int = 50,
        rerake: MarginsLike | Sequence[Margin] | None = None,
        rounds: int = 50,
    ) -> SurveyDesign:
        """Trim weights at ``upper`` or ``k × median``, redistribute the excess (total kept), optionally re-rake.

        With ``rerake`` the weights are raked again and the trim-then-rake cycle repeated (at most ``rounds``
        times, the cap fixed at its first value) until the raked weights respect the cap within 1e-6; the result
        always ends with a raking (a ``RuntimeWarning`` says when the cap could not be met).

        Trimmed weights are treated as fixed in the linearisation variance (R ``trimWeights``); a replicate
        design re-runs the trimming (and re-raking) in every replicate.
        """
        rule = TrimRule(upper=upper, k=k, lower=lower, redistribute=redistribute, max_iter=max_iter)
        out = self._with_step(TrimStep(rule))
        if rerake is None:
            return out
        margins = parse_margins(rerake)
        cap = float(rule.caps(self._weights[:, None])[0])
        fixed = TrimRule(upper=cap, lower=lower, redistribute=rule.redistribute, max_iter=max_iter)
        for _ in range(rounds):
            out = out.rake(margins)
            if float(out.weights.max()) <= cap * (1 + 1e-6):
                return out
            out = out._with_step(TrimStep(fixed))
        out = out.rake(margins)
        warnings.warn(
            f"trimming and re-raking did not meet the cap {cap:.6g} in {rounds} rounds "
            f"(largest weight {float(out.weights.max()):.6g}); the margins are met",
            RuntimeWarning,
            stacklevel=2,
        )
        return out

    # ------------------------------------------------------------------ replicate designs
    def jk1(self, *, mse: bool = False) -> replicate.ReplicateDesign:
        """Delete-one-PSU jackknife (R ``as.svrepdesign(type="JK1")``), unstratified designs only."""
        return replicate.jackknife(self._data, self._base_weights, self._layout, self._steps, kind="JK1", mse=mse)

    def jkn(self, *, mse: bool = False) -> replicate.ReplicateDesign:
        """Stratified delete-one-PSU jackknife (R ``as.svrepdesign(type="JKn")``)."""
        return replicate.jackknife(self._data, self._base_weights, self._layout, self._steps, kind="JKn", mse=mse)

    def bootstrap(
        self, replicates: int = 500, *, seed: int | None = None, mse: bool = False
    ) -> replicate.ReplicateDesign:
        """Rao–Wu(–Yue) rescaling bootstrap with ``n_h − 1`` PSUs resampled per stratum (seeded)."""
        return replicate.rao_wu_bootstrap(
            self._data, self._base_weights, self._layout, self._steps, replicates=replicates, seed=seed, mse=mse
        )
