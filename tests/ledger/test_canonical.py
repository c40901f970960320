"""Leaf bytes: RFC 8785 canonical JSON, fast path held equal to the reference."""

from __future__ import annotations

from pathlib import Path

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import SPEC_EXAMPLE
from vigile.activitylog import ActivityLogReader, encode
from vigile.ledger.canonical import canonical_json
from vigile.store.rows import spec_object, to_values

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_is_rfc8785(value: object) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_known_answer_from_rfc8785_appendix() -> None:
    # RFC 8785 section 3.2.2 example, numbers part: ECMAScript number serialisation.
    value = {"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001]}
    assert canonical_json(value) == b'{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}'


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1e-6, b"0.000001"), (1.5e-6, b"0.0000015"), (9.99e-6, b"0.00000999"), (1e-7, b"1e-7")],
)
def test_small_numbers_are_written_as_ecmascript_does(value: float, expected: bytes) -> None:
    # ECMAScript writes decimals down to 1e-6, where orjson already uses an exponent
    # (found by the property test above: 1e-6 came out as 1e-6).
    assert canonical_json(value) == expected
    assert canonical_json({"lat": value}) == b'{"lat":' + expected + b"}"


def test_stored_rows_give_the_spec_objects_of_their_records(tmp_path: Path) -> None:
    """The fast row -> object path agrees with the model's encoder (the reference)."""
    for record in ActivityLogReader(SPEC_EXAMPLE):
        table, values = to_values(record)
        if table in ("accesses", "signins", "ticket_events"):
            assert spec_object(table, (7, *values[1:])) == encode(record)
