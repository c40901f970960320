"""The event lake: the store's events as Parquet, hive-partitioned by kind and day, each
row carrying its ledger leaf index (``vigile lake export``), and checked against the
ledger (``vigile lake check``). Engines that do not read the store (DuckDB over files,
Spark on a cluster) read the lake; any of its rows can be proven against a checkpoint.
"""

from vigile.lake.check import LakeCheck, check_lake
from vigile.lake.errors import LakeError
from vigile.lake.export import LakeExport, export_lake
from vigile.lake.layout import KINDS, MARKER, lake_schema

__all__ = [
    "KINDS",
    "MARKER",
    "LakeCheck",
    "LakeError",
    "LakeExport",
    "check_lake",
    "export_lake",
    "lake_schema",
]
