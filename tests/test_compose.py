"""No Docker engine runs here, so check the compose file's structure instead of running it."""

import re

import yaml

from survey_app.config import PROJECT_ROOT


def test_compose_names_the_three_services_in_order() -> None:
    text = (PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    services = data["services"]
    assert set(services) == {"db", "migrate", "web"}
    assert "healthcheck" in services["db"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["survey-app", "init"]
    env = services["web"]["environment"]
    assert env["SURVEY_DATABASE_URL"].startswith("postgresql+psycopg://")
    for var in ("POSTGRES_PASSWORD", "SURVEY_SECRET_KEY", "SURVEY_BASE_URL"):
        assert re.search(r"\$\{" + var + r":\?[^}]+\}", text), var
