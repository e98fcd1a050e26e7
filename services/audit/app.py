"""The audit service: the append-only order journal and its signed checkpoints."""

from __future__ import annotations

from fastapi import FastAPI

from contracts import AUDIT
from services.audit import jobs, reactions
from services.audit.api import router
from services.audit.errors import (
    AlreadyRedacted,
    CorrectedEntryNotFound,
    EntryNotCheckpointed,
    JournalNotFound,
    NotRedactable,
)
from services.audit.proofs_api import router as proofs_router
from services.audit.settings import AuditSettings
from services.kit.runtime import Runtime
from services.kit.service import ServiceShape

TITLE = "Audit"
DESCRIPTION = """The append-only order journal, its verification and its signed checkpoints.

**What the journal proves.** Every entry is chained to the one before it in its order's
journal (SHA-256). A signed checkpoint (Ed25519, public key at `GET /journal/public-key`)
commits to every entry journaled before it: a Merkle tree (RFC 9162) over their chain hashes,
with the proof that it extends the checkpoint before it. Checkpoints are made every minute
when something was journaled, and on demand; each is published on `audit.checkpoints`, so
copies live outside this service's database. With the public key, the exported journal and
those copies, anyone can find any change to what a checkpoint covers
(`python -m services.audit.verify_export`), and any entry can be checked on its own with its
proof of inclusion (`GET /orders/{order_id}/journal/entries/{seq}/proof`, procedure in
`docs/journal-proofs.md`). Staff entries are signed by the service when added through this
API, so one a database login inserts fails verification at any time.

**What it cannot prove.** An entry journaled after the latest checkpoint is covered by no
signature yet: until the next checkpoint, someone who can write the database can change,
remove or add system entries there, and only the chain (which they can recompute) speaks for
them. Nor can a checkpoint show that an event that never reached the journal happened."""


DOMAIN_ERRORS: dict[type[Exception], int] = {
    JournalNotFound: 404,
    CorrectedEntryNotFound: 422,
    NotRedactable: 422,
    AlreadyRedacted: 409,
    EntryNotCheckpointed: 409,
}


def wire(settings: AuditSettings, runtime: Runtime, app: FastAPI) -> None:
    """Audit journals every event of every topic and signs checkpoints of it."""
    reactions.subscribe(runtime, runtime.registry)
    jobs.register(runtime, settings.signer(), settings.checkpoint_interval)
    app.state.signer = settings.signer()


SERVICE = ServiceShape(
    title=TITLE,
    description=DESCRIPTION,
    publishes_on=AUDIT,
    routers=[router, proofs_router],
    domain_errors=DOMAIN_ERRORS,
    wire=wire,
)
create_app = SERVICE.create_app
