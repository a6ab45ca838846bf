"""``python -m analysis``: the output contract, raking, Fay–Herriot, and one-line errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main

from ._helpers import DATA_DIR, POP_SCH, POP_STYPE, assert_close

ROOT = Path(__file__).resolve().parents[2]
API = str(DATA_DIR / "apiclus1.csv")
CONTRACT = ["variable", "n", "estimate", "se", "ci_low", "ci_high", "df", "deff", "cv"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def margins(tmp_path: Path) -> Path:
    rows = [("stype", k, v) for k, v in POP_STYPE.items()] + [("sch.wide", k, v) for k, v in POP_SCH.items()]
    path = tmp_path / "margins.csv"
    pd.DataFrame(rows, columns=["variable", "level", "total"]).to_csv(path, index=False)
    return path


def test_estimate_contract(tmp_path: Path) -> None:
    data = pd.read_csv(API).assign(yes=lambda d: (d["sch.wide"] == "Yes").astype(int))
    src = tmp_path / "api.csv"
    data.to_csv(src, index=False)
    out = tmp_path / "out.csv"
    res = run(
        "estimate",
        str(src),
        "--y",
        "api00",
        "--y",
        "yes",
        "--weight",
        "pw",
        "--psu",
        "dnum",
        "--fpc",
        "fpc",
        "--by",
        "stype",
        "--ci",
        "beta",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out, dtype={"stype": str})
    assert list(table.columns) == ["stype", *CONTRACT]
    assert len(table) == 6 and table["stype"].tolist() == ["E", "E", "H", "H", "M", "M"]
    e = table.set_index(["stype", "variable"])
    assert_close(e.loc[("E", "api00"), "se"], 22.36240889)
    assert e.loc[("E", "api00"), "df"] == 14
    # 0/1 variable: Korn–Graubard interval inside [0, 1]; mean: symmetric t interval
    assert 0 <= e.loc[("H", "yes"), "ci_low"] < e.loc[("H", "yes"), "estimate"] < e.loc[("H", "yes"), "ci_high"] <= 1
    m = e.loc[("E", "api00")]
    assert_close(m["estimate"] - m["ci_low"], m["ci_high"] - m["estimate"])


def test_estimate_with_rake(tmp_path: Path, margins: Path) -> None:
    out = tmp_path / "out.csv"
    res = run(
        "estimate",
        API,
        "--y",
        "api00",
        "--weight",
        "pw",
        "--psu",
        "dnum",
        "--fpc",
        "fpc",
        "--rake",
        str(margins),
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    assert "raking" in res.stdout
    row = pd.read_csv(out).iloc[0]
    assert list(row.index) == CONTRACT
    assert_close(row["estimate"], 641.2303209)
    assert_close(row["se"], 23.7036168879)


def test_estimate_by_two_columns_keeps_codes_as_text(tmp_path: Path, margins: Path) -> None:
    data = pd.read_csv(API).assign(
        commune=lambda d: (d["dnum"] % 4).map("{:03d}".format), yes=lambda d: (d["sch.wide"] == "Yes").astype(int)
    )
    src, out = tmp_path / "api.csv", tmp_path / "out.csv"
    data.to_csv(src, index=False)
    res = run(
        "estimate",
        str(src),
        "--y",
        "yes",
        "--y",
        "api00",
        "--weight",
        "pw",
        "--psu",
        "dnum",
        "--by",
        "commune,stype",
        "--rake",
        str(margins),
        "--lonely-psu",
        "adjust",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out, dtype={"commune": str})
    assert list(table.columns) == ["commune", "stype", *CONTRACT]
    keys = data[["commune", "stype"]].drop_duplicates().sort_values(["commune", "stype"])
    assert len(table) == 2 * len(keys)
    assert table["commune"].str.len().eq(3).all()
    first = table.drop_duplicates(["commune", "stype"])[["commune", "stype"]]
    assert first.values.tolist() == keys.values.tolist()


def test_rake_command(tmp_path: Path, margins: Path) -> None:
    out = tmp_path / "raked.csv"
    res = run(
        "rake",
        API,
        "--weight",
        "pw",
        "--margins",
        str(margins),
        "--max-iter",
        "100",
        "--tol",
        "1e-12",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    raked = pd.read_csv(out, dtype={"cds": str})
    original = pd.read_csv(API, dtype={"cds": str})
    assert list(raked.columns) == [*original.columns, "weight_raked"]
    assert raked["cds"].tolist() == original["cds"].tolist()  # codes keep their leading zeros
    for var, targets in (("stype", POP_STYPE), ("sch.wide", POP_SCH)):
        sums = raked.groupby(var)["weight_raked"].sum()
        for level, total in targets.items():
            assert_close(sums[level], total)
    cell = raked.groupby(["stype", "sch.wide"])["weight_raked"].first()
    assert_close(cell[("H", "No")], 67.1255292413)


ERROR_CASES: list[tuple[list[str], str]] = [
    (["estimate", API, "--y", "nope", "--weight", "pw", "--out", "{tmp}/o.csv"], "column 'nope' not found"),
    (["estimate", API, "--y", "api00", "--weight", "stype", "--out", "{tmp}/o.csv"], "weight column 'stype'"),
    (["estimate", "{tmp}/missing.csv", "--y", "api00", "--weight", "pw", "--out", "{tmp}/o.csv"], "no such file"),
    (["estimate", "{tmp}/bad.csv", "--y", "api00", "--weight", "pw", "--out", "{tmp}/o.csv"], "cannot read"),
    (
        ["estimate", "{tmp}/holes.csv", "--y", "api00", "--weight", "pw", "--by", "stype", "--out", "{tmp}/o.csv"],
        "no observations of 'api00' in domain",
    ),
    (
        ["rake", API, "--weight", "pw", "--margins", "{tmp}/inconsistent.csv", "--out", "{tmp}/o.csv"],
        "inconsistent margin totals",
    ),
    (
        ["rake", API, "--weight", "pw", "--margins", "{tmp}/empty_level.csv", "--out", "{tmp}/o.csv"],
        "empty margin level",
    ),
    (["estimate", API, "--weight", "pw", "--out", "{tmp}/o.csv"], "required: --y"),
    (
        [
            "estimate",
            API,
            "--y",
            "api00",
            "--weight",
            "pw",
            "--strata",
            "stype",
            "--psu",
            "dnum",
            "--out",
            "{tmp}/o.csv",
        ],
        "not nested",
    ),
]


def _error_inputs(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_bytes(b'a,b\n"unterminated,1\n\xff\xfe')
    holes = pd.read_csv(API)
    holes.loc[holes["stype"] == "H", "api00"] = np.nan
    holes.to_csv(tmp_path / "holes.csv", index=False)
    pd.DataFrame(
        {
            "variable": ["stype", "stype", "stype", "sch.wide", "sch.wide"],
            "level": ["E", "H", "M", "No", "Yes"],
            "total": [4421, 755, 1018, 1072, 9999],
        }
    ).to_csv(tmp_path / "inconsistent.csv", index=False)
    pd.DataFrame({"variable": ["stype"] * 4, "level": ["E", "H", "M", "X"], "total": [4421, 755, 1018, 5]}).to_csv(
        tmp_path / "empty_level.csv", index=False
    )


@pytest.mark.parametrize(("args", "message"), ERROR_CASES)
def test_errors_are_one_line_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """In-process (fast): any exception escaping main() would fail the test."""
    _error_inputs(tmp_path)
    try:
        status = main([a.replace("{tmp}", str(tmp_path)) for a in args])
    except SystemExit as exc:  # argparse
        status = int(exc.code or 0)
    err = capsys.readouterr().err
    assert status != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert message in lines[0]


@pytest.mark.parametrize("case", [0, 2, 5])
def test_errors_in_a_subprocess(tmp_path: Path, case: int) -> None:
    """The real command: non-zero status, one line on stderr, no traceback."""
    _error_inputs(tmp_path)
    args, message = ERROR_CASES[case]
    res = run(*(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert message in lines[0]


def test_fay_herriot_command(tmp_path: Path) -> None:
    pytest.importorskip("analysis.sae")
    milk = pd.read_csv(DATA_DIR / "milk.csv").assign(var=lambda d: d["SD"] ** 2)
    src = tmp_path / "milk.csv"
    milk.to_csv(src, index=False)
    out, summary = tmp_path / "fh.csv", tmp_path / "fh.json"
    res = run(
        "fay-herriot",
        str(src),
        "--area",
        "SmallArea",
        "--estimate",
        "yi",
        "--variance",
        "var",
        "--covariates",
        "MajorArea",
        "--factor",
        "MajorArea",
        "--out",
        str(out),
        "--summary",
        str(summary),
    )
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out)
    assert list(table.columns) == ["area", "direct", "eblup", "mse", "gamma"]
    expected_eblup = [1.021970544151, 1.047601951442, 1.067951426304, 0.760816565089, 0.846157043779, 0.974372706113]
    expected_mse = [
        0.01346025645965,
        0.00537287973294,
        0.00570199471705,
        0.00854175201865,
        0.00957960971366,
        0.01167065781787,
    ]
    for i in range(6):
        assert_close(table["eblup"].iloc[i], expected_eblup[i], rtol=1e-6)
        assert_close(table["mse"].iloc[i], expected_mse[i], rtol=1e-6)
    info = json.loads(summary.read_text())
    assert set(info) >= {"sigma2_u", "beta", "loglik", "iterations"}
    assert_close(info["sigma2_u"], 0.0185503347628, rtol=1e-6)
    np.testing.assert_allclose(
        info["beta"], [0.968188986975, 0.132780305457, 0.226946224521, -0.241301039945], rtol=1e-6
    )
