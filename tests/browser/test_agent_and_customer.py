"""In Chromium: an agent's reveal with and without a justification, and a customer who
approves a lockbox request and then sees the access, with its proof, in its log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import Served, shoot, sign_in
from tests.console.world import ANN_EMAIL, BOB_EMAIL, BOB_PHONE

pytestmark = pytest.mark.browser
REVIEW = "agent_initiated_review"


def test_an_agent_reveals_with_its_ticket_and_is_denied_without_one(
    new_page: Callable[[], Any], served: Served, expect: Any
) -> None:
    page = new_page()
    sign_in(page, served.logins["agent"])
    expect(page.locator("#queue")).to_contain_text("T-1")
    shoot(page, "agent-1-queue")

    page.locator("#queue tr", has_text="T-1").get_by_role("link", name="Open customer").click()
    expect(page.locator("h1")).to_contain_text("Example Shop")
    email = page.locator("#f-k-1-contact-email")
    expect(email).to_contain_text("***")
    assert BOB_EMAIL not in page.content()
    shoot(page, "agent-2-customer-masked")

    at = page.url
    email.get_by_role("button", name="Reveal").click()
    expect(page.locator("#contacts")).to_contain_text(BOB_EMAIL)  # swapped in by htmx
    expect(page.locator("#contacts .clear")).to_contain_text("revealed · recorded")
    assert page.url == at  # the cell changed, not the page
    assert BOB_PHONE not in page.content()  # the other fields stay masked
    shoot(page, "agent-3-revealed")

    page.goto("/console/agent/customers/c-2")
    expect(page.locator("main")).to_contain_text("You have no open ticket of this customer.")
    justify = page.locator("form.justify")
    justify.locator("select[name=reason]").select_option(REVIEW)
    justify.get_by_role("button", name="Open with this justification").click()
    denial = page.locator(".denial")
    expect(denial).to_contain_text("Denied:")
    expect(denial).to_contain_text("policy")
    assert page.locator("#contacts, #accounts, .clear").count() == 0  # no data at all
    assert BOB_EMAIL not in page.content()
    shoot(page, "agent-4-denied-without-ticket")


def test_a_customer_approves_a_lockbox_request_then_sees_the_access_with_its_proof(
    new_page: Callable[[], Any], served: Served, expect: Any
) -> None:
    agent = new_page()
    sign_in(agent, served.logins["agent"])
    agent.goto("/console/agent/customers/c-gov")
    justify = agent.locator("form.justify")
    justify.locator("select[name=reason]").select_option(REVIEW)
    justify.get_by_role("button", name="Open with this justification").click()
    expect(agent.locator(".denial")).to_contain_text("Denied:")  # no ticket, no grant yet
    asking = agent.locator("form[action='/console/agent/grants']")
    asking.locator("select[name=reason]").select_option(REVIEW)
    asking.get_by_role("button", name="Request the grant").click()
    notice = agent.locator(".notice")
    expect(notice).to_contain_text("pending")
    expect(notice).to_contain_text("own approver must approve it")
    grant_id = notice.locator("strong").first.inner_text()
    shoot(agent, "lockbox-1-agent-requests")

    customer = new_page()
    sign_in(customer, served.logins["approver"])
    customer.get_by_role("link", name="Approvals").click()
    waiting = customer.locator(f"#grant-{grant_id}")
    expect(waiting).to_contain_text("a-1")
    expect(waiting).to_contain_text("agent initiated review")
    shoot(customer, "lockbox-2-customer-approval-pending")
    waiting.get_by_role("button", name="Approve").click()
    expect(customer.locator("#decided")).to_contain_text("approved")
    expect(customer.locator("main")).to_contain_text("No request is waiting.")
    shoot(customer, "lockbox-3-customer-approved")

    agent.goto(f"/console/agent/customers/c-gov?ticket=&reason={REVIEW}")
    expect(agent.locator("h1")).to_contain_text("Ministry of Examples")
    agent.locator("#f-k-gov-contact-email").get_by_role("button", name="Reveal").click()
    expect(agent.locator("#contacts")).to_contain_text(ANN_EMAIL)
    shoot(agent, "lockbox-4-agent-reveals")

    customer.get_by_role("link", name="Accesses").click()
    # The reveal, and the grant's use that allowed it, both shown to the customer.
    expect(customer.locator("#accesses tbody tr", has_text="grant.use").first).to_be_visible()
    newest = customer.locator("#accesses tbody tr", has_text="contact.reveal").first
    expect(newest).to_contain_text("a-1")
    expect(newest).to_contain_text("agent initiated review")
    expect(newest).to_contain_text("contact.email")
    expect(newest.locator(".proof .status")).to_have_text("verified")
    assert ANN_EMAIL not in customer.content()  # field names, never values
    shoot(customer, "lockbox-5-customer-sees-the-access")
