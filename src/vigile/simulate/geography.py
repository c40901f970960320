"""Where the simulated organisation, its customers and its attackers are.

Support sites, the countries of customers and travellers, and the hosting countries
attackers rent servers in. Coordinates are city centres; address prefixes are invented
per country so that an address always agrees with the country a sign-in reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

__all__ = [
    "ATTACKER_HOSTING",
    "COUNTRIES",
    "REGIONS",
    "SITES",
    "Country",
    "Site",
    "customer_countries",
]

REGIONS: tuple[str, ...] = ("emea", "amer", "apac")


@dataclass(frozen=True, kw_only=True, slots=True)
class Country:
    """A country: where it is, how its phones and money look, its address prefixes."""

    code: str
    region: str
    lat: float
    lon: float
    calling: str
    currency: str
    tld: str
    prefixes: tuple[int, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Site:
    """An office where support agents work: the company's own or a contractor's."""

    city: str
    country: str
    region: str
    timezone: str
    employer: str
    agents_weight: float
    lat: float
    lon: float


def _c(
    code: str, region: str, where: tuple[float, float], calling: str, currency: str, *prefixes: int
) -> Country:
    return Country(
        code=code,
        region=region,
        lat=where[0],
        lon=where[1],
        calling=calling,
        currency=currency,
        tld=code.lower() if code not in {"US", "GB"} else ("com" if code == "US" else "co.uk"),
        prefixes=prefixes,
    )


_TABLE: tuple[Country, ...] = (
    _c("IE", "emea", (53.35, -6.26), "+353", "EUR", 86, 89, 78),
    _c("GB", "emea", (51.51, -0.13), "+44", "GBP", 81, 86, 92, 109),
    _c("DE", "emea", (52.52, 13.40), "+49", "EUR", 79, 84, 91, 93),
    _c("FR", "emea", (48.86, 2.35), "+33", "EUR", 82, 90, 109),
    _c("NL", "emea", (52.37, 4.90), "+31", "EUR", 77, 145, 185),
    _c("ES", "emea", (40.42, -3.70), "+34", "EUR", 83, 88, 95),
    _c("IT", "emea", (41.90, 12.50), "+39", "EUR", 79, 87, 151),
    _c("SE", "emea", (59.33, 18.07), "+46", "SEK", 78, 83, 155),
    _c("PL", "emea", (50.06, 19.94), "+48", "PLN", 83, 89, 178),
    _c("PT", "emea", (38.72, -9.14), "+351", "EUR", 85, 89, 94),
    _c("CH", "emea", (47.38, 8.54), "+41", "CHF", 62, 85, 178),
    _c("AE", "emea", (25.20, 55.27), "+971", "AED", 5, 86, 94),
    _c("ZA", "emea", (-26.20, 28.05), "+27", "ZAR", 41, 102, 105),
    _c("RO", "emea", (44.43, 26.10), "+40", "RON", 5, 79, 86),
    _c("US", "amer", (38.90, -77.04), "+1", "USD", 24, 50, 67, 71, 73, 98, 174),
    _c("CA", "amer", (43.65, -79.38), "+1", "CAD", 24, 70, 99, 142),
    _c("BR", "amer", (-23.55, -46.63), "+55", "BRL", 177, 179, 187, 189),
    _c("MX", "amer", (19.43, -99.13), "+52", "MXN", 187, 189, 201),
    _c("CO", "amer", (4.71, -74.07), "+57", "COP", 181, 186, 190),
    _c("CR", "amer", (9.93, -84.08), "+506", "CRC", 186, 190, 201),
    _c("CL", "amer", (-33.45, -70.67), "+56", "CLP", 152, 181, 190),
    _c("JP", "apac", (35.68, 139.69), "+81", "JPY", 60, 110, 126, 153),
    _c("AU", "apac", (-33.87, 151.21), "+61", "AUD", 1, 49, 101, 120),
    _c("SG", "apac", (1.35, 103.82), "+65", "SGD", 42, 116, 175),
    _c("IN", "apac", (17.39, 78.49), "+91", "INR", 49, 106, 117, 122),
    _c("PH", "apac", (14.60, 120.98), "+63", "PHP", 112, 124, 180),
    _c("KR", "apac", (37.57, 126.98), "+82", "KRW", 59, 112, 121),
    _c("ID", "apac", (-6.21, 106.85), "+62", "IDR", 36, 110, 114),
    _c("NZ", "apac", (-36.85, 174.76), "+64", "NZD", 101, 115, 125),
    _c("TH", "apac", (13.76, 100.50), "+66", "THB", 49, 110, 171),
)

# How customers spread over countries within a region: big markets weigh more.
_CUSTOMER_WEIGHTS: dict[str, float] = {
    "US": 8.0,
    "GB": 3.0,
    "DE": 3.0,
    "FR": 2.0,
    "JP": 2.5,
    "CA": 1.5,
    "BR": 1.5,
    "AU": 1.5,
    "IN": 1.5,
    "NL": 1.2,
}

COUNTRIES: dict[str, Country] = {c.code: c for c in _TABLE}

SITES: tuple[Site, ...] = (
    Site(city="Dublin", country="IE", region="emea", timezone="Europe/Dublin",
         employer="vigile-cloud", lat=53.35, lon=-6.26, agents_weight=3.0),
    Site(city="Berlin", country="DE", region="emea", timezone="Europe/Berlin",
         employer="vigile-cloud", lat=52.52, lon=13.4, agents_weight=1.5),
    Site(city="London", country="GB", region="emea", timezone="Europe/London",
         employer="vigile-cloud", lat=51.51, lon=-0.13, agents_weight=1.5),
    Site(city="Lisbon", country="PT", region="emea", timezone="Europe/Lisbon",
         employer="contoso-support", lat=38.72, lon=-9.14, agents_weight=2.0),
    Site(city="Krakow", country="PL", region="emea", timezone="Europe/Warsaw",
         employer="contoso-support", lat=50.06, lon=19.94, agents_weight=1.5),
    Site(city="Seattle", country="US", region="amer", timezone="America/Los_Angeles",
         employer="vigile-cloud", lat=47.61, lon=-122.33, agents_weight=2.5),
    Site(city="Austin", country="US", region="amer", timezone="America/Chicago",
         employer="vigile-cloud", lat=30.27, lon=-97.74, agents_weight=2.0),
    Site(city="Toronto", country="CA", region="amer", timezone="America/Toronto",
         employer="vigile-cloud", lat=43.65, lon=-79.38, agents_weight=1.0),
    Site(city="San Jose", country="CR", region="amer", timezone="America/Costa_Rica",
         employer="contoso-support", lat=9.93, lon=-84.08, agents_weight=2.0),
    Site(city="Bogota", country="CO", region="amer", timezone="America/Bogota",
         employer="contoso-support", lat=4.71, lon=-74.07, agents_weight=1.0),
    Site(city="Singapore", country="SG", region="apac", timezone="Asia/Singapore",
         employer="vigile-cloud", lat=1.35, lon=103.82, agents_weight=1.5),
    Site(city="Tokyo", country="JP", region="apac", timezone="Asia/Tokyo",
         employer="vigile-cloud", lat=35.68, lon=139.69, agents_weight=1.0),
    Site(city="Sydney", country="AU", region="apac", timezone="Australia/Sydney",
         employer="vigile-cloud", lat=-33.87, lon=151.21, agents_weight=1.0),
    Site(city="Hyderabad", country="IN", region="apac", timezone="Asia/Kolkata",
         employer="northwind-bpo", lat=17.39, lon=78.49, agents_weight=2.0),
    Site(city="Manila", country="PH", region="apac", timezone="Asia/Manila",
         employer="contoso-support", lat=14.6, lon=120.98, agents_weight=1.5),
)  # fmt: skip

# Countries where rented servers and anonymising VPNs are common exits.
ATTACKER_HOSTING: tuple[str, ...] = ("NL", "RO", "DE", "US", "SG", "GB")


@cache
def customer_countries(region: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The countries of ``region`` and their weights as a customer's home."""
    codes = tuple(c.code for c in _TABLE if c.region == region)
    return codes, tuple(_CUSTOMER_WEIGHTS.get(code, 0.6) for code in codes)
