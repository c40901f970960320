"""Reading a vendor's JSON object field by field, each error naming the field's path.

What every adapter needs from a decoded JSON object: a value by key (optionally in lower
case as well: Panther stores Okta's and Entra's keys lower-cased), an object, a string, a
bounded number, a time as the vendors write them; and the check that a mapped record is
one the activity log, hence the store, accepts; and a country's ISO 3166 alpha-2 code
from the name vendors write (``United States``), through pycountry's copy of ISO 3166.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
import pycountry

from vigile.activitylog.codec import decode, encode, plainly_valid
from vigile.model import ActivityRecord
from vigile.model.times import parse_rfc3339
from vigile.sources.base import InvalidField, Lost, Mapped, MapResult, Unmapped

__all__ = [
    "JSON",
    "country_code",
    "field",
    "number_field",
    "object_field",
    "storable",
    "text_field",
    "vendor_time",
]

JSON = dict[str, Any]
#: ``2024-05-01 12:00:00.123``: a UTC time as Panther's fixtures and Azure exports write it.
_SPACED = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?")


def field(obj: JSON, key: str, *, caseless: bool = False) -> Any:
    """``obj[key]``, else (``caseless``) the key in lower case; ``None`` when absent."""
    value = obj.get(key)
    if value is None and caseless and key not in obj:
        return obj.get(key.lower())
    return value


def object_field(obj: JSON, key: str, path: str, *, caseless: bool = False) -> JSON | None:
    """An object, or ``None`` when absent."""
    value = obj.get(key)
    if type(value) is dict:  # the common case first: this runs for every object read
        return value
    value = field(obj, key, caseless=caseless)
    if value is None:
        return None
    if type(value) is not dict:
        raise InvalidField(path, f"expected an object, got {type(value).__name__}")
    return value


def text_field(
    obj: JSON, key: str, path: str, *, required: bool = False, caseless: bool = False
) -> str | None:
    """A string without NUL, or ``None`` when absent; ``required``: present, not empty."""
    value = obj.get(key)
    if type(value) is str and value and "\x00" not in value:  # the common case first
        return value
    value = field(obj, key, caseless=caseless)
    if value is None:
        if required:
            raise InvalidField(path, "required field is missing")
        return None
    if type(value) is not str:
        raise InvalidField(path, f"expected a string, got {type(value).__name__}")
    if "\x00" in value:
        raise InvalidField(path, "a string must not hold NUL")
    if required and not value:
        raise InvalidField(path, "must not be empty")
    return value


def number_field(
    obj: JSON, key: str, path: str, bound: float, *, caseless: bool = False
) -> float | None:
    """A finite number within ``[-bound, bound]``, or ``None`` when absent."""
    value = field(obj, key, caseless=caseless)
    if value is None:
        return None
    if type(value) not in (int, float):
        raise InvalidField(path, f"expected a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or abs(number) > bound:
        raise InvalidField(path, f"must be within [-{bound:g}, {bound:g}], got {value!r}")
    return number


def vendor_time(text: str, path: str, *, spaced: bool = True) -> datetime:
    """An RFC 3339 time or (``spaced``) ``YYYY-MM-DD HH:MM:SS[.fraction]`` in UTC."""
    match = _SPACED.fullmatch(text) if spaced else None
    try:
        if match is None:
            return parse_rfc3339(text)
        day, clock, fraction = match.groups()
        micros = (fraction or "").ljust(6, "0")[:6]
        return datetime.fromisoformat(f"{day}T{clock}.{micros}").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidField(path, f"not a time: {text!r} ({exc})") from None


def storable(
    records: Sequence[ActivityRecord],
    *,
    what: str,
    example: str,
    lost: Sequence[Lost] = (),
) -> MapResult:
    """``Mapped(records)`` if the activity log (what the store keeps) accepts each of
    them, else kept aside naming the first field it refuses.

    A record whose fields are all of the plain kind is accepted as it is
    (:func:`~vigile.activitylog.codec.plainly_valid`); any other goes through the spec's
    encoder, JSON and decoder, which name the field refused."""
    for record in records:
        if plainly_valid(record):
            continue
        try:  # the spec object as a reader would get it (enums as their text)
            decode(orjson.loads(orjson.dumps(encode(record))))
        except InvalidField as exc:
            return Unmapped(reason=f"{what} not storable: {exc.field}", example=example)
    return Mapped(records=tuple(records), lost=tuple(lost))


@cache
def country_code(name: str) -> str | None:
    """The ISO 3166 alpha-2 code of a country as vendors name it, or ``None``.

    A name matches when it is, letter case aside, a country's ISO 3166 name, official name
    or common name, or its alpha-2 or alpha-3 code, as pycountry (the Debian iso-codes
    data, shipped in the package: nothing is downloaded) lists them: ``United States``,
    ``South Korea``, ``Czechia``, ``US``, ``DEU``. Anything else (``Russia``, ``Kosovo``,
    a misspelling) is no country: a nearby name is never taken for it."""
    text = name.strip()
    if not text:
        return None
    try:
        found = pycountry.countries.lookup(text)
    except LookupError:
        return None
    code: str = found.alpha_2
    return code
