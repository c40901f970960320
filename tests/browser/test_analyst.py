"""In Chromium: an analyst opens an incident from a real alert and sees its blast radius.

The alert is real: a small nobelium simulation (6 agents, May 8-29 2021) is ingested and
detection runs over it before the console's organisation is added.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import orjson
import pytest

from tests.browser.conftest import Served, serving, shoot, sign_in
from vigile.detect import AlertBook, detect
from vigile.ingest import ingest_file
from vigile.simulate import SimulationConfig, simulate
from vigile.store import Store

pytestmark = pytest.mark.browser
SIMULATION = SimulationConfig(
    scenario="nobelium", seed=5, days=22, agents=6, start=date(2021, 5, 8)
)


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, str]]:
    """The app over a store where detection raised an alert on the hijacked agent; and
    that agent's id."""
    folder = tmp_path_factory.mktemp("browser-nobelium")
    result = simulate(SIMULATION, folder / "simulation", workers=1)
    attacker = str(orjson.loads(result.truth_path.read_bytes())["compromised_agents"][0])

    def prepare(store: Store) -> None:
        ingest_file(store, result.path, parallel=False)
        AlertBook(store.engine).record(a for a in detect(store.engine) if a.agent == attacker)

    with serving(folder / "app", prepare) as app:
        yield app, attacker


def test_an_analyst_opens_an_incident_from_an_alert_and_sees_its_blast_radius(
    new_page: Callable[[str], Any], attacked: tuple[Served, str], expect: Any
) -> None:
    served, attacker = attacked
    page = new_page(served.url)
    sign_in(page, served.logins["analyst"])
    alert = page.locator("article.alert", has_text=attacker).first
    expect(alert).to_be_visible()
    expect(alert.locator(".reasons li").first).to_be_visible()
    shoot(page, "analyst-1-alerts")

    alert.get_by_role("button", name="Open an incident").click()
    expect(page).to_have_url(re.compile(r"/console/analyst/incidents/[^/]+$"))
    radius = page.locator("#blast-radius tbody tr")
    expect(radius.first).to_be_visible()
    assert radius.count() >= 1
    assert "No allowed access" not in radius.first.inner_text()
    assert int(page.locator("#customers-reached").inner_text()) == radius.count()
    expect(page.locator("figure.bars svg").first).to_be_visible()  # by tier, by country
    shoot(page, "analyst-2-incident")
    page.locator("#blast-radius").scroll_into_view_if_needed()
    shoot(page, "analyst-3-blast-radius")
