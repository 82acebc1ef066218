"""The states a name goes through in a delete or restore job: the one list of their spellings.

A job (:class:`.bulk.BulkDelete`, :class:`.restore.BulkRestore`) moves each name from
:data:`QUEUED` through transient states to exactly one final state, and reports each step as
``on_status(name, state, result)``. The widget sends these strings to the page, which labels
them from the catalogs' ``page.state.<state>`` keys (``tests/test_states.py`` checks that the
catalogs, ``js/widget.js`` and this module agree); the magic marks them with
the report's ``report.outcome.*`` words. The report groups results into its own buckets (:data:`NOT_SENT`,
:data:`PROTECTED`, ...), derived from the result dict rather than from these states.
"""

from __future__ import annotations

from typing import NamedTuple

# Transient: the name is waiting or being worked on.
QUEUED = "queued"
BACKING_UP = "backing up"  # delete: its details are being read for the backup
BACKED_UP = "backed up"  # delete: its details are on disk; the DELETE is next
DELETING = "deleting"
RESTORING = "restoring"

# Final: every name ends in exactly one of these.
DELETED = "deleted"
ALREADY_GONE = "already gone"  # the DELETE (or the backup read) was answered "not found"
RESTORED = "restored"
FAILED = "failed"
SKIPPED = "skipped"  # never sent: protected (delete), or the name exists again (restore)
CANCELLED = "cancelled"  # never sent: the job was stopped first ("Not sent" on screen)

TRANSIENT_STATES = (QUEUED, BACKING_UP, BACKED_UP, DELETING, RESTORING)
FINAL_STATES = frozenset({DELETED, ALREADY_GONE, RESTORED, FAILED, SKIPPED, CANCELLED})
ALL_STATES = (*TRANSIENT_STATES, DELETED, ALREADY_GONE, RESTORED, FAILED, SKIPPED, CANCELLED)
DELETE_FINAL_STATES = frozenset({DELETED, ALREADY_GONE, FAILED, SKIPPED, CANCELLED})
RESTORE_FINAL_STATES = frozenset({RESTORED, FAILED, SKIPPED, CANCELLED})
# After these a name is not there to delete again.
GONE_STATES = (DELETED, ALREADY_GONE)

# The report's buckets of a finished run that are not job states (see report.bucket).
NOT_SENT = "not sent"  # CANCELLED, as the report and the page word it
PROTECTED = "protected"  # SKIPPED by a protect pattern
NOT_FOUND = "not found"  # named by the user but not in the project


class StatusEntry(NamedTuple):
    """One name's state as the widget keeps it and sends it to the page (as a JSON list).

    ``code`` and ``message`` are the result's ``error_code`` and ``error_msg`` ("" when none).
    """

    state: str
    code: str = ""
    message: str = ""
