"""The public API is pinned, and importing the library pulls in nothing from the web application."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import analysis

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
    "CalibratedWeights",
    "CalibrationError",
    "CalibrationRecord",
    "DesignError",
    "EmptyDomainError",
    "FayHerriotResult",
    "LonelyPSUError",
    "Margin",
    "ReplicateDesign",
    "SurveyDesign",
    "SurveyError",
    "TrimResult",
    "WeightSummary",
    "design_weights",
    "effective_sample_size",
    "fay_herriot",
    "kish_weighting_effect",
    "korn_graubard_interval",
    "logit_interval",
    "nonresponse_adjustment",
    "papi_component_score",
    "papi_dimension",
    "papi_total",
    "parse_margins",
    "poststratify_weights",
    "proportion_interval",
    "quality_flags",
    "rake_weights",
    "satisfied",
    "sipas_index",
    "t_interval",
    "trim_weights",
    "wald_interval",
    "weight_summary",
    "wilson_interval",
}


def test_all_is_pinned_and_importable() -> None:
    assert set(analysis.__all__) == EXPECTED
    assert len(analysis.__all__) == len(EXPECTED)
    for name in analysis.__all__:
        obj = getattr(analysis, name)
        assert obj.__doc__, f"{name} has no docstring"


def test_import_does_not_load_the_web_stack() -> None:
    code = "import sys, json, analysis, analysis.cli; print(json.dumps(sorted(sys.modules)))"
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(json.loads(res.stdout))
    for banned in ("survey_app", "fastapi", "sqlalchemy", "jinja2", "starlette", "pydantic"):
        assert not any(m == banned or m.startswith(banned + ".") for m in loaded), banned


def test_domains_when_every_key_is_missing_give_an_empty_table() -> None:
    """R's svyby drops rows whose ``by`` is NA; when that is every row there is no domain (not an IndexError)."""
    import numpy as np
    import pandas as pd

    from analysis import SurveyDesign

    data = pd.DataFrame({"y": [1.0, 0.0, 1.0, 0.0], "g": [np.nan] * 4, "w": 1.0, "s": ["a", "a", "b", "b"],
                         "p": ["1", "2", "3", "4"]})
    design = SurveyDesign(data, weights="w", strata="s", psu="p")
    table = design.mean("y", by="g")
    assert table.empty and {"g", "estimate", "se"} <= set(table.columns)
    assert len(design.mean("y", by=None)) == 1
