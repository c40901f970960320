"""The analyst console: alerts and verdicts, incidents from alerts with their blast radius,
notification previews (masked), remediation, the agent page and containment, the ledger.

A real alert: a small nobelium simulation (6 agents, May 8-29 2021) is simulated and
detected once per session on SQLite; each test that needs it ingests the same log into
its own store (either engine) and records the detected alert there.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from tests.console.conftest import csrf_of, sign_in
from tests.console.world import BOB_EMAIL, PASSWORD, Login
from vigile.console.accounts import ConsoleAccounts
from vigile.detect import Alert, AlertBook, AlertStatus, detect
from vigile.ingest import ingest_file
from vigile.ledger import load_verifier, verify_inclusion_bundle
from vigile.ledger.service import Ledger, public_key_path
from vigile.model import Access, Action, Reason
from vigile.policy.masking import SENSITIVE_FIELDS
from vigile.respond import Incidents, blast_radius
from vigile.settings import Settings
from vigile.simulate import SimulationConfig, simulate
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect
from vigile.transparency import Transparency, issue_token

SIMULATION = SimulationConfig(
    scenario="nobelium", seed=5, days=22, agents=6, start=date(2021, 5, 8)
)


@dataclass(frozen=True, kw_only=True)
class Detected:
    """The simulation's log, its answer key, and the alerts detection raised on it."""

    log: Path
    truth: dict[str, Any]
    alerts: list[Alert]

    @property
    def attacker(self) -> str:
        return str(self.truth["compromised_agents"][0])


@pytest.fixture(scope="session")
def detected(tmp_path_factory: pytest.TempPathFactory) -> Detected:
    folder = tmp_path_factory.mktemp("analyst-nobelium")
    result = simulate(SIMULATION, folder, workers=1)
    settings = Settings(db=str(folder / "vigile.db"), ledger_key=str(folder / "ledger.key"))
    with Store.open(settings, create=True) as store:
        ingest_file(store, result.path, parallel=False)
        alerts = detect(store.engine)
    return Detected(
        log=result.path, truth=orjson.loads(result.truth_path.read_bytes()), alerts=alerts
    )


@pytest.fixture
def alert(store: Store, detected: Detected) -> Alert:
    """The attacker's alert, recorded in this test's store. Ask for it before ``client``:
    the simulation is ingested before the console's organisation is."""
    ingest_file(store, detected.log, parallel=False)
    [recorded] = AlertBook(store.engine).record(
        a for a in detected.alerts if a.agent == detected.attacker
    )
    return recorded


def _post(client: TestClient, path: str, page: str, **data: str) -> Any:
    return client.post(path, data={"csrf": csrf_of(page), **data}, follow_redirects=False)


# -- alerts ---------------------------------------------------------------------------


def test_the_alerts_page_lists_the_detected_alert_with_its_reasons(
    alert: Alert, client: TestClient, logins: dict[str, Login], detected: Detected
) -> None:
    page = sign_in(client, logins["analyst"])  # the analyst lands on the alerts
    assert f'id="alert-{alert.id}"' in page
    assert f'href="/console/analyst/agents/{detected.attacker}"' in page
    assert f'severity-{alert.severity.value}">{alert.severity.value}<' in page
    assert f"score {alert.score:.1f}" in page
    assert "without a valid ticket" in page  # reasons in plain language
    assert "2021-05-16" in page  # first seen
    assert "Open an incident" in page


def test_analyst_feedback_changes_the_alert_status_and_is_kept(
    alert: Alert, client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    page = sign_in(client, logins["analyst"])
    path = f"/console/analyst/alerts/{alert.id}/status"
    # htmx sends the token as a header (hx-headers on the body) and gets the card back
    answer = client.post(
        path,
        data={"status": "acknowledged"},
        headers={"X-CSRF-Token": csrf_of(page), "HX-Request": "true"},
        follow_redirects=False,
    )
    assert answer.status_code == 200
    assert answer.text.startswith(f'<article class="card alert" id="alert-{alert.id}">')
    assert "status-acknowledged" in answer.text
    assert "acknowledged" in client.get("/console/analyst").text
    assert _post(client, path, page, status="closed_benign").status_code == 303
    assert f'id="alert-{alert.id}"' not in client.get("/console/analyst").text
    assert "closed benign" in client.get("/console/analyst?closed=true").text
    [stored] = AlertBook(store.engine).alerts(include_closed=True)
    assert stored.status is AlertStatus.BENIGN
    history = t.detect_alert_history
    with connect(store.engine) as conn:
        rows = conn.execute(select(history.c.status, history.c.actor).order_by(history.c.id)).all()
    assert [tuple(r) for r in rows][-2:] == [("acknowledged", "sam"), ("closed_benign", "sam")]
    assert _post(client, path, page, status="deleted").status_code == 404


# -- incidents ------------------------------------------------------------------------


def _open_incident(client: TestClient, page: str, alert: Alert) -> str:
    answer = _post(client, f"/console/analyst/alerts/{alert.id}/incident", page)
    assert answer.status_code == 303
    return str(answer.headers["location"])


def test_an_incident_opened_from_an_alert_shows_its_blast_radius(
    alert: Alert, client: TestClient, logins: dict[str, Login], store: Store, detected: Detected
) -> None:
    page = sign_in(client, logins["analyst"])
    location = _open_incident(client, page, alert)
    assert location == "/console/analyst/incidents/INC-0001"
    assert _open_incident(client, page, alert) == location  # once per alert
    incident = client.get(location)
    assert incident.status_code == 200
    html = incident.text
    table = html[
        html.index('id="blast-radius"') : html.index("</table>", html.index("blast-radius"))
    ]
    listed = set(re.findall(r"<td>(c-\d+)</td>", table))
    attacked = set(detected.truth["attacks"][0]["customers"])
    assert attacked <= listed
    radius_customers = int(re.search(r'id="customers-reached">(\d+)<', html).group(1))  # type: ignore[union-attr]
    assert radius_customers == len(listed)
    tiers = _bars(html, "Affected customers by tier")
    assert sum(tiers.values()) == len(listed)
    assert sum(_bars(html, "Affected customers by country").values()) == len(listed)
    assert "suspend-agent:" + detected.attacker in html
    assert "incident.opened" in html  # the timeline
    assert f'hx-get="{location}/notifications"' in html
    _assert_no_contact_value_in_clear(store, listed, html)
    previews = client.get(f"{location}/notifications")
    assert previews.status_code == 200
    assert "nothing is sent from this page" in previews.text
    assert re.search(r"<summary>(English|French): c-\d+ — ", previews.text)
    notified = set(re.findall(r"<tr><td>(c-\d+)</td><td>(?:en|fr)</td>", previews.text))
    assert attacked <= notified <= listed
    assert re.search(r"<td>\w\*\*\*@[\w.-]+", previews.text)  # recipients, masked
    _assert_no_contact_value_in_clear(store, listed, previews.text)
    fragment = client.get(f"{location}/notifications", headers={"HX-Request": "true"})
    assert fragment.text.startswith('<section class="card" id="notifications-card">')
    assert not list(Path(store.settings.notify_outbox).glob("**/*.eml"))  # nothing written
    assert client.get("/console/analyst/incidents").text.count("INC-0001") >= 1


def _bars(html: str, label: str) -> dict[str, int]:
    """The bars of the chart named ``label``: {name: count}."""
    start = html.index(f'aria-label="{label}"')
    svg = html[html.rindex("<svg", 0, start) : html.index("</svg>", start) + 6]
    root = ET.fromstring(svg)
    return {
        rect.attrib["data-label"]: int(rect.attrib["data-count"])
        for rect in root.iter("{http://www.w3.org/2000/svg}rect")
        if "data-count" in rect.attrib
    }


def _assert_no_contact_value_in_clear(store: Store, customers: set[str], html: str) -> None:
    values = [
        value
        for customer in customers
        for contact in store.contacts_of(customer)
        for value in (contact.email, contact.phone)
        if value
    ]
    assert values, "the attacked customers have contacts"
    leaked = [value for value in values if value in html]
    assert leaked == []


def test_apply_asks_for_confirmation_then_suspends_the_agent_through_the_broker(
    alert: Alert, client: TestClient, logins: dict[str, Login], store: Store, detected: Detected
) -> None:
    page = sign_in(client, logins["analyst"])
    location = _open_incident(client, page, alert)
    apply = f"{location}/apply"
    question = _post(client, apply, page)
    assert question.status_code == 200
    assert "Yes, apply" in question.text
    assert f"suspend-agent:{detected.attacker}" in question.text
    broker = client.app.state.broker  # type: ignore[attr-defined]
    assert broker.containment.suspension_of(detected.attacker) is None  # not before confirming
    done = _post(client, apply, page, confirm="yes")
    assert done.status_code == 303
    assert broker.containment.suspension_of(detected.attacker) is not None
    after = client.get(done.headers["location"]).text
    assert "Remediation applied" in after
    assert "agent.suspended" in after
    timeline = Incidents(store).timeline("INC-0001")
    suspended = [e for e in timeline if e.action == "agent.suspended"]
    assert [e.actor for e in suspended] == ["sam"]


# -- analysts' reads are accesses ---------------------------------------------------
# An analyst reading customer data is a person reading it: each page view records one
# access per customer it shows (the incident as justification) before the page is sent,
# and the customer sees it in its transparency log with its proof.


def _reads(store: Store, analyst: str = "sam") -> list[Access]:
    """The analyst's accesses, in the order of recording."""
    since, until = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    events = store.events_of_agent(analyst, since, until)
    return [e for e in events if isinstance(e, Access)]


def _analyst_session(store: Store) -> tuple[str, str]:
    """The session and address of the analyst's console sign-in (its broker session)."""
    s = t.signins
    with connect(store.engine) as conn:
        row = conn.execute(select(s.c.session, s.c.ip).where(s.c.agent == "sam")).one()
    return row.session, row.ip


def _assert_justified_by(read: Access, incident: str, store: Store) -> None:
    assert (read.action, read.outcome) == (Action.CUSTOMER_VIEW, "allowed")
    assert (read.reason, read.ticket) == (Reason.AGENT_INITIATED_REVIEW, None)
    assert read.extra == {"incident": incident}
    assert (read.session, read.ip) == _analyst_session(store)


def test_the_notification_previews_record_one_access_per_customer_shown(
    alert: Alert, client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    page = sign_in(client, logins["analyst"])
    location = _open_incident(client, page, alert)
    assert _reads(store) == []  # the incident page is loaded below, on its own
    previews = client.get(f"{location}/notifications")
    assert previews.status_code == 200
    listed = re.findall(r"<tr><td>(c-\d+)</td><td>(?:en|fr)</td>", previews.text)
    sampled = re.findall(r"<summary>(?:English|French): (c-\d+) — ", previews.text)
    assert len(listed) > 10
    assert sampled
    reads = _reads(store)
    assert sorted(r.customer or "" for r in reads) == sorted(listed)  # one each, no more
    scope = Incidents(store).get("INC-0001").scope
    radius = {c.customer: c for c in blast_radius(store, scope).customers}
    for read in reads:
        _assert_justified_by(read, "INC-0001", store)
        assert read.customer is not None
        if read.customer not in sampled:  # a row: the subject (its name), masked recipients
            assert (read.fields, read.masked_fields) == (("customer.name",), ("contact.email",))
            continue
        # The whole message: its name, the exposed contacts and usernames it quotes.
        exposure = radius[read.customer]
        contacts = [c for c in store.contacts_of(read.customer) if c.id in exposure.contacts]
        accounts = [a for a in store.accounts_of(read.customer) if a.id in exposure.accounts]
        clear = {"customer.name"}
        clear |= {"contact.name"} if any(c.name for c in contacts) else set()
        clear |= {"contact.role"} if any(c.role for c in contacts) else set()
        clear |= {"account.username"} if accounts else set()
        assert set(read.fields) == clear
        assert "contact.email" in read.masked_fields
        assert not set(read.fields) & set(read.masked_fields)
    # A second view is a second read.
    client.get(f"{location}/notifications", headers={"HX-Request": "true"})
    assert len(_reads(store)) == 2 * len(listed)


def test_the_customer_sees_the_analysts_read_with_the_incident_and_its_proof(
    alert: Alert, client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    page = sign_in(client, logins["analyst"])
    location = _open_incident(client, page, alert)
    client.get(f"{location}/notifications")
    reads = {r.customer: r for r in _reads(store)}
    Ledger(store.engine, store.settings).checkpoint()
    service = Transparency(store)
    verifier = load_verifier(public_key_path(store.settings))
    for customer, read in reads.items():
        assert customer is not None
        listing = service.accesses(customer)
        [entry] = [e for e in listing.entries if e.event_id == read.id]
        assert (entry.agent, entry.incident, entry.reason) == (
            "sam",
            "INC-0001",
            Reason.AGENT_INITIATED_REVIEW,
        )
        assert entry.fields == read.fields
        assert entry.proof.status.value == "included"
        assert entry.proof.bundle is not None
        assert entry.proof.bundle.leaf is not None
        verify_inclusion_bundle(
            verifier=verifier, checkpoint_note=listing.checkpoint, bundle=entry.proof.bundle
        )
        assert orjson.loads(entry.proof.bundle.leaf)["incident"] == "INC-0001"
    # Through the API, with the customer's token, and in the customer's portal.
    customer = sorted(c for c in reads if c is not None)[0]
    token = issue_token(store.engine, customer).token
    answer = client.get(
        "/v1/transparency/accesses", headers={"Authorization": f"Bearer {token}"}
    ).json()
    [listed] = [a for a in answer["accesses"] if a["event_id"] == reads[customer].id]
    assert listed["justification"] == {
        "reason": "agent_initiated_review",
        "ticket": None,
        "incident": "INC-0001",
    }
    assert listed["proof"]["status"] == "included"
    account = ConsoleAccounts(store).add(
        "their-approver", role="customer", subject=customer, password=PASSWORD
    )
    portal = sign_in(client, Login("their-approver", PASSWORD, account.totp_secret))
    row = portal[portal.index(f'id="access-{reads[customer].id}"') :].split("</tr>")[0]
    assert "incident <strong" in row
    assert "INC-0001" in row
    assert ">verified<" in row


def test_the_incident_page_records_the_tier_and_country_it_shows_of_each_customer(
    alert: Alert, client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    page = sign_in(client, logins["analyst"])
    location = _open_incident(client, page, alert)
    html = client.get(location).text
    table = html[
        html.index('id="blast-radius"') : html.index("</table>", html.index("blast-radius"))
    ]
    listed = re.findall(r"<td>(c-\d+)</td>", table)
    reads = _reads(store)
    assert sorted(r.customer or "" for r in reads) == sorted(listed)
    for read in reads:
        _assert_justified_by(read, "INC-0001", store)
        customer = store.customer(read.customer or "")
        assert customer is not None
        shown = {"customer.tier": customer.tier, "customer.country": customer.country}
        assert set(read.fields) == {name for name, value in shown.items() if value}
        assert read.masked_fields == ()


def _refuse_accesses(store: Store) -> None:
    """The store refuses every new access from now on (a full disk, a revoked grant...)."""
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'no more accesses'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON accesses "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON accesses "
                    "BEGIN SELECT RAISE(ABORT, 'no more accesses'); END"
                )
            )


@pytest.mark.parametrize("page", ["", "/notifications"])
def test_an_analyst_page_whose_reads_cannot_be_recorded_shows_nothing(
    page: str, alert: Alert, client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    home = sign_in(client, logins["analyst"])
    location = _open_incident(client, home, alert)
    _refuse_accesses(store)
    for headers in ({}, {"HX-Request": "true"}):
        answer = client.get(location + page, headers=headers)
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("text/html")
        assert "Traceback" not in answer.text
        assert "no more accesses" not in answer.text
        assert not re.search(r"c-\d{5}", answer.text)  # not one customer
        assert 'id="blast-radius"' not in answer.text
        assert 'id="notifications"' not in answer.text
    assert _reads(store) == []


# -- the agent page -------------------------------------------------------------------


def test_the_agent_page_charts_every_access_of_the_window(
    alert: Alert, client: TestClient, logins: dict[str, Login], store: Store, detected: Detected
) -> None:
    sign_in(client, logins["analyst"])
    agent = detected.attacker
    page = client.get(f"/console/analyst/agents/{agent}", params={"end": "2021-05-31", "days": 25})
    assert page.status_code == 200
    svg = page.text[page.text.index("<svg") : page.text.index("</svg>") + 6]
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    drawn: Counter[str] = Counter()
    for bar in root.iter(f"{ns}rect"):
        if "data-count" in bar.attrib:
            drawn[bar.attrib["class"]] += int(bar.attrib["data-count"])
    a = t.accesses
    with connect(store.engine) as conn:
        rows = conn.execute(select(a.c.outcome, a.c.fields).where(a.c.agent == agent)).all()
    assert drawn == Counter(_kind(outcome, fields) for outcome, fields in rows)
    assert min(drawn[kind] for kind in ("clear", "masked", "denied")) > 0
    assert [r for r in root.iter(f"{ns}rect") if "data-hours" in r.attrib]  # anomalous hours
    countries = {g.attrib["data-country"] for g in root.iter(f"{ns}g")}
    assert "SG" in countries  # the intruder's sign-ins (the alert's reasons name SG)
    assert 'id="signins"' in page.text
    assert "Suspend the agent" in page.text
    default = client.get(f"/console/analyst/agents/{agent}")
    assert "2021-05-15" in default.text  # the default window: the alert's, a day before


def _kind(outcome: str, fields: str) -> str:
    """The slow reference of the chart's SQL: what one access counts as."""
    if outcome != "allowed":
        return "denied"
    return "clear" if SENSITIVE_FIELDS & set(orjson.loads(fields)) else "masked"


def test_suspend_from_the_agent_page_denies_the_agents_requests(
    client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    page = sign_in(client, logins["analyst"])
    answer = _post(client, "/console/analyst/agents/a-1/suspend", page, reason="hijacked?")
    assert answer.status_code == 303
    assert "Suspended" in client.get(answer.headers["location"]).text
    sign_in(client, logins["agent"])
    denied = client.get(
        "/console/agent/customers/c-1",
        params={"ticket": "T-1", "reason": "customer_initiated_support"},
    )
    assert denied.status_code == 403
    assert BOB_EMAIL not in denied.text
    a = t.accesses
    with connect(store.engine) as conn:
        outcomes = conn.execute(select(a.c.outcome).where(a.c.agent == "a-1")).scalars().all()
    assert outcomes == ["denied"]
    page = sign_in(client, logins["analyst"])
    assert _post(client, "/console/analyst/agents/a-1/resume", page).status_code == 303
    sign_in(client, logins["agent"])
    allowed = client.get(
        "/console/agent/customers/c-1",
        params={"ticket": "T-1", "reason": "customer_initiated_support"},
    )
    assert allowed.status_code == 200


def test_a_suspended_analyst_is_signed_out_of_every_analyst_page(
    client: TestClient, logins: dict[str, Login]
) -> None:
    sign_in(client, logins["analyst"])
    assert client.get("/console/analyst/incidents").status_code == 200
    broker = client.app.state.broker  # type: ignore[attr-defined]
    broker.suspend("sam", "hijacked analyst account", actor="sup-1")
    for path in ("/console/analyst", "/console/analyst/incidents", "/console/analyst/ledger"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/console/login")


# -- the ledger -----------------------------------------------------------------------


def test_verify_says_ok_then_names_the_tampered_entry(
    client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    Ledger(store.engine, store.settings).checkpoint()
    page = sign_in(client, logins["analyst"])
    status = client.get("/console/analyst/ledger")
    assert "Latest signed checkpoint" in status.text
    assert 'id="checkpoint"' in status.text
    ok = _post(client, "/console/analyst/ledger/verify", page)
    assert ok.status_code == 200
    assert "<strong>OK</strong>" in ok.text
    e = t.ticket_events
    with connect(store.engine) as conn:
        seq, event_id = conn.execute(
            select(e.c.seq, e.c.id).where(e.c.ticket == "T-1", e.c.event == "assigned")
        ).one()
    _tamper(store, "UPDATE ticket_events SET agent = 'a-2' WHERE ticket = 'T-1' AND "
            "event = 'assigned'")  # fmt: skip
    bad = _post(client, "/console/analyst/ledger/verify", page)
    assert "Ledger tampered" in bad.text
    swapped = client.post(
        "/console/analyst/ledger/verify",
        headers={"X-CSRF-Token": csrf_of(page), "HX-Request": "true"},
    )
    assert swapped.text.startswith('<section class="card" id="verification">')
    assert f"at entry {seq}:" in swapped.text
    assert f"at entry {seq}:" in bad.text
    assert event_id in bad.text


def _tamper(store: Store, statement: str) -> None:
    """As a database owner could: the append-only triggers off, then a change."""
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE ticket_events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS ticket_events_no_update"))
        conn.execute(text(statement))


# -- who may do what ------------------------------------------------------------------

PAGES = (
    "/console/analyst",
    "/console/analyst?closed=true",
    "/console/analyst/agents/a-1",
    "/console/analyst/incidents",
    "/console/analyst/incidents/INC-0001",
    "/console/analyst/incidents/INC-0001/notifications",
    "/console/analyst/ledger",
)
POSTS = (
    "/console/analyst/alerts/1/status",
    "/console/analyst/alerts/1/incident",
    "/console/analyst/agents/a-1/suspend",
    "/console/analyst/incidents/INC-0001/apply",
    "/console/analyst/ledger/verify",
)


@pytest.mark.parametrize("role", ["agent", "customer"])
def test_every_analyst_page_refuses_the_other_roles(
    role: str, client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    home = sign_in(client, logins[role])
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    for path in POSTS:
        answer = _post(client, path, home, status="acknowledged", confirm="yes")
        assert answer.status_code == 403, path
    with connect(store.engine) as conn:
        assert conn.execute(select(func.count()).select_from(t.broker_suspensions)).scalar() == 0


def test_a_post_without_the_csrf_token_is_refused(
    client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    sign_in(client, logins["analyst"])
    for path in POSTS:
        answer = client.post(path, data={"status": "acknowledged"}, follow_redirects=False)
        assert answer.status_code == 403, path
        assert "expired" in answer.text
    broker = client.app.state.broker  # type: ignore[attr-defined]
    assert broker.containment.suspension_of("a-1") is None


def test_what_does_not_exist_is_a_404_page(client: TestClient, logins: dict[str, Login]) -> None:
    page = sign_in(client, logins["analyst"])
    for answer in (
        client.get("/console/analyst/agents/nobody"),
        client.get("/console/analyst/incidents/INC-9999"),
        client.get("/console/analyst/incidents/INC-9999/notifications"),
        _post(client, "/console/analyst/alerts/999/status", page, status="acknowledged"),
        _post(client, "/console/analyst/alerts/999/incident", page),
        _post(client, "/console/analyst/incidents/INC-9999/apply", page, confirm="yes"),
        _post(client, "/console/analyst/agents/nobody/suspend", page),
    ):
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert "Not found" in answer.text
        assert "Traceback" not in answer.text


def test_an_empty_console_says_so(client: TestClient, logins: dict[str, Login]) -> None:
    page = sign_in(client, logins["analyst"])
    assert "No open alert" in page
    assert "No incident yet" in client.get("/console/analyst/incidents").text
    ledger = client.get("/console/analyst/ledger").text
    assert "Verify now" in ledger
    agent = client.get("/console/analyst/agents/a-1")
    assert agent.status_code == 200
    assert "<svg" in agent.text
