"""The journal as JSON lines: one line per entry, the hashed content and beside it what is
kept outside the hash. The same line in an order's export, the whole journal's export and an
entry's proof of inclusion, so one procedure checks them all (docs/journal-proofs.md)."""

from __future__ import annotations

from typing import Any

from services.audit.repository import StoredEntry

#: Keys of a line that are not part of the entry's hashed content.
UNHASHED = frozenset(
    {"prev_hash", "hash", "signature", "text", "text_salt", "redacted", "actor_name", "leaf_index"}
)


def entry_line(stored: StoredEntry, leaf_index: int | None = None) -> dict[str, Any]:
    """The content, then its chain hashes, the service's signature (staff entries), the free
    text and its salt (staff entries, null once redacted) and the actor's name."""
    entry = stored.entry
    line: dict[str, Any] = {
        **entry.content.as_dict(),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "signature": entry.signature,
        "actor_name": stored.actor_name,
    }
    if "text_commitment" in entry.content.details:
        text = entry.text
        line["text"] = None if text is None else text.text
        line["text_salt"] = None if text is None else text.salt
        line["redacted"] = text is None or text.redacted
    if leaf_index is not None:
        line["leaf_index"] = leaf_index
    return line


def content_of(line: dict[str, Any]) -> dict[str, Any]:
    """The hashed content of a line."""
    return {key: value for key, value in line.items() if key not in UNHASHED}
