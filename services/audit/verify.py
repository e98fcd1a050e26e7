"""``python -m services.audit.verify``: recompute the hash chains of order journals.

    python -m services.audit.verify --database-url postgresql+asyncpg://... [--order ID ...]

Prints one line per order (``whole <head hash>`` or ``broken at <seq>: <reason>``) and exits
with 1 when any chain is broken, 2 when an order has no journal. Staff entries are checked
against the public key of the configured signing key (or ``--public-key``).

This trusts the database's head rows; to check the journal against the signed checkpoints
without trusting the database, see ``python -m services.audit.verify_export``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit.domain import Verification
from services.audit.errors import JournalNotFound
from services.audit.journal import order_ids, verify_order
from services.audit.settings import AuditSettings
from services.audit.signing import load_public_key
from services.kit.db import Database


def describe(result: Verification) -> str:
    if result.whole:
        redacted = f", redacted {list(result.redacted)}" if result.redacted else ""
        return (
            f"{result.order_id} whole {result.entries} entries, head {result.head_hash}{redacted}"
        )
    return f"{result.order_id} broken at {result.broken_at}: {result.reason}"


async def verify(url: str, orders: Sequence[UUID], public_key: Ed25519PublicKey) -> int:
    database = Database(url, producer="audit-verify", topic=None, pool_size=1)
    try:
        if not orders:
            async with database.unit_of_work() as work:
                orders = await order_ids(work)
        results = []
        for order_id in orders:
            # One transaction per order: verifying holds appends to that order only briefly.
            async with database.unit_of_work() as work:
                results.append(await verify_order(work, order_id=order_id, public_key=public_key))
    except JournalNotFound as error:
        print(error, file=sys.stderr)
        return 2
    finally:
        await database.dispose()
    for result in results:
        print(describe(result))
    return 0 if all(result.whole for result in results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.audit.verify", description=__doc__)
    parser.add_argument("--database-url", default=None, help="default: AUDIT_DATABASE_URL")
    parser.add_argument("--order", type=UUID, action="append", default=[], help="repeatable")
    parser.add_argument("--public-key", type=Path, default=None, help="PEM or hex")
    args = parser.parse_args(argv)
    settings = AuditSettings()
    url = args.database_url or settings.database_url
    public_key = (
        load_public_key(args.public_key.read_text())
        if args.public_key
        else settings.signer().public_key
    )
    return asyncio.run(verify(url, args.order, public_key))


if __name__ == "__main__":
    sys.exit(main())
