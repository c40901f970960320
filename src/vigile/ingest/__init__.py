"""Ingest: activity logs, and vendors' logs through :mod:`vigile.sources`, read in time
order into the one write path (:mod:`vigile.record`)."""

from vigile.ingest.service import IngestSummary, Progress, ingest_file

__all__ = ["IngestSummary", "Progress", "ingest_file"]
