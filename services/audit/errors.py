"""The audit service's named errors: each a fact, mapped to HTTP once (``app.DOMAIN_ERRORS``)."""

from __future__ import annotations


class JournalNotFound(Exception):
    """No journal for this order (or not one the caller may read)."""


class CorrectedEntryNotFound(Exception):
    """A correction refers to an entry the order's journal does not have."""


class NotRedactable(Exception):
    """Only the free text of a staff note or correction can be redacted."""


class AlreadyRedacted(Exception):
    """The entry's text was redacted before."""


class EntryNotCheckpointed(Exception):
    """The entry is not covered by a checkpoint yet (the next one will cover it)."""
