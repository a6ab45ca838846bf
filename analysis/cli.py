"""Command line: ``python -m analysis {estimate, rake, fay-herriot}``.

``estimate`` writes one row per domain and variable with the columns: the ``--by`` columns, ``variable``, ``n``,
``estimate``, ``se``, ``ci_low``, ``ci_high``, ``df``, ``deff``, ``cv`` (proportion intervals for 0/1 variables,
``t(df)`` intervals for means). ``rake`` writes the data with a new column ``weight_raked``. ``fay-herriot`` writes
``area, direct, eblup, mse, gamma`` and optionally a JSON summary. Errors exit with status 1 and a one-line
message on stderr (argument errors: status 2, from argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from .design import SurveyDesign
from .errors import DesignError, SurveyError
from .intervals import CI_METHODS
from .layout import LONELY_PSU_OPTIONS
from .margins import margins_from_frame

__all__ = ["main"]

ESTIMATE_COLUMNS = ["variable", "n", "estimate", "se", "ci_low", "ci_high", "df", "deff", "cv"]


class CLIError(Exception):
    """An error reported as one line on stderr."""


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line on stderr (status 2), like every other error of the command."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def _read_csv(path: str, text_columns: Sequence[str] = (), *, all_text: bool = False) -> pd.DataFrame:
    """Read a CSV, keeping key columns as text (codes such as '001' keep their zeros)."""
    if not Path(path).is_file():
        raise CLIError(f"cannot read {path}: no such file")
    try:
        header = pd.read_csv(path, nrows=0)
        if all_text:
            return pd.read_csv(path, dtype=str)
        return pd.read_csv(path, dtype={c: str for c in text_columns if c in header.columns})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise CLIError(f"cannot read {path}: {str(exc).strip()}") from None


def _split(values: Sequence[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


def _require(data: pd.DataFrame, columns: Sequence[str], path: str) -> None:
    for col in columns:
        if col not in data.columns:
            raise CLIError(f"column {col!r} not found in {path} (columns: {', '.join(map(str, data.columns))})")


def _estimate(args: argparse.Namespace) -> str:
    by = _split(args.by)
    keys = [c for c in (*by, args.strata, args.psu) if c]
    margins = None
    if args.rake:
        margins = margins_from_frame(_read_csv(args.rake, ["variable", "level"]))
        keys.extend(v for m in margins for v in m.variables)
    data = _read_csv(args.data, keys)
    if data.empty:
        raise CLIError(f"{args.data} has no rows")
    _require(data, [*args.y, args.weight, *by, *(c for c in (args.strata, args.psu, args.fpc) if c)], args.data)
    design = SurveyDesign(
        data,
        weights=args.weight,
        strata=args.strata,
        psu=args.psu,
        fpc=args.fpc,
        nest=args.nest,
        lonely_psu=args.lonely_psu,
    )
    if margins is not None:
        design = design.rake(margins, tol=args.tol, max_iter=args.max_iter)
    result = design.mean(
        args.y,
        by=by or None,
        ci=args.ci,
        level=args.level,
        df=args.df,
        on_empty="nan" if args.allow_empty else "raise",
    )
    columns = [*by, *ESTIMATE_COLUMNS]
    if args.extra_columns:
        columns += ["weight_sum", "deff_replace", "n_eff", "ci_method", "variance_method"]
    result[columns].to_csv(args.out, index=False)
    return f"wrote {len(result)} rows to {args.out}; variance: {design.variance_method}"


def _rake(args: argparse.Namespace) -> str:
    margins = margins_from_frame(_read_csv(args.margins, ["variable", "level"]))
    data = _read_csv(args.data, all_text=True)
    if data.empty:
        raise CLIError(f"{args.data} has no rows")
    _require(data, [args.weight, *(v for m in margins for v in m.variables)], args.data)
    design = SurveyDesign(data, weights=args.weight, lonely_psu="certainty").rake(
        margins, tol=args.tol, max_iter=args.max_iter
    )
    rec = design.calibration[-1]
    out = data.copy()
    out["weight_raked"] = design.weights
    out.to_csv(args.out, index=False)
    return (
        f"wrote {len(out)} rows to {args.out}: {rec.iterations} sweeps, max margin error {rec.max_margin_error:.3g}, "
        f"weights {rec.after.minimum:.4g}–{rec.after.maximum:.4g}, weighting effect "
        f"{rec.before.weighting_effect:.4f} -> {rec.after.weighting_effect:.4f}"
    )


def _design_matrix(data: pd.DataFrame, covariates: Sequence[str], factors: Sequence[str]) -> np.ndarray:
    parts = [pd.DataFrame({"(Intercept)": np.ones(len(data))}, index=data.index)]
    for col in covariates:
        s = data[col]
        if col in factors or not pd.api.types.is_numeric_dtype(s):
            if s.isna().any():
                raise CLIError(f"covariate {col!r} has missing values")
            parts.append(pd.get_dummies(s.astype(str), prefix=col, drop_first=True, dtype="float64"))
        else:
            parts.append(pd.DataFrame({col: s.astype("float64")}, index=data.index))
    x = pd.concat(parts, axis=1).to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise CLIError("covariates have missing or non-numeric values")
    return x


def _fay_herriot(args: argparse.Namespace) -> str:
    from .sae import fay_herriot

    covariates = _split(args.covariates)
    factors = _split(args.factor)
    data = _read_csv(args.data, [args.area])
    if data.empty:
        raise CLIError(f"{args.data} has no rows")
    _require(data, [args.area, args.estimate, args.variance, *covariates, *factors], args.data)
    direct = pd.to_numeric(data[args.estimate], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    vardir = pd.to_numeric(data[args.variance], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(vardir[~np.isnan(direct)]).any() or np.any(vardir[~np.isnan(direct)] < 0):
        raise CLIError(f"column {args.variance!r} must be numeric and >= 0 where {args.estimate!r} is given")
    x = _design_matrix(data, [*covariates, *(f for f in factors if f not in covariates)], factors)
    fit = fay_herriot(direct, vardir, x, method=args.method)
    out = pd.DataFrame(
        {"area": data[args.area], "direct": direct, "eblup": fit.eblup, "mse": fit.mse, "gamma": fit.gamma}
    )
    out.to_csv(args.out, index=False)
    if args.summary:
        summary = {
            "sigma2_u": float(fit.sigma2_u),
            "beta": [float(b) for b in np.asarray(fit.beta)],
            "loglik": float(fit.loglik),
            "iterations": int(fit.iterations),
            "method": args.method,
        }
        Path(args.summary).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return f"wrote {len(out)} areas to {args.out}; sigma2_u = {fit.sigma2_u:.6g}"


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-command per task)."""
    parser = _Parser(
        prog="python -m analysis", description="Design-based survey estimation (R survey-compatible)."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    est = sub.add_parser("estimate", help="means / proportions by domain with SEs and intervals")
    est.add_argument("data", help="respondents CSV")
    est.add_argument("--y", action="append", required=True, help="outcome column (repeat for several)")
    est.add_argument("--weight", required=True, help="weight column")
    est.add_argument("--strata", help="stratum column")
    est.add_argument("--psu", help="PSU (cluster) column")
    est.add_argument("--fpc", help="fpc column: population PSUs per stratum, or sampling fraction")
    est.add_argument("--nest", action="store_true", help="PSU ids are unique only within strata")
    est.add_argument("--by", action="append", help="domain columns, comma-separated")
    est.add_argument("--rake", metavar="MARGINS.csv", help="rake first to margins (variable,level,total)")
    est.add_argument("--ci", choices=CI_METHODS, default="logit", help="interval for 0/1 variables")
    est.add_argument("--lonely-psu", choices=LONELY_PSU_OPTIONS, default="fail", dest="lonely_psu")
    est.add_argument("--level", type=float, default=0.95, help="confidence level")
    est.add_argument("--df", choices=("design", "domain"), default="design", help="degrees of freedom")
    est.add_argument("--tol", type=_positive_float, default=1e-10, help="raking tolerance (relative)")
    est.add_argument("--max-iter", type=int, default=200, dest="max_iter", help="raking sweeps")
    est.add_argument("--allow-empty", action="store_true", help="write NaN for empty domains instead of failing")
    est.add_argument("--extra-columns", action="store_true", help="also write n_eff, deff_replace, methods")
    est.add_argument("--out", required=True, help="output CSV")
    est.set_defaults(func=_estimate)

    rk = sub.add_parser("rake", help="rake weights to population margins")
    rk.add_argument("data", help="respondents CSV")
    rk.add_argument("--weight", required=True, help="starting weight column")
    rk.add_argument("--margins", required=True, help="CSV with columns variable,level,total")
    rk.add_argument("--max-iter", type=int, default=200, dest="max_iter", help="maximum sweeps")
    rk.add_argument("--tol", type=_positive_float, default=1e-10, help="relative tolerance on the margins")
    rk.add_argument("--out", required=True, help="output CSV (input + weight_raked)")
    rk.set_defaults(func=_rake)

    fh = sub.add_parser("fay-herriot", help="Fay–Herriot small-area estimates")
    fh.add_argument("data", help="areas CSV")
    fh.add_argument("--area", required=True, help="area id column")
    fh.add_argument("--estimate", required=True, help="direct estimate column")
    fh.add_argument("--variance", required=True, help="sampling variance column")
    fh.add_argument("--covariates", action="append", help="covariate columns, comma-separated")
    fh.add_argument("--factor", action="append", help="covariates to treat as categorical, comma-separated")
    fh.add_argument("--method", choices=("reml", "ml", "fh"), default="reml")
    fh.add_argument("--out", required=True, help="output CSV")
    fh.add_argument("--summary", help="output JSON with sigma2_u, beta, loglik, iterations")
    fh.set_defaults(func=_fay_herriot)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            message = args.func(args)
    except (CLIError, SurveyError, DesignError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: {type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    print(message)
    return 0
