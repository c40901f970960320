"""The spec's "Mapping to OCSF" (docs/spec/activity-log.md): sign-ins as Authentication
(class 3002), accesses as API Activity (class 6003), OCSF 1.3.0.

One mapping for every OCSF event Vigile writes: `vigile export --format ocsf` and the
transparency export both build their events here. Pure functions: records in, JSON out;
absent values are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigile.model import Access, Action, SignIn
from vigile.model.times import to_micros

__all__ = [
    "OCSF_VERSION",
    "access_event",
    "api_activity",
    "authentication",
    "justification",
    "resources",
]

#: The OCSF schema version the events declare (and the tests validate them against).
OCSF_VERSION = "1.3.0"

_API_ACTIVITY, _APPLICATION_ACTIVITY = 6003, 6
_AUTHENTICATION, _IAM = 3002, 3
_CREATE, _READ, _LOGON = 1, 2, 1
_ACCESS_STATUS = {"allowed": (1, "Success"), "denied": (2, "Failure")}
_SIGNIN_STATUS = {"success": (1, "Success"), "failure": (2, "Failure")}
_OBJECT_KINDS = ("contact", "account", "subscription")
_PRODUCT = {"name": "Vigile", "vendor_name": "Vigile"}


def api_activity(
    access: Access,
    *,
    resources: list[dict[str, Any]],
    unmapped: Mapping[str, Any],
    employer: str | None = None,
) -> dict[str, Any]:
    """One access as OCSF API Activity (class 6003), with the caller's resources and
    ``unmapped`` (what OCSF has no field for: at least the justification)."""
    activity_id = _CREATE if access.action is Action.GRANT_REQUEST else _READ
    activity_name = "Create" if activity_id == _CREATE else "Read"
    status_id, status = _ACCESS_STATUS.get(access.outcome, (0, "Unknown"))
    user: dict[str, Any] = {"uid": access.agent}
    if employer is not None:
        user["org"] = {"name": employer}
    event: dict[str, Any] = {
        **_classification(
            (_APPLICATION_ACTIVITY, "Application Activity"),
            (_API_ACTIVITY, "API Activity"),
            (activity_id, activity_name),
        ),
        "time": to_micros(access.time) // 1000,
        "severity_id": 1,
        "severity": "Informational",
        "status_id": status_id,
        "status": status,
        "actor": {"user": user, "session": {"uid": access.session}},
        "src_endpoint": _without_none({"ip": access.ip}),
        "api": {"operation": access.action.value},
        "resources": resources,
        "metadata": _metadata(access.id),
        "unmapped": dict(unmapped),
    }
    if access.deny_reason is not None:
        event["status_detail"] = access.deny_reason
    return event


def access_event(access: Access, *, employer: str | None = None) -> dict[str, Any]:
    """An access of the store as API Activity: the customer (for a search, every customer
    listed) and the object as resources, the justification under ``unmapped``."""
    unmapped: dict[str, Any] = {"justification": justification(access)}
    if access.query is not None:
        unmapped["query"] = access.query
    if access.customer is None:
        listed = [_resource(uid, "customer", (), ()) for uid in access.results]
        return api_activity(access, resources=listed, unmapped=unmapped, employer=employer)
    found = resources(access, access.customer, access.fields, access.masked_fields)
    return api_activity(access, resources=found, unmapped=unmapped, employer=employer)


def justification(access: Access) -> dict[str, Any]:
    """The access's reason and ticket (OCSF has no field for a justification)."""
    reason = None if access.reason is None else access.reason.value
    return _without_none({"reason": reason, "ticket": access.ticket})


def resources(
    access: Access, customer: str, fields: tuple[str, ...], masked: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The customer, then the object; each object field goes to the object, the
    ``customer.*`` fields (all fields when there is no object) to the customer."""
    if access.object is None:
        return [_resource(customer, "customer", fields, masked)]

    def own(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name for name in names if name.startswith("customer."))

    def others(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name for name in names if not name.startswith("customer."))

    kind = _object_kind(access, fields, masked)
    return [
        _resource(customer, "customer", own(fields), own(masked)),
        _resource(access.object, kind, others(fields), others(masked)),
    ]


def authentication(signin: SignIn, *, employer: str | None = None) -> dict[str, Any]:
    """A sign-in as OCSF Authentication (class 3002), activity Logon."""
    status_id, status = _SIGNIN_STATUS.get(signin.outcome, (0, "Unknown"))
    user: dict[str, Any] = {"uid": signin.agent}
    if employer is not None:
        user["org"] = {"name": employer}
    endpoint: dict[str, Any] = {"ip": signin.ip}
    if signin.device is not None:
        endpoint["uid"] = signin.device
    location = _without_none({"country": signin.country, "lat": signin.lat, "long": signin.lon})
    if location:
        endpoint["location"] = location
    event: dict[str, Any] = {
        **_classification(
            (_IAM, "Identity & Access Management"),
            (_AUTHENTICATION, "Authentication"),
            (_LOGON, "Logon"),
        ),
        "time": to_micros(signin.time) // 1000,
        "severity_id": 1,
        "severity": "Informational",
        "status_id": status_id,
        "status": status,
        "user": user,
        "session": {"uid": signin.session},
        "src_endpoint": endpoint,
        "metadata": _metadata(signin.id),
    }
    if signin.mfa is not None:
        event["is_mfa"] = signin.mfa != "none"
        event["unmapped"] = {"mfa": signin.mfa}
    if signin.user_agent is not None:
        event["http_request"] = {"user_agent": signin.user_agent}
    return event


def _classification(
    category: tuple[int, str], cls: tuple[int, str], activity: tuple[int, str]
) -> dict[str, Any]:
    (category_uid, category_name), (class_uid, name), (activity_id, activity_name) = (
        category,
        cls,
        activity,
    )
    return {
        "activity_id": activity_id,
        "activity_name": activity_name,
        "category_uid": category_uid,
        "category_name": category_name,
        "class_uid": class_uid,
        "class_name": name,
        "type_uid": class_uid * 100 + activity_id,
        "type_name": f"{name}: {activity_name}",
    }


def _metadata(uid: str) -> dict[str, Any]:
    return {"version": OCSF_VERSION, "uid": uid, "product": dict(_PRODUCT)}


def _resource(
    uid: str, kind: str, fields: tuple[str, ...], masked: tuple[str, ...]
) -> dict[str, Any]:
    data = {"fields": list(fields), "masked_fields": list(masked)}
    return {"uid": uid, "type": kind, "data": data}


def _object_kind(access: Access, fields: tuple[str, ...], masked: tuple[str, ...]) -> str:
    """contact, account or subscription: from the action, else from the fields."""
    for name in (access.action.value, *fields, *masked):
        kind = name.split(".", 1)[0]
        if kind in _OBJECT_KINDS:
            return kind
    return "object"


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}
