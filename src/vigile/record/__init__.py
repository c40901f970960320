"""The one write path: records into the store's rows and the ledger's leaves, together.

Every writer of Vigile goes through here: the broker (group commit), response, the
console and ``vigile ingest``. The store keeps rows and the ledger keeps the tree; this
package is what makes a stored event and its ledger entry one transaction::

    record ──prepare──▶ (table, row, leaf hash) ──EventWriter──▶ rows + ledger leaves
                                     Recorder: one transaction per call (or per file)
                               GroupCommitter: many threads' calls in one transaction
"""

from vigile.record.group_commit import GroupCommitter
from vigile.record.recorder import Recorded, Recorder
from vigile.record.writer import EventWriter, Prepared, prepare

__all__ = [
    "EventWriter",
    "GroupCommitter",
    "Prepared",
    "Recorded",
    "Recorder",
    "prepare",
]
