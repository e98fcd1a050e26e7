"""The audit service's time-driven work: a signed checkpoint whenever entries were journaled
since the last one."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.audit.checkpointing import MAX_NEW_LEAVES, checkpoint
from services.audit.signing import Signer
from services.kit.db import UnitOfWork
from services.kit.runtime import Runtime

CHECKPOINT = "checkpoint"


def register(runtime: Runtime, signer: Signer, interval: timedelta) -> None:
    """Register the audit service's job on the runtime's scheduler."""

    async def run(work: UnitOfWork, now: datetime) -> int:
        _, added = await checkpoint(work, signer=signer, now=now)
        return added

    # A pass that added a full checkpoint's worth runs again at once: more may be waiting.
    runtime.jobs.add(CHECKPOINT, interval, run, batch_size=MAX_NEW_LEAVES)
