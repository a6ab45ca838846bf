"""Benchmark: domain estimates, raking and Fay–Herriot on a synthetic survey; compared with R survey and samplics.

Not a test: prints a Markdown table of times, ratios and the largest relative differences from R and samplics.

    .venv/bin/python benchmarks/estimate.py                 # 1,000,000 rows, 75 communes x 4 sectors
    .venv/bin/python benchmarks/estimate.py --rows 200000   # quicker
    .venv/bin/python benchmarks/estimate.py --national      # 3,321 communes x 4 sectors, 10,000,000 rows,
                                                            # time and peak memory, without R or samplics

The sample: strata = communes, 6 villages (PSUs, numbered within the commune: nest=True) per commune, four
sectors, unequal weights, a 0/1 satisfaction ``sat`` and a numeric ``y``; no fpc (samplics and R get the
same design). R (``Rscript`` with survey and data.table) gets the data as CSV in a temporary directory; only the
``svyby`` call (and, for raking, ``rake`` + ``svyby``) is timed inside R with ``system.time``. samplics'
``TaylorEstimator(domain=)`` loops over domains; it runs on a random subsample of ``--samplics-rows`` rows
(default 200,000) and the library is timed again on the same subsample for the ratio. R's raking variance
(``svyrecvar`` with 3 margins, per domain) is slow: raking is compared with R on ``--r-rake-rows`` rows
(default 50,000: about 2 minutes in R).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.design import SurveyDesign
from analysis.sae import fay_herriot_table

T = TypeVar("T")
SECTORS = np.array(["health", "education", "land", "justice"])
AGEGRPS = np.array(["18-29", "30-44", "45-59", "60+"])
PSU_PER_STRATUM = 6


def make_sample(rows: int, communes: int, seed: int = 20261122) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic responses and commune-level covariates (fixed seed)."""
    rng = np.random.default_rng(seed)
    commune_effect = rng.normal(0.3, 0.5, communes)
    urban = rng.uniform(0, 1, communes)
    village_effect = rng.normal(0, 0.3, communes * PSU_PER_STRATUM)
    village_weight = rng.uniform(20, 200, communes * PSU_PER_STRATUM)
    commune = rng.integers(0, communes, rows)
    village = rng.integers(0, PSU_PER_STRATUM, rows)
    psu = commune * PSU_PER_STRATUM + village
    sector = rng.choice(4, rows, p=[0.4, 0.3, 0.2, 0.1])
    sex = rng.choice(2, rows, p=[0.53, 0.47])
    age = rng.choice(4, rows, p=[0.2, 0.3, 0.3, 0.2])
    eta = commune_effect[commune] + 0.8 * urban[commune] + np.array([0.3, 0.6, -0.5, 0.0])[sector]
    eta += village_effect[psu] + 0.2 * sex - 0.1 * age
    sat = (rng.uniform(size=rows) < 1 / (1 + np.exp(-eta))).astype(np.float64)
    y = np.round(np.exp(2.5 + 0.5 * village_effect[psu] + rng.normal(0, 0.5, rows)), 2)
    w = np.round(village_weight[psu] * rng.uniform(0.8, 1.25, rows), 4)
    names = np.array([f"X{c:04d}" for c in range(communes)])
    df = pd.DataFrame(
        {
            "commune": names[commune],
            "village": village + 1,
            "sector": SECTORS[sector],
            "sex": np.array(["F", "M"])[sex],
            "agegrp": AGEGRPS[age],
            "w": w,
            "sat": sat,
            "y": y,
        }
    )
    area = pd.DataFrame({"commune": names, "urban": urban, "x_census": commune_effect + rng.normal(0, 0.2, communes)})
    return df, area


def margins_for(df: pd.DataFrame, seed: int = 7) -> dict[str, dict[str, float]]:
    """Population margins: sex, age group and commune totals, shifted from the sample's weighted distribution."""
    rng = np.random.default_rng(seed)
    total = float(df["w"].sum())
    out: dict[str, dict[str, float]] = {}
    for col in ("sex", "agegrp", "commune"):
        sums = df.groupby(col)["w"].sum()
        shifted = sums.to_numpy() * rng.uniform(0.9, 1.1, len(sums))
        out[col] = dict(zip(sums.index.astype(str), shifted / shifted.sum() * total, strict=True))
    return out


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def design_of(df: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign(df, weights="w", strata="commune", psu="village", nest=True)


def library_domains(df: pd.DataFrame) -> tuple[pd.DataFrame, float, float]:
    design, t_build = timed(lambda: design_of(df))
    table, t_est = timed(lambda: design.mean("sat", by=["commune", "sector"]))
    return table, t_build, t_est


def library_rake(df: pd.DataFrame, margins: dict[str, dict[str, float]]) -> tuple[pd.DataFrame, float, float]:
    design = design_of(df)
    raked, t_rake = timed(lambda: design.rake(margins))
    table, t_est = timed(lambda: raked.mean("sat", by=["commune", "sector"]))
    return table, t_rake, t_est


def library_fh(df: pd.DataFrame, area: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    def run() -> pd.DataFrame:
        direct = design_of(df).mean("sat", by="commune")[["commune", "estimate", "se"]]
        tab = area.merge(direct, on="commune", how="left").assign(var=lambda t: t["se"] ** 2)
        return fay_herriot_table(
            tab, area="commune", estimate="estimate", variance="var", covariates=["urban", "x_census"]
        )

    return timed(run)


R_SCRIPT = r"""
suppressPackageStartupMessages({library(survey); library(data.table)})
args <- commandArgs(trailingOnly = TRUE)
dat <- as.data.frame(fread(args[1]))
des <- svydesign(id = ~village, strata = ~commune, weights = ~w, nest = TRUE, data = dat)
if (args[3] == "domains") {
  tm <- system.time(est <- svyby(~sat, ~commune + sector, des, svymean))
} else {
  m <- fread(args[4])
  pops <- lapply(split(m, m$variable), function(g) {
    d <- data.frame(g$level, g$total)
    names(d) <- c(g$variable[1], "Freq")
    d
  })
  tm <- system.time({
    rk <- rake(des, lapply(names(pops), function(v) as.formula(paste0("~", v))), pops,
               control = list(maxit = 100, epsilon = 1e-10))
    est <- svyby(~sat, ~commune + sector, rk, svymean)
  })
}
out <- data.frame(commune = est$commune, sector = est$sector, estimate = sprintf("%.17g", est$sat),
                  se = sprintf("%.17g", SE(est)))
fwrite(out, args[2])
cat(sprintf("%.6f\n", tm[["elapsed"]]))
"""


def r_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "suppressPackageStartupMessages({library(survey); library(data.table)})"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def run_r(
    df: pd.DataFrame, task: str, margins: dict[str, dict[str, float]] | None = None
) -> tuple[pd.DataFrame, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data_csv, out_csv, script = Path(tmp, "data.csv"), Path(tmp, "out.csv"), Path(tmp, "run.R")
        df[["commune", "village", "sector", "sex", "agegrp", "w", "sat"]].to_csv(data_csv, index=False)
        script.write_text(R_SCRIPT)
        args = ["Rscript", str(script), str(data_csv), str(out_csv), task]
        if margins is not None:
            m_csv = Path(tmp, "margins.csv")
            pd.DataFrame(
                [(v, lv, t) for v, levels in margins.items() for lv, t in levels.items()],
                columns=["variable", "level", "total"],
            ).to_csv(m_csv, index=False)
            args.append(str(m_csv))
        proc = subprocess.run(args, capture_output=True, text=True, check=True)
        seconds = float(proc.stdout.strip().splitlines()[-1])
        out = pd.read_csv(out_csv, dtype={"commune": str, "sector": str})
    return out, seconds


def run_samplics(df: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    # samplics gets integer codes: with string keys it is about 5 times slower still
    domain_codes, domains = pd.factorize(df["commune"] + "|" + df["sector"])
    psu_codes, _ = pd.factorize(df["commune"] + "-" + df["village"].astype(str))
    stratum_codes, _ = pd.factorize(df["commune"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics.estimation import TaylorEstimator
        from samplics.utils.types import PopParam

        est = TaylorEstimator(PopParam.mean)
        _, seconds = timed(
            lambda: est.estimate(
                y=df["sat"].to_numpy(),
                samp_weight=df["w"].to_numpy(),
                stratum=pd.Series(stratum_codes),
                psu=pd.Series(psu_codes),
                domain=pd.Series(domain_codes),
            )
        )
    keys = list(est.point_est)
    labels = [str(domains[int(k)]) for k in keys]
    out = pd.DataFrame(
        {
            "commune": [lab.split("|")[0] for lab in labels],
            "sector": [lab.split("|")[1] for lab in labels],
            "estimate": [float(est.point_est[k]) for k in keys],
            "se": [float(est.stderror[k]) for k in keys],
        }
    )
    return out, seconds


def max_rel_diff(ours: pd.DataFrame, other: pd.DataFrame) -> float:
    """Largest |ours - other| / |other| over estimates and SEs of all domains.

    Where the reference is (numerically) 0 — e.g. the SE of a domain whose respondents all agree, which R gives as
    0 or ~1e-17 — the values count as equal if they differ by at most 1e-12 (methodology.md), else as inf.
    Mismatched domain sets give NaN.
    """
    m = ours[["commune", "sector", "estimate", "se"]].merge(
        other, on=["commune", "sector"], suffixes=("", "_o"), validate="one_to_one"
    )
    if len(m) != len(ours) or len(m) != len(other):
        return float("nan")
    worst = 0.0
    for c in ("estimate", "se"):
        a, b = m[c].to_numpy(), m[f"{c}_o"].to_numpy()
        diff = np.abs(a - b)
        tiny = np.abs(b) <= 1e-9
        if np.any(tiny & ~(diff <= 1e-12)):
            return float("inf")
        if np.any(~tiny):
            worst = max(worst, float(np.max(diff[~tiny] / np.abs(b[~tiny]))))
    return worst


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def fmt_s(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f} s"


def fmt_ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or b == 0 else f"{a / b:.1f}×"


def fmt_diff(x: float | None) -> str:
    return "—" if x is None else f"{x:.1e}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=None, help="responses (default 1,000,000; 10,000,000 with --national)")
    p.add_argument("--communes", type=int, default=None, help="communes (default 75; 3,321 with --national)")
    p.add_argument("--national", action="store_true", help="3,321 communes, 10M rows; time and memory only")
    p.add_argument("--samplics-rows", type=int, default=200_000, help="subsample for samplics (0: skip)")
    p.add_argument("--r-rake-rows", type=int, default=50_000, help="subsample for R raking (0: skip)")
    p.add_argument("--no-r", action="store_true", help="do not run R")
    args = p.parse_args(argv)
    rows = args.rows or (10_000_000 if args.national else 1_000_000)
    communes = args.communes or (3321 if args.national else 75)
    use_r = not args.national and not args.no_r and r_available()
    use_samplics = not args.national and args.samplics_rows > 0

    df, area = make_sample(rows, communes)
    margins = margins_for(df)
    rss_data = peak_rss_mb()
    lines = [
        f"Synthetic survey: {rows:,} responses, {communes:,} communes (strata) × 4 sectors = {communes * 4:,} domains, "
        f"{communes * PSU_PER_STRATUM:,} villages (PSUs); {os.cpu_count()} CPUs; Python {sys.version.split()[0]}.",
        "",
        "| Task | Rows | Library | R survey | samplics | R / library | samplics / library | max rel. diff vs R |"
        " vs samplics |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def row(
        task: str,
        n: int,
        lib: float,
        r_t: float | None = None,
        s_t: float | None = None,
        d_r: float | None = None,
        d_s: float | None = None,
    ) -> None:
        lines.append(
            f"| {task} | {n:,} | {fmt_s(lib)} | {fmt_s(r_t)} | {fmt_s(s_t)} | {fmt_ratio(r_t, lib)} | "
            f"{fmt_ratio(s_t, lib)} | {fmt_diff(d_r)} | {fmt_diff(d_s)} |"
        )

    # (1) domain estimates with SEs
    tab1, t_build, t_mean = library_domains(df)
    r1 = r_t1 = None
    if use_r:
        r1, r_t1 = run_r(df, "domains")
    row("design (SurveyDesign construction)", rows, t_build)
    row(
        "(1) sat by commune × sector, SE (svyby)",
        rows,
        t_mean,
        r_t1,
        None,
        None if r1 is None else max_rel_diff(tab1, r1),
    )

    # samplics on a subsample, the library re-timed on the same rows
    if use_samplics:
        sub = df if rows <= args.samplics_rows else df.sample(n=args.samplics_rows, random_state=1)
        tab_s, _, t_mean_s = library_domains(sub)
        s1, s_t1 = run_samplics(sub)
        r_s = r_ts = None
        if use_r and len(sub) < rows:
            r_s, r_ts = run_r(sub, "domains")
        row(
            "(1) on the samplics subsample",
            len(sub),
            t_mean_s,
            r_ts,
            s_t1,
            None if r_s is None else max_rel_diff(tab_s, r_s),
            max_rel_diff(tab_s, s1),
        )

    # (2) raking to sex, age group and commune totals, then domain estimates
    raked, t_rake = timed(lambda: design_of(df).rake(margins))
    row("(2) rake (sex, age group, commune totals)", rows, t_rake)
    try:
        _, t_mean2 = timed(lambda: raked.mean("sat", by=["commune", "sector"]))
        row("(2) then sat by commune × sector, SE", rows, t_mean2)
    except (MemoryError, ValueError) as exc:  # report and go on to Fay–Herriot
        msg = " ".join(str(exc).split())[:160]
        lines.append(f"| (2) then sat by commune × sector, SE | {rows:,} | failed: {type(exc).__name__}: {msg} |||||||")
    if use_r and args.r_rake_rows > 0:
        sub = df if rows <= args.r_rake_rows else df.sample(n=args.r_rake_rows, random_state=2)
        m_sub = margins_for(sub)
        tab2s, t_rake_s, t_mean2_s = library_rake(sub, m_sub)
        r2, r_t2 = run_r(sub, "rake", m_sub)
        row(
            "(2) rake + domains, R comparison subsample",
            len(sub),
            t_rake_s + t_mean2_s,
            r_t2,
            None,
            max_rel_diff(tab2s, r2),
        )

    # (3) Fay–Herriot over the communes
    fh, t_fh = library_fh(df, area)
    row(f"(3) Fay–Herriot REML over {communes:,} communes (incl. direct estimates)", rows, t_fh)

    lines.append("")
    lines.append(
        f"Peak memory (ru_maxrss): {peak_rss_mb():,.0f} MB (after generating the data: {rss_data:,.0f} MB). "
        f"Fay–Herriot: σ²_u = {fh.attrs['sigma2_u']:.3g}, converged = {fh.attrs['converged']}."
    )
    if not use_r and not args.national:
        lines.append("R not run (Rscript with survey and data.table not found, or --no-r).")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
