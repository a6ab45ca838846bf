"""Replicate-weight designs: JK1, JKn and the Rao–Wu rescaling bootstrap, with calibration re-run per replicate.

Replicate ``r`` multiplies each PSU's design weights by a factor (0 and ``n/(n−1)`` for the jackknives, the
rescaled bootstrap counts for the bootstrap); the design's calibration steps (raking, post-stratification,
trimming) are then re-run on every replicate's weights, as R does when ``rake``/``postStratify`` are applied to a
``svyrep.design``. The variance is R's ``svrVar``:

.. math:: \\hat V = \\mathrm{scale} \\sum_r \\mathrm{rscale}_r (\\hat\\theta_r - \\bar\\theta)^2,

with :math:`\\bar\\theta` the mean of the replicates, or the full-sample estimate when ``mse=True``. Replicates
whose estimate is undefined (e.g. a domain without weight in that replicate) are dropped, as R's ``na.omit``.

- JK1 (R ``jk1weights``): ``scale = (1 − f)(G − 1)/G``; unstratified designs only.
- JKn (R ``jknweights``): one replicate per PSU of every stratum with two or more PSUs,
  ``rscale_h = (1 − f_h)(n_h − 1)/n_h``; lonely strata as R (``adjust``: one extra replicate that zeroes the
  lonely PSU and scales all other PSUs by ``H/(H − 1)``, rscale ``(H − 1)/H``; ``average``: scale
  ``#PSU/#replicates``; ``remove``/``certainty``: no replicate).
- Rao–Wu–Yue bootstrap (Rao, Wu & Yue 1992) with ``m_h = n_h − 1`` PSUs drawn with replacement:
  factor ``1 − λ_h + λ_h (n_h/m_h) m*_hj``, ``λ_h = sqrt(m_h (1 − f_h)/(n_h − 1))``; ``scale = 1/(R − 1)``.
  Lonely strata get factor 1 (they contribute nothing).

Replicate weights are held per *atom* (rows sharing a PSU and every calibration cell, so sharing their
adjustment factor in every replicate), which keeps memory at ``atoms × replicates`` rather than
``rows × replicates``; with trimming every row is an atom.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from .calibration import PostStratifyStep, RakeStep, Step, TrimStep
from .errors import DesignError
from .estimators import DomainEstimators
from .layout import StratumLayout
from .margins import Margin, MarginsLike, parse_margins, poststrata_margin
from .ratios import DfMode, RatioTerm
from .variance import domain_degrees_of_freedom
from .weighting import Redistribution, TrimRule

__all__ = ["ReplicateDesign", "jackknife", "rao_wu_bootstrap", "replicate_variance"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def replicate_variance(
    thetas: FloatArray, estimate: FloatArray, scale: float, rscales: FloatArray, mse: bool
) -> FloatArray:
    """R ``svrVar`` for many estimates at once; ``thetas`` is estimates × replicates (NaN replicates dropped)."""
    ok = np.isfinite(thetas)
    if not ok.all():
        warnings.warn(
            f"{int((~ok).any(axis=0).sum())} replicates gave undefined estimates for some domains and were dropped",
            RuntimeWarning,
            stacklevel=3,
        )
    if mse:
        centre = estimate
    else:
        use = ok & (rscales[None, :] > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            centre = np.where(use, thetas, 0.0).sum(axis=1) / use.sum(axis=1)
    dev = np.where(ok, thetas - centre[:, None], 0.0)
    out: FloatArray = scale * (dev * dev * rscales[None, :]).sum(axis=1)
    return out


class ReplicateDesign(DomainEstimators):
    """A replicate-weight design (R ``svrepdesign``), built by :meth:`SurveyDesign.jk1` and friends.

    It offers the same estimators as :class:`~analysis.design.SurveyDesign` (``mean``, ``total``, ``ratio``,
    ``proportion``) and calibration methods (``rake``, ``poststratify``, ``trim``) that re-run in every replicate.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        base_weights: FloatArray,
        layout: StratumLayout,
        psu_factors: FloatArray,
        *,
        scale: float,
        rscales: FloatArray,
        mse: bool,
        method: str,
        steps: Sequence[Step] = (),
    ) -> None:
        self._data = data
        self._base = base_weights
        self._layout = layout
        self._psu_factors = psu_factors
        self._scale = float(scale)
        self._rscales = np.asarray(rscales, dtype=np.float64)
        self._mse = mse
        self._method = method
        self._steps = tuple(steps)
        self._calibrate()

    def _calibrate(self) -> None:
        data, w0 = self._data, self._base
        step_codes = [s.codes(data, w0) for s in self._steps]
        if any(isinstance(s, TrimStep) for s in self._steps):
            atom = np.arange(len(w0), dtype=np.int64)
        else:
            key = self._layout.psu.copy()
            for codes in step_codes:
                for c in codes:
                    key = np.asarray(pd.factorize(key * (int(c.max()) + 1) + c)[0], dtype=np.int64)
            atom = key
        _, first_idx = np.unique(atom, return_index=True)
        first = first_idx.astype(np.int64)
        n_atoms = len(first)
        a0 = np.asarray(np.bincount(atom, weights=w0, minlength=n_atoms), dtype=np.float64)
        factors = np.hstack([np.ones((n_atoms, 1)), self._psu_factors[self._layout.psu[first]]])
        w: FloatArray = a0[:, None] * factors
        ok = np.ones(w.shape[1], dtype=bool)
        for step, codes in zip(self._steps, step_codes, strict=True):
            w, ok_step = step.apply([c[first] for c in codes], w)
            ok &= ok_step
        if not ok[0]:
            raise DesignError("calibration of the full-sample weights failed")
        with np.errstate(invalid="ignore", divide="ignore"):
            g = np.where(a0[:, None] > 0, w / a0[:, None], 0.0)
        g[:, ~ok] = np.nan  # replicates whose calibration failed give undefined estimates
        self._atom = atom
        self._g = g
        weights: FloatArray = w0 * g[atom, 0]
        weights.setflags(write=False)
        self._weights = weights

    # ------------------------------------------------------------------ properties
    @property
    def data(self) -> pd.DataFrame:
        """The respondents' data."""
        return self._data

    @property
    def weights(self) -> FloatArray:
        """Full-sample (calibrated) weights."""
        return self._weights

    @property
    def n_replicates(self) -> int:
        """Number of replicates."""
        return int(self._g.shape[1] - 1)

    @property
    def df(self) -> int:
        """Degrees of freedom used for intervals: #PSU − #strata of the underlying design."""
        return self._layout.df

    @property
    def variance_method(self) -> str:
        """Name of the variance method."""
        centre = "mse" if self._mse else "centred at the replicate mean"
        cal = f"; calibration re-run in every replicate: {'+'.join(s.kind for s in self._steps)}" if self._steps else ""
        return f"replicate weights: {self._method} ({centre}){cal}"

    def replicate_weights(self) -> FloatArray:
        """Row × replicate weight matrix (memory rows × replicates: for inspection and small data)."""
        out: FloatArray = self._base[:, None] * self._g[self._atom, 1:]
        return out

    def __repr__(self) -> str:
        return f"ReplicateDesign(n={len(self._data)}, replicates={self.n_replicates}, {self.variance_method})"

    # ------------------------------------------------------------------ estimation backend
    def degrees_of_freedom(self, dom: IntArray, n_dom: int, mode: DfMode) -> FloatArray:
        """Design df for every domain, or the domain's own (``mode="domain"``)."""
        if mode == "domain":
            return domain_degrees_of_freedom(self._layout, dom, n_dom)
        return np.full(n_dom, float(self.df))

    def replicate_estimates(self, terms: Sequence[RatioTerm], dom: IntArray, n_dom: int) -> FloatArray:
        """Estimates × replicates (column 0 is the full sample) of a linear combination of ratios."""
        n_atoms = self._g.shape[0]
        theta = np.zeros((n_dom, self._g.shape[1]))
        for term in terms:
            rows = (dom >= 0) & term.observed
            shape = (n_dom, n_atoms)
            idx = (dom[rows], self._atom[rows])
            num = sp.csr_matrix(((self._base * term.num)[rows], idx), shape=shape) @ self._g
            if term.den is None:
                theta += term.coef * num
                continue
            den = sp.csr_matrix(((self._base * term.den)[rows], idx), shape=shape) @ self._g
            with np.errstate(invalid="ignore", divide="ignore"):
                theta += term.coef * np.asarray(num) / np.asarray(den)
        return theta

    def domain_variance(
        self, terms: Sequence[RatioTerm], x: FloatArray, dom: IntArray, n_dom: int, estimate: FloatArray
    ) -> FloatArray:
        """Replicate variance of every domain's estimator."""
        theta = self.replicate_estimates(terms, dom, n_dom)
        return replicate_variance(theta[:, 1:], estimate, self._scale, self._rscales, self._mse)

    # ------------------------------------------------------------------ calibration (re-run per replicate)
    def _with_step(self, step: Step) -> ReplicateDesign:
        return ReplicateDesign(
            self._data,
            self._base,
            self._layout,
            self._psu_factors,
            scale=self._scale,
            rscales=self._rscales,
            mse=self._mse,
            method=self._method,
            steps=(*self._steps, step),
        )

    def rake(
        self, margins: MarginsLike | Sequence[Margin], *, tol: float = 1e-10, max_iter: int = 200
    ) -> ReplicateDesign:
        """Rake the full sample and every replicate to the margins."""
        return self._with_step(RakeStep(parse_margins(margins), tol=tol, max_iter=max_iter))

    def poststratify(self, cells: str | Sequence[str], totals: pd.DataFrame | Mapping[Any, float]) -> ReplicateDesign:
        """Post-stratify the full sample and every replicate."""
        return self._with_step(PostStratifyStep(poststrata_margin(cells, totals)))

    def trim(
        self,
        *,
        upper: float | None = None,
        k: float | None = None,
        lower: float | None = None,
        redistribute: Redistribution = "proportional",
        max_iter: int = 50,
    ) -> ReplicateDesign:
        """Trim the full sample and every replicate (the ``k × median`` cap is recomputed per replicate)."""
        return self._with_step(
            TrimStep(TrimRule(upper=upper, k=k, lower=lower, redistribute=redistribute, max_iter=max_iter))
        )


def jackknife(
    data: pd.DataFrame,
    base_weights: FloatArray,
    layout: StratumLayout,
    steps: Sequence[Step],
    *,
    kind: Literal["JK1", "JKn"],
    mse: bool = False,
) -> ReplicateDesign:
    """Delete-one-PSU jackknife replicate design (R ``jk1weights`` / ``jknweights``)."""
    g = layout.n_psu
    h_of = layout.psu_stratum
    if kind == "JK1":
        if layout.n_strata > 1:
            raise DesignError("JK1 needs an unstratified design; use jkn() for a stratified one")
        if g < 2:
            raise DesignError("JK1 needs at least two PSUs")
        factors = np.full((g, g), g / (g - 1.0))
        np.fill_diagonal(factors, 0.0)
        scale = float(layout.fpc_factor[0]) * (g - 1.0) / g
        return ReplicateDesign(
            data,
            base_weights,
            layout,
            factors,
            scale=scale,
            rscales=np.ones(g),
            mse=mse,
            method="JK1",
            steps=steps,
        )
    columns: list[FloatArray] = []
    rscales: list[float] = []
    n_strat = layout.n_strata
    for h in range(n_strat):
        members = np.flatnonzero(h_of == h)
        n_h = len(members)
        if n_h == 1 and not layout.census[h]:
            if layout.lonely_psu == "adjust":
                col = np.where(h_of == h, 0.0, n_strat / (n_strat - 1.0)) if n_strat > 1 else np.zeros(g)
                columns.append(col)
                rscales.append((n_strat - 1.0) / n_strat)
            continue
        if n_h == 1:
            continue
        for j in members:
            col = np.ones(g)
            col[members] = n_h / (n_h - 1.0)
            col[j] = 0.0
            columns.append(col)
            rscales.append(float(layout.fpc_factor[h]) * (n_h - 1.0) / n_h)
    if not columns:
        raise DesignError("JKn needs at least one stratum with two or more PSUs")
    scale = 1.0
    if layout.lonely_psu == "average" and len(columns) < g:
        scale = g / len(columns)  # as R jknweights: length(unique(psu)) / number of replicates
    return ReplicateDesign(
        data,
        base_weights,
        layout,
        np.column_stack(columns),
        scale=scale,
        rscales=np.asarray(rscales),
        mse=mse,
        method="JKn",
        steps=steps,
    )


def rao_wu_bootstrap(
    data: pd.DataFrame,
    base_weights: FloatArray,
    layout: StratumLayout,
    steps: Sequence[Step],
    *,
    replicates: int = 500,
    seed: int | None = None,
    mse: bool = False,
) -> ReplicateDesign:
    """Rao–Wu–Yue rescaling bootstrap replicate design (``m_h = n_h − 1``), reproducible with ``seed``."""
    if replicates < 2:
        raise DesignError("the bootstrap needs at least 2 replicates")
    rng = np.random.default_rng(seed)
    g = layout.n_psu
    factors = np.ones((g, replicates))
    for h in range(layout.n_strata):
        members = np.flatnonzero(layout.psu_stratum == h)
        n_h = len(members)
        if n_h < 2:
            continue
        m_h = n_h - 1
        lam = np.sqrt(m_h * float(layout.fpc_factor[h]) / (n_h - 1.0))
        counts = rng.multinomial(m_h, np.full(n_h, 1.0 / n_h), size=replicates).T  # n_h × R
        factors[members] = 1 - lam + lam * (n_h / m_h) * counts
    return ReplicateDesign(
        data,
        base_weights,
        layout,
        factors,
        scale=1.0 / (replicates - 1),
        rscales=np.ones(replicates),
        mse=mse,
        method=f"Rao–Wu bootstrap, {replicates} replicates, seed {seed}",
        steps=steps,
    )
