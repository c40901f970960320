"""After a breach: guard the exposed contacts against the phishing aimed at them.

The watch list (:mod:`~vigile.phishing.watchlist`) says which addresses an incident
exposed and what the attacker saw about each; the message check
(:mod:`~vigile.phishing.check`) scores a message against it and against the provider's
own domains, and says why in plain words.
"""

from vigile.phishing.check import PHISHING, SUSPICIOUS, Guard, Verdict, load_dkim_keys
from vigile.phishing.domains import Lookalike, ProviderDomains
from vigile.phishing.mailboxes import FoundMessage, read_messages
from vigile.phishing.parse import MAX_MESSAGE_BYTES, ParsedMessage, parse_message
from vigile.phishing.signals import Signal
from vigile.phishing.watchlist import (
    SeenSubscription,
    WatchedAddress,
    WatchList,
    build_watchlist,
)

__all__ = [
    "MAX_MESSAGE_BYTES",
    "PHISHING",
    "SUSPICIOUS",
    "FoundMessage",
    "Guard",
    "Lookalike",
    "ParsedMessage",
    "ProviderDomains",
    "SeenSubscription",
    "Signal",
    "Verdict",
    "WatchList",
    "WatchedAddress",
    "build_watchlist",
    "load_dkim_keys",
    "parse_message",
    "read_messages",
]
