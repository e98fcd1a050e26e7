"""Statements that asyncpg runs itself (``services.kit.statements``) keep the unit of work's
guarantees, against the real PostgreSQL: they run in its transaction, even as its first
statement, and their values are bound as SQLAlchemy would bind them."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import func, select

from services.kit.outbox import outbox
from services.kit.statements import Prepared
from tests.kit.conftest import ProbeSetup
from tests.kit.probe import effects, probe

_EFFECT = Prepared(effects.insert())


class Refused(Exception):
    pass


async def test_a_first_statement_run_by_asyncpg_rolls_back_with_its_unit_of_work(
    kit: ProbeSetup,
) -> None:
    order_id = uuid4()

    async def effect_then_refuse() -> None:
        async with kit.database.unit_of_work() as work:
            await _EFFECT.insert(
                work.session, [{"event_id": uuid4(), "order_id": order_id, "seq": 1}]
            )
            raise Refused

    with pytest.raises(Refused):
        await effect_then_refuse()
    async with kit.database.unit_of_work() as work:
        await _EFFECT.insert(work.session, [{"event_id": uuid4(), "order_id": order_id, "seq": 2}])
    async with kit.database.sessions() as session:
        query = select(effects.c.seq).where(effects.c.order_id == order_id)
        kept = (await session.execute(query)).scalars().all()
    assert kept == [2]


async def test_outbox_rows_written_by_asyncpg_read_back_as_sqlalchemy_wrote_them(
    kit: ProbeSetup,
) -> None:
    events = [probe(uuid4(), seq) for seq in range(3)]
    async with kit.database.unit_of_work() as work:
        for event in events:
            work.publish(event)
    async with kit.database.sessions() as session:
        rows = (
            await session.execute(
                select(
                    outbox.c.event_id,
                    outbox.c.key,
                    outbox.c.payload,
                    outbox.c.headers,
                    outbox.c.created_at,
                )
                .where(outbox.c.event_id.in_([event.event_id for event in events]))
                .order_by(outbox.c.id)
            )
        ).all()
        now = await session.scalar(select(func.now()))
    assert [row.event_id for row in rows] == [event.event_id for event in events]
    for row, event in zip(rows, events, strict=True):
        assert row.key == str(event.order_id)
        assert row.payload == event.model_dump_json().encode()
        assert row.headers == {
            "event_id": str(event.event_id),
            "correlation_id": str(event.correlation_id),
        }
        assert row.created_at is not None
        assert row.created_at <= now
