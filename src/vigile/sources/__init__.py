"""Other products' logs into Vigile's records (docs/sources.md).

Each source is a typed record of what the vendor writes and one pure mapping
(:mod:`vigile.sources.base`), registered by name (:mod:`vigile.sources.registry`); the
directory (:mod:`vigile.sources.directory`) says which agent or customer a vendor's id
names. :class:`~vigile.sources.reading.VendorLogReader` reads a vendor's file for
:func:`vigile.ingest.ingest_file`.
"""

from vigile.sources.base import Identities, Mapped, MapResult, Skipped, Source, Unmapped
from vigile.sources.directory import DirectoryImport, import_directory, load_identities
from vigile.sources.reading import SourceReport, VendorLogReader
from vigile.sources.registry import register_source, source_named, source_names

__all__ = [
    "DirectoryImport",
    "Identities",
    "MapResult",
    "Mapped",
    "Skipped",
    "Source",
    "SourceReport",
    "Unmapped",
    "VendorLogReader",
    "import_directory",
    "load_identities",
    "register_source",
    "source_named",
    "source_names",
]
