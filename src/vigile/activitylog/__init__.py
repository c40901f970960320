"""Read and write the support activity log (docs/spec/activity-log.md)."""

from vigile.activitylog.codec import InvalidField, decode, encode
from vigile.activitylog.reader import FORMAT, VERSION, ActivityLogReader, ReadReport
from vigile.activitylog.writer import HEADER, ActivityLogWriter

__all__ = [
    "FORMAT",
    "HEADER",
    "VERSION",
    "ActivityLogReader",
    "ActivityLogWriter",
    "InvalidField",
    "ReadReport",
    "decode",
    "encode",
]
