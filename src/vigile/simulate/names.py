"""Vocabularies that make the simulated organisation read like a real one.

People's names, company and public-body names, the services customers subscribe to and
the browsers agents use. Kept apart from the logic so they can grow without touching it.
"""

from __future__ import annotations

import random
from functools import cache

__all__ = [
    "BROWSERS",
    "PLANS",
    "PRODUCTS",
    "SERVICES",
    "company_name",
    "government_name",
    "person_name",
    "slug",
]

_FIRST = (
    "Ann", "Aoife", "Ahmed", "Akira", "Alejandro", "Amara", "Ana", "Anders", "Arjun", "Beatriz",
    "Ben", "Camille", "Carlos", "Chen", "Chloe", "Ciara", "Daniel", "David", "Diego", "Elena",
    "Emma", "Fatima", "Felix", "Freya", "Gabriel", "Grace", "Hana", "Hannah", "Hiroshi", "Ines",
    "Isabel", "Jack", "James", "Jana", "Jin", "Joao", "Jonas", "Julia", "Kai", "Karim", "Kenji",
    "Lars", "Laura", "Lea", "Leila", "Liam", "Lucas", "Lucia", "Maria", "Mateo", "Mei", "Mia",
    "Nadia", "Niamh", "Noah", "Olivia", "Omar", "Oskar", "Paula", "Pedro", "Priya", "Rahul",
    "Rosa", "Ruth", "Sakura", "Samuel", "Sara", "Sean", "Sofia", "Tomas", "Wei", "Yuki", "Zoe",
)  # fmt: skip
_LAST = (
    "Abe", "Ahmed", "Alvarez", "Andersson", "Bauer", "Brennan", "Chen", "Costa", "Das", "Dubois",
    "Fernandes", "Fischer", "Garcia", "Gomez", "Gupta", "Hansen", "Ito", "Jansen", "Kelly",
    "Khan", "Kim", "Kowalski", "Lee", "Lopez", "Martin", "Meyer", "Murphy", "Nakamura", "Nguyen",
    "Novak", "O'Brien", "Okafor", "Oliveira", "Park", "Patel", "Reyes", "Rossi", "Santos",
    "Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Torres", "Walsh", "Wang",
    "Weber", "Williams", "Wong", "Yamamoto", "Zhang",
)  # fmt: skip
_COMPANY_A = (
    "Aurora", "Blue", "Bright", "Cedar", "Coastal", "Copper", "Crescent", "Delta", "Evergreen",
    "Falcon", "Granite", "Harbor", "Helix", "Horizon", "Iron", "Juniper", "Keystone", "Lumen",
    "Maple", "Meridian", "Nimbus", "North", "Northwind", "Nova", "Oak", "Orbit", "Pacific",
    "Pine", "Prairie", "Quantum", "Red", "River", "Sable", "Silver", "Summit", "Tandem",
    "Terra", "Tidal", "Vector", "Vertex", "Willow", "Zenith",
)  # fmt: skip
_COMPANY_B = (
    "Analytics", "Bank", "Biotech", "Capital", "Clinics", "Consulting", "Dynamics", "Energy",
    "Foods", "Freight", "Games", "Health", "Holdings", "Insurance", "Labs", "Logistics", "Media",
    "Mobility", "Motors", "Networks", "Payments", "Pharma", "Retail", "Robotics", "Security",
    "Software", "Systems", "Telecom", "Travel", "Ventures",
)  # fmt: skip
_COMPANY_C = ("", "", "", " Ltd", " Inc", " GmbH", " SA", " Group", " & Co", " plc", " BV")
_GOV_BODY = (
    "Ministry of", "Department of", "Office of", "Agency for", "National Institute of",
    "Directorate of", "Bureau of", "Federal Office of",
)  # fmt: skip
_GOV_TOPIC = (
    "Defence", "Digital Affairs", "Education", "Energy", "Finance", "Foreign Affairs", "Health",
    "Home Affairs", "Justice", "Labour", "Statistics", "Trade", "Transport", "Veterans",
    "Water", "Cyber Security", "Customs", "Elections", "Space", "Public Works",
)  # fmt: skip

PRODUCTS: tuple[str, ...] = ("billing", "compute", "identity", "storage", "network")
"""What a support team specialises in; also a ticket's category."""

SERVICES: tuple[str, ...] = ("compute", "identity", "storage", "network")
"""Services customers subscribe to (every customer is billed, so billing is no service)."""

PLANS: tuple[tuple[str, float], ...] = (
    ("basic", 12.0),
    ("standard", 35.0),
    ("premium", 90.0),
    ("enterprise", 240.0),
)
"""Plans and their monthly price per seat, in US dollars."""

BROWSERS: tuple[tuple[str, int], ...] = (
    ("Chrome", 90),
    ("Edg", 90),
    ("Firefox", 88),
)
"""Browser tokens and their major version on the simulation's reference date."""


def person_name(rng: random.Random) -> tuple[str, str]:
    """A first and last name."""
    return rng.choice(_FIRST), rng.choice(_LAST)


def company_name(rng: random.Random) -> str:
    """A company name such as ``Northwind Analytics Ltd``."""
    return f"{rng.choice(_COMPANY_A)} {rng.choice(_COMPANY_B)}{rng.choice(_COMPANY_C)}"


def government_name(rng: random.Random, country: str) -> str:
    """A public body such as ``Ministry of Finance (FR)``."""
    return f"{rng.choice(_GOV_BODY)} {rng.choice(_GOV_TOPIC)} ({country})"


@cache
def slug(text: str) -> str:
    """Lower-case letters and digits of ``text``, for usernames and mail domains."""
    return "".join(ch for ch in text.lower() if ch.isalnum())
