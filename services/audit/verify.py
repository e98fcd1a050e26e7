"""``python -m services.audit.verify``: recompute the hash chains of order journals.

    python -m services.audit.verify --database-url postgresql+asyncpg://... [--order ID ...]

Prints one line per order (``whole <head hash>`` or ``broken at <seq>: <reason>``) and exits
with 1 when any chain is broken, 2 when an order has no journal."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from uuid import UUID

from services.audit.domain import JournalNotFound, Verification
from services.audit.handlers import order_ids, verify_order
from services.audit.settings import AuditSettings
from services.kit.db import Database


def describe(result: Verification) -> str:
    if result.whole:
        return f"{result.order_id} whole {result.entries} entries, head {result.head_hash}"
    return f"{result.order_id} broken at {result.broken_at}: {result.reason}"


async def verify(url: str, orders: Sequence[UUID]) -> int:
    database = Database(url, producer="audit-verify", topic=None, pool_size=1)
    try:
        if not orders:
            async with database.unit_of_work() as work:
                orders = await order_ids(work)
        results = []
        for order_id in orders:
            # One transaction per order: verifying holds appends to that order only briefly.
            async with database.unit_of_work() as work:
                results.append(await verify_order(work, order_id=order_id))
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
    args = parser.parse_args(argv)
    url = args.database_url or AuditSettings().database_url
    return asyncio.run(verify(url, args.order))


if __name__ == "__main__":
    sys.exit(main())
