"""After a breach: guard the exposed contacts against the phishing aimed at them.

The watch list (:mod:`~vigile.phishing.watchlist`) says which addresses an incident
exposed and what the attacker saw about each; the message check
(:mod:`~vigile.phishing.check`) scores a message against it and against the provider's
own domains, and says why in plain words.
"""

from vigile.phishing.watchlist import (
    SeenSubscription,
    WatchedAddress,
    WatchList,
    build_watchlist,
)

__all__ = ["SeenSubscription", "WatchList", "WatchedAddress", "build_watchlist"]
