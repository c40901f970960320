"""What a customer may see of one access: pure rules, no store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigile.model import Access, Action, Agent, Reason
from vigile.transparency import AccessProof, ProofStatus, WindowError, entry_of, parse_window
from vigile.transparency.concern import concerning_fields, discloses_other_customers

WHEN = datetime(2021, 5, 20, 9, 31, 5, tzinfo=UTC)
PENDING = AccessProof(status=ProofStatus.PENDING, leaf_index=7)
AGENT = Agent(id="a-0017", name="Siobhan Murphy", employer="contoso-support", country="IE")


def access(action: Action, **values: object) -> Access:
    base: dict[str, object] = {
        "id": "e-1",
        "time": WHEN,
        "agent": "a-0017",
        "session": "s-1",
        "action": action,
        "outcome": "allowed",
    }
    return Access(**{**base, **values})  # type: ignore[arg-type]


def test_a_direct_access_shows_all_its_fields() -> None:
    viewed = access(
        Action.CONTACT_VIEW,
        customer="c-1",
        fields=("contact.name",),
        masked_fields=("contact.email",),
    )
    assert concerning_fields(viewed) == (("contact.name",), ("contact.email",))
    assert not discloses_other_customers(viewed)


def test_a_search_concerns_each_listed_customer_by_name_only() -> None:
    search = access(
        Action.CUSTOMER_SEARCH,
        query="exam",
        results=("c-1", "c-2"),
        fields=("customer.name", "customer.tier"),
        masked_fields=("customer.country",),
    )
    assert concerning_fields(search) == (("customer.name",), ())
    assert discloses_other_customers(search)


def test_entry_copies_employer_and_country_never_the_name() -> None:
    entry = entry_of(
        access(Action.CUSTOMER_VIEW, customer="c-1", reason=Reason.BREAK_GLASS, ticket="T-1"),
        customer_id="c-1",
        agent=AGENT,
        proof=PENDING,
    )
    assert (entry.agent, entry.agent_employer, entry.agent_country) == (
        "a-0017",
        "contoso-support",
        "IE",
    )
    assert "Siobhan" not in repr(entry)
    assert (entry.reason, entry.ticket, entry.proof) == (Reason.BREAK_GLASS, "T-1", PENDING)


def test_an_analysts_read_is_justified_by_its_incident() -> None:
    read = access(
        Action.CUSTOMER_VIEW,
        customer="c-1",
        reason=Reason.AGENT_INITIATED_REVIEW,
        extra={"incident": "INC-0001"},
    )
    entry = entry_of(read, customer_id="c-1", agent=None, proof=PENDING)
    assert (entry.reason, entry.ticket, entry.incident) == (
        Reason.AGENT_INITIATED_REVIEW,
        None,
        "INC-0001",
    )
    # Any other access has none, whatever else its extra fields hold.
    other = access(Action.CUSTOMER_VIEW, customer="c-1", extra={"incident": 7, "policies": []})
    assert entry_of(other, customer_id="c-1", agent=None, proof=PENDING).incident is None


def test_an_agent_missing_from_the_directory_is_shown_by_id() -> None:
    entry = entry_of(access(Action.BILLING_VIEW), customer_id="c-1", agent=None, proof=PENDING)
    assert (entry.agent, entry.agent_employer, entry.agent_country) == ("a-0017", None, None)


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (None, None, (None, None)),
        ("", "", (None, None)),
        (
            "2021-05-20T11:00:00+02:00",
            "2021-05-20T09:00:00Z",
            (datetime(2021, 5, 20, 9, tzinfo=UTC), datetime(2021, 5, 20, 9, tzinfo=UTC)),
        ),
    ],
)
def test_window_is_read_in_utc(
    since: str | None, until: str | None, expected: tuple[datetime | None, datetime | None]
) -> None:
    assert parse_window(since, until) == expected


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2021-05-20", None, "since: not an RFC 3339 time"),
        (None, "yesterday", "until: not an RFC 3339 time"),
        ("2021-05-21T00:00:00Z", "2021-05-20T00:00:00Z", "is after until"),
    ],
)
def test_a_bad_window_is_an_input_error(since: str | None, until: str | None, message: str) -> None:
    with pytest.raises(WindowError, match=message):
        parse_window(since, until)
