"""Monitoring as code: the Prometheus configuration and rules are valid, the alert rules pass their unit
tests, and every metric the dashboard and the rules read exists in a real scrape of a running server."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.tools import MONITORING, run, tool
from tests.e2e.server import Server, serve
from tests.fixtures.fake_dictionary import FakeDictionary, Mode
from tests.fixtures.fake_metaphorpsum import FakeMetaphorpsum

# Our metric names and the process collector's; PromQL functions and label names never look like these.
METRIC_NAME = re.compile(r"\b(?:paragraphs|process|python)_[a-z0-9_]+\b")
# Exported by the worker's metrics port only; tests/e2e/test_worker_metrics.py scrapes a real worker for it.
WORKER_ONLY = {"paragraphs_queue_depth"}


def promtool() -> str:
    return tool("promtool", "apt-get install prometheus")


class TestPrometheusFiles:
    def test_configuration_and_rules_are_valid(self) -> None:
        checked = run([promtool(), "check", "config", "prometheus.yml"], MONITORING)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        rules = run([promtool(), "check", "rules", "alerts.yml"], MONITORING)
        assert rules.returncode == 0, rules.stdout + rules.stderr
        assert "SUCCESS: 10 rules found" in rules.stdout

    def test_alert_rules_pass_their_unit_tests(self) -> None:
        tested = run([promtool(), "test", "rules", "alerts.test.yml"], MONITORING)
        assert tested.returncode == 0, tested.stdout + tested.stderr
        assert "SUCCESS" in tested.stdout

    def test_every_alert_has_a_unit_test_and_an_entry_in_the_operator_docs(self) -> None:
        alerts = {
            rule["alert"]
            for group in yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"]
            for rule in group["rules"]
        }
        tests = yaml.safe_load((MONITORING / "alerts.test.yml").read_text())["tests"]
        tested = {case["alertname"] for test in tests for case in test["alert_rule_test"] if case["exp_alerts"]}
        assert alerts == tested
        operations = (MONITORING.parents[1] / "docs" / "operations.md").read_text()
        assert [alert for alert in sorted(alerts) if f"`{alert}`" not in operations] == []


def dashboard_queries() -> dict[str, list[str]]:
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "paragraphs.json").read_text())
    return {panel["title"]: [target["expr"] for target in panel["targets"]] for panel in dashboard["panels"]}


def alert_queries() -> dict[str, list[str]]:
    groups = yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"]
    return {rule["alert"]: [rule["expr"]] for group in groups for rule in group["rules"]}


@pytest.fixture(scope="module")
def scraped_names(tmp_path_factory: pytest.TempPathFactory) -> Iterator[set[str]]:
    """Sample names of a real /metrics scrape after traffic touching every feature."""
    directory: Path = tmp_path_factory.mktemp("scrape")
    metaphorpsum = FakeMetaphorpsum(seed=5)
    dictionary = FakeDictionary()
    # `the` (in every top-words list) is refused with a 429, so the scrape has the third-party 429 counter;
    # the offline dictionary stands in for it.
    dictionary.word_modes["the"] = Mode.RATE_LIMITED
    with metaphorpsum.running(), dictionary.running():
        settings = {
            "PARAGRAPHS_DATABASE_URL": f"sqlite:///{directory / 'paragraphs.db'}",
            "PARAGRAPHS_METAPHORPSUM_URL": metaphorpsum.url,
            "PARAGRAPHS_DICTIONARY_URL": dictionary.url,
            "PARAGRAPHS_RATE_LIMIT_SEARCH": "3/hour",
        }
        with serve(settings, directory) as server:
            yield _scrape_after_traffic(server)


def _scrape_after_traffic(server: Server) -> set[str]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.post("/fetch").status_code == 201
        assert http.post("/paragraphs", json={"content": "the apple pie"}).status_code == 201
        searches = [http.get("/search", params={"words": "apple", "operator": "and"}).status_code for _ in range(4)]
        assert searches == [200, 200, 200, 429]
        assert http.get("/dictionary", params={"limit": 3}).status_code == 200
        assert http.get("/paragraphs/999999").status_code == 404
        assert http.get("/health/ready").status_code == 200
        # The warm-up job the writes sent runs in the background: wait (bounded) for its outcome.
        deadline = time.monotonic() + 60
        while "paragraphs_jobs_total{" not in (text := http.get("/metrics").text):
            assert time.monotonic() < deadline, "no job outcome in /metrics within 60 s"
            time.sleep(0.2)
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


@pytest.mark.e2e
class TestQueriesReadRealMetrics:
    @pytest.mark.parametrize(("title", "queries"), sorted(dashboard_queries().items()))
    def test_dashboard_panel(self, title: str, queries: list[str], scraped_names: set[str]) -> None:
        names = {name for query in queries for name in METRIC_NAME.findall(query)}
        assert names, f"panel {title!r} reads no metric of ours"
        assert sorted(names - scraped_names - WORKER_ONLY) == []

    @pytest.mark.parametrize(("alert", "queries"), sorted(alert_queries().items()))
    def test_alert_rule(self, alert: str, queries: list[str], scraped_names: set[str]) -> None:
        names = {name for query in queries for name in METRIC_NAME.findall(query)}
        assert sorted(names - scraped_names - WORKER_ONLY) == []
