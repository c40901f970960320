"""Masking: the spec's examples as known answers, and properties over random contacts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigile.policy import MASK, mask_email, mask_phone, mask_value


@pytest.mark.parametrize(
    ("field", "value", "masked"),
    [
        # From the issue and the activity-log spec's example contact.
        ("contact.email", "ann@ministry.example", "a***@ministry.example"),
        ("contact.phone", "+1 202 555 0100", "+1 *** *** 0100"),
        ("contact.phone", "+33 1 23 45 67 89", "+33 *** *** *** *** 6789"),
        ("contact.phone", "+12025550100", "*** 0100"),
        ("contact.phone", "555-0100", MASK),
        # Fewer than 8 digits after the country code: showing 4 would show half or more.
        ("contact.phone", "+352 4796 1", MASK),
        ("contact.phone", "+352 47 96 10", MASK),
        ("contact.phone", "+420 1 2345", MASK),
        ("contact.phone", "+12 3 45678", MASK),
        ("contact.phone", "+352 4796 1234", "+352 *** 1234"),
        # A country code not set apart is counted as the longest (3 digits); so is one
        # after the 00 international prefix.
        ("contact.phone", "+3524796123", MASK),
        ("contact.phone", "00352 4796 123", MASK),
        ("contact.phone", "00 1 202 555 0100", "*** *** *** *** 0100"),
        ("account.email", "not-an-email", MASK),
        ("subscription.monthly_amount", 1234.5, MASK),
        ("billing.address", "1 Example Street", MASK),
        ("contact.email", None, None),
    ],
)
def test_known_answers(field: str, value: object, masked: str | None) -> None:
    assert mask_value(field, value) == masked


_local = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=20)
_domain = st.from_regex(r"[a-z0-9-]{1,15}\.(example|test|org)", fullmatch=True)
emails = st.builds(lambda local, domain: f"{local}@{domain}", _local, _domain)
phones = st.builds(
    lambda cc, groups: " ".join([f"+{cc}", *groups]),
    st.integers(1, 999),
    st.lists(st.from_regex(r"[0-9]{2,4}", fullmatch=True), min_size=2, max_size=5),
)
_national = st.lists(st.from_regex(r"[0-9]{1,4}", fullmatch=True), min_size=1, max_size=5)
_WRITTEN = {
    "apart": lambda cc, sep, groups: sep.join([f"+{cc}", *groups]),
    "joined": lambda cc, sep, groups: f"+{cc}" + sep.join(groups),
    "glued": lambda cc, sep, groups: f"+{cc}" + "".join(groups),
    "prefix-00": lambda cc, sep, groups: sep.join([f"00{cc}", *groups]),
    "national": lambda cc, sep, groups: sep.join(groups),
}


@st.composite
def written_phones(draw: st.DrawFn) -> tuple[str, str]:
    """A phone number written one of several ways, and its national digits."""
    groups = draw(_national)
    form = _WRITTEN[draw(st.sampled_from(sorted(_WRITTEN)))]
    sep = draw(st.sampled_from([" ", "-", ".", " / ", "/"]))
    return form(draw(st.integers(1, 999)), sep, groups), "".join(groups)


@given(emails)
def test_an_email_is_masked_deterministically_and_never_in_clear(email: str) -> None:
    masked = mask_email(email)
    assert masked == mask_email(email)
    assert email not in masked
    local = email.split("@", maxsplit=1)[0]
    assert local[1:] == "" or f"{local}@" not in masked


@given(phones)
def test_a_phone_keeps_at_most_its_country_code_and_last_four_digits(phone: str) -> None:
    masked = mask_phone(phone)
    assert masked == mask_phone(phone)
    assert phone not in masked
    digits = [c for c in masked if c.isdigit()]
    assert len(digits) <= 3 + 4


@given(written_phones())
def test_a_phone_never_shows_more_than_half_of_its_national_digits(
    written: tuple[str, str],
) -> None:
    phone, national = written
    masked = mask_phone(phone)
    assert masked == mask_phone(phone)
    shown = masked.split(" ", maxsplit=1)[1] if masked.startswith("+") else masked
    assert 2 * sum(c.isdigit() for c in shown) <= len(national), (phone, masked)
