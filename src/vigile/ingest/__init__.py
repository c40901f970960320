"""Ingest: activity logs into the store, every new event into the ledger.

This package sits above both: the store knows nothing of the ledger, the ledger reads the
store's rows, and ingest drives the two in one transaction.
"""

from vigile.ingest.record import Recorded, Recorder
from vigile.ingest.service import IngestSummary, Progress, ingest_file

__all__ = ["IngestSummary", "Progress", "Recorded", "Recorder", "ingest_file"]
