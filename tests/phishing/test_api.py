"""``POST /v1/mail/check``: the gateway's credential, the body's bounds, the one error
shape, malformed messages (Hypothesis), and a bounded load over loopback."""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.phishing.conftest import DATA
from tests.phishing.honest import honest_messages
from tests.serving import serve
from vigile.api.app import create_app
from vigile.ingest import ingest_file
from vigile.respond import Incidents, Scope
from vigile.settings import Settings
from vigile.store import Store

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

GOLDEN = Path(__file__).parent / "golden"
CREDENTIAL = "vgmg_test-gateway"
AUTH = {"Authorization": f"Bearer {CREDENTIAL}", "Content-Type": "message/rfc822"}


def _settings(folder: Path) -> Settings:
    return Settings(
        db=str(folder / "vigile.db"),
        ledger_key=str(folder / "ledger.key"),
        broker_token_key=str(folder / "broker.key"),
        phish_provider_domains="vigile.example",
        phish_provider_names="Vigile",
        phish_gateway_token=hashlib.sha256(CREDENTIAL.encode()).hexdigest(),
        serve_mail_body_bytes=65_536,
    )


@pytest.fixture(scope="module")
def served_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("mailapi")
    chosen = _settings(folder)
    with Store.open(chosen, create=True) as store:
        ingest_file(store, DATA)
        scope = Scope(
            agents=("a-0017",),
            since=datetime(2021, 5, 20, tzinfo=UTC),
            until=datetime(2021, 5, 31, tzinfo=UTC),
        )
        Incidents(store).open(title="Takeover", scope=scope, actor="ana")
    return chosen


@pytest.fixture(scope="module")
def client(served_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(served_settings)) as opened:
        yield opened


def test_a_phishing_message(client: TestClient) -> None:
    raw = (GOLDEN / "fr-targeted.eml").read_bytes()
    answer = client.post("/v1/mail/check", content=raw, headers=AUTH)
    assert answer.status_code == 200
    body = answer.json()
    assert body["verdict"] == "phishing"
    assert body["sender"] == "factures@vigile-facturation.example"
    kinds = {s["kind"] for s in body["signals"]}
    assert {"watched-recipient", "quoted-facts", "payment-change"} <= kinds


def test_envelope_recipients(client: TestClient) -> None:
    raw = (GOLDEN / "en-display-name.eml").read_bytes()
    answer = client.post(
        "/v1/mail/check", params={"rcpt": "bob@ministry.example"}, content=raw, headers=AUTH
    )
    assert "watched-recipient" in {s["kind"] for s in answer.json()["signals"]}


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "message/rfc822"},
        {"Authorization": "Bearer wrong", "Content-Type": "message/rfc822"},
        {"Authorization": "Basic eDp5", "Content-Type": "message/rfc822"},
    ],
)
def test_the_gateway_credential_is_needed(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.post("/v1/mail/check", content=b"Subject: x\r\n\r\nhi", headers=headers)
    assert answer.status_code == 401
    assert set(answer.json()["error"]) == {"code", "message", "request_id"}


def test_without_a_configured_credential_everyone_is_refused(tmp_path: Path) -> None:
    chosen = _settings(tmp_path)
    unset = Settings(**{**{f: getattr(chosen, f) for f in ("db", "ledger_key")}})
    with Store.open(unset, create=True), TestClient(create_app(unset)) as local:
        answer = local.post("/v1/mail/check", content=b"Subject: x\r\n\r\n", headers=AUTH)
    assert answer.status_code == 401


def test_an_empty_body(client: TestClient) -> None:
    answer = client.post("/v1/mail/check", content=b"  \r\n", headers=AUTH)
    assert answer.status_code == 422
    assert "empty" in answer.json()["error"]["message"]


def test_a_body_over_the_limit(client: TestClient) -> None:
    answer = client.post("/v1/mail/check", content=b"x" * 70_000, headers=AUTH)
    assert answer.status_code == 413
    assert set(answer.json()["error"]) == {"code", "message", "request_id"}


def test_a_nul_byte_is_read_like_any_other(client: TestClient) -> None:
    answer = client.post("/v1/mail/check", content=b"Subject: a\x00b\r\n\r\n\x00", headers=AUTH)
    assert answer.status_code == 200


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.one_of(
        st.binary(min_size=1, max_size=2048),
        st.builds(
            lambda seed, cut, junk: seed[:cut] + junk + seed[cut:],
            st.just((GOLDEN / "en-targeted.eml").read_bytes()),
            st.integers(0, 1500),
            st.binary(max_size=64),
        ),
    )
)
def test_malformed_messages_are_answered(client: TestClient, raw: bytes) -> None:
    answer = client.post("/v1/mail/check", content=raw, headers=AUTH)
    assert answer.status_code in (200, 422), answer.text
    if answer.status_code == 200:
        assert answer.json()["verdict"] in ("clean", "suspicious", "phishing")


@pytest.mark.slow
def test_a_bounded_load_over_loopback(served_settings: Settings, tmp_path: Path) -> None:
    """A real ``vigile serve``: 400 messages from 8 clients; every one answered, the
    server's memory bounded, and a rate no worse than 50 messages a second (the machine
    is shared; the benchmark measures the check itself)."""
    messages = [raw for _, raw in honest_messages(40)] + [
        p.read_bytes() for p in sorted(GOLDEN.glob("*.eml"))
    ]
    env = {
        "VIGILE_PHISH_GATEWAY_TOKEN": served_settings.phish_gateway_token,
        "VIGILE_PHISH_PROVIDER_DOMAINS": "vigile.example",
        "VIGILE_SERVE_MAIL_BODY_BYTES": "65536",
    }
    with serve(served_settings, tmp_path / "serve.log", env) as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            http.post("/v1/mail/check", content=messages[0], headers=AUTH)  # builds the guard
            before = server.peak_rss()

            def one(index: int) -> int:
                raw = messages[index % len(messages)]
                return http.post("/v1/mail/check", content=raw, headers=AUTH).status_code

            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                codes = list(pool.map(one, range(400)))
            elapsed = time.perf_counter() - started
        assert codes == [200] * 400
        assert 400 / elapsed >= 50, f"{400 / elapsed:.0f} messages/s"
        assert server.peak_rss() - before < 100 * 1024 * 1024
        assert server.alive()
