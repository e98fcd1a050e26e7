"""Time-driven work (renewal invoices, overdue stages, reminders, end-of-period cancellations),
the same way in every service.

A job is a function ``run(work, now) -> int`` that handles what is due at ``now`` (read from
the injected clock) and returns how many items it handled. Each pass runs in one unit of
work under a transaction-level advisory lock named after the job, so with two replicas one
pass runs at a time and the other skips; each job must also be idempotent on its own (a
unique key per effect), so a pass repeated after a crash changes nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import func, select

from services.kit.clock import Clock
from services.kit.db import Database, UnitOfWork
from services.kit.faults import is_transient
from services.kit.logs import get_logger

log = get_logger(__name__)

JobRun = Callable[[UnitOfWork, datetime], Awaitable[int]]


@dataclass(frozen=True)
class Job:
    name: str
    interval: timedelta
    run: JobRun
    #: A pass that handled this many items runs again at once: there may be more due.
    batch_size: int = 500

    @property
    def lock_key(self) -> int:
        return zlib.crc32(f"job:{self.name}".encode())


class JobMetrics:
    """Passes run and passes failed, by job (a pass skipped for another replica's is neither)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter("job_runs", "Job passes run", ["job"], registry=registry)
        self.failures = Counter(
            "job_failures", "Job passes that failed (rolled back)", ["job"], registry=registry
        )


class Scheduler:
    """Runs a service's jobs on their intervals; tests call :meth:`run_once` after moving the
    clock instead of waiting."""

    def __init__(
        self, database: Database, clock: Clock, registry: CollectorRegistry | None = None
    ) -> None:
        self.database = database
        self.clock = clock
        self.jobs: dict[str, Job] = {}
        self.metrics = JobMetrics(registry or CollectorRegistry())

    def add(self, name: str, interval: timedelta, run: JobRun, *, batch_size: int = 500) -> None:
        self.jobs[name] = Job(name, interval, run, batch_size)

    async def run_once(self, name: str) -> int | None:
        """One pass of a job now; ``None`` when another replica is running it."""
        job = self.jobs[name]
        try:
            async with self.database.unit_of_work() as work:
                locked = await work.session.scalar(
                    select(func.pg_try_advisory_xact_lock(job.lock_key))
                )
                if not locked:
                    return None
                self.metrics.runs.labels(name).inc()
                return await job.run(work, self.clock.now())
        except Exception:
            self.metrics.failures.labels(name).inc()
            raise

    async def run_forever(self) -> None:
        """Every job in its own loop until cancelled."""
        async with asyncio.TaskGroup() as group:
            for job in self.jobs.values():
                group.create_task(self._loop(job), name=f"job-{job.name}")

    async def _loop(self, job: Job) -> None:
        while True:
            try:
                handled = await self.run_once(job.name)
            except Exception as error:
                # A job's fault must not end the other jobs: log it and try again next time.
                level = log.warning if is_transient(error) else log.exception
                level("job_failed", job=job.name, error=repr(error))
                handled = 0
            if handled is None or handled < job.batch_size:
                await asyncio.sleep(job.interval.total_seconds())


@contextlib.asynccontextmanager
async def scheduled(scheduler: Scheduler) -> AsyncIterator[None]:
    """Run the scheduler's jobs in the background for the duration of the block."""
    task = asyncio.create_task(scheduler.run_forever(), name="scheduler")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
