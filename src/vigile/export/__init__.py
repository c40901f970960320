"""Write the store back out: as the activity-log spec, or as OCSF events for a SIEM."""

from vigile.export.service import ExportFormat, ExportSummary, export_store, parse_window

__all__ = ["ExportFormat", "ExportSummary", "export_store", "parse_window"]
