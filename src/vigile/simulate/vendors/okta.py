"""Simulated sign-ins as Okta System Log LogEvents (``GET /api/v1/logs``), one a line.

The inverse of :mod:`vigile.sources.okta`'s mapping, writing only what Okta writes: one
``user.session.start`` per native sign-in, its outcome, the client's address, user agent
and geographical context (the country by *name*, as Okta gives it), the session as
``authenticationContext.externalSessionId`` and the device as Okta Classic's
``debugContext.debugData.deviceFingerprint``.

Not written: the MFA factor. Okta logs a factor in a later event of its own
(``user.authentication.auth_via_mfa``), which the adapter reads as a sign-in of its own;
writing it would double every sign-in the native log has once. Detection does not read
``mfa``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigile.simulate.vendors.ids import VendorIds, event_uuid, okta_user_id

__all__ = ["COUNTRY_NAMES", "okta_signin"]

#: English short names of the countries the simulator places people and servers in,
#: as Okta's ``geographicalContext.country`` spells them.
COUNTRY_NAMES: Mapping[str, str] = {
    "AE": "United Arab Emirates",
    "AU": "Australia",
    "BR": "Brazil",
    "CA": "Canada",
    "CH": "Switzerland",
    "CL": "Chile",
    "CO": "Colombia",
    "CR": "Costa Rica",
    "DE": "Germany",
    "ES": "Spain",
    "FR": "France",
    "GB": "United Kingdom",
    "ID": "Indonesia",
    "IE": "Ireland",
    "IN": "India",
    "IT": "Italy",
    "JP": "Japan",
    "KR": "South Korea",
    "MX": "Mexico",
    "NL": "Netherlands",
    "NZ": "New Zealand",
    "PH": "Philippines",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "SE": "Sweden",
    "SG": "Singapore",
    "TH": "Thailand",
    "US": "United States",
    "ZA": "South Africa",
}


def _published(time: str) -> str:
    # Okta writes milliseconds: 2021-05-20T08:01:40.000Z.
    return time[:-1] + ".000Z" if time.endswith("Z") and "." not in time else time


def okta_signin(record: Mapping[str, Any], ids: VendorIds) -> dict[str, Any]:
    """The LogEvent of one native ``signin`` record."""
    agent = record["agent"]
    ok = record["outcome"] == "success"
    geo: dict[str, Any] = {
        "city": None,
        "state": None,
        "postalCode": None,
        "country": COUNTRY_NAMES.get(record.get("country") or ""),
    }
    if record.get("lat") is not None and record.get("lon") is not None:
        geo["geolocation"] = {"lat": record["lat"], "lon": record["lon"]}
    user_agent = record.get("user_agent")
    debug: dict[str, Any] = {"requestUri": "/api/v1/authn", "url": "/api/v1/authn?"}
    if record.get("device"):
        debug["deviceFingerprint"] = record["device"]
    return {
        "uuid": event_uuid(record["id"]),
        "published": _published(record["time"]),
        "eventType": "user.session.start",
        "version": "0",
        "severity": "INFO" if ok else "WARN",
        "legacyEventType": "core.user_auth.login_success" if ok else "core.user_auth.login_failed",
        "displayMessage": "User login to Okta",
        "actor": {
            "id": okta_user_id(agent),
            "type": "User",
            "alternateId": ids.okta_login(agent),
            "displayName": ids.names.get(agent),
            "detailEntry": None,
        },
        "client": {
            "userAgent": {"rawUserAgent": user_agent, "os": None, "browser": None}
            if user_agent
            else None,
            "zone": "null",
            "device": "Computer",
            "id": None,
            "ipAddress": record["ip"],
            "geographicalContext": geo,
        },
        "outcome": {
            "result": "SUCCESS" if ok else "FAILURE",
            "reason": None if ok else "INVALID_CREDENTIALS",
        },
        "authenticationContext": {
            "authenticationProvider": None,
            "credentialProvider": None,
            "credentialType": None,
            "issuer": None,
            "interface": None,
            "authenticationStep": 0,
            "externalSessionId": record["session"],
        },
        "securityContext": {
            "asNumber": None,
            "asOrg": None,
            "isp": None,
            "domain": None,
            "isProxy": None,
        },
        "debugContext": {"debugData": debug},
        "transaction": {
            "type": "WEB",
            "id": event_uuid("transaction:" + record["id"])[:20],
            "detail": {},
        },
        "request": {
            "ipChain": [
                {
                    "ip": record["ip"],
                    "geographicalContext": geo,
                    "version": "V6" if ":" in record["ip"] else "V4",
                    "source": None,
                }
            ]
        },
        "target": [],
    }
