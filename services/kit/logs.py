"""Structured logging: one JSON line per event on stderr, the same for our code and libraries.

Nothing is configured at import; a service's entrypoint calls ``configure_logging`` once.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

# Libraries that attach their own handlers; their records are sent to the root handler instead.
_LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "aiokafka", "faststream")


def configure_logging(service: str, json: bool = True, level: int | str = logging.INFO) -> None:
    """One line per event on stderr, rendered the same for our code and for libraries.

    Every line carries an ISO UTC ``timestamp``, ``level``, ``logger``, ``service``, ``event``
    and the bound context (``correlation_id`` and friends). ``json=False`` renders for humans.
    Our own lines are rendered by structlog and written at once, without passing through
    stdlib logging (its records, handlers and formatter cost a request's access line a tenth
    of the placing route's time); libraries' stdlib records reach the same renderer through
    the root handler. Run uvicorn with ``log_config=None`` so it keeps this setup, and give
    FastStream brokers ``logger=logging.getLogger("faststream.broker")`` (theirs does not
    propagate).
    """
    threshold = level if isinstance(level, int) else logging.getLevelName(level.upper())
    shared = _shared_processors(service)
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, renderer],
        logger_factory=_Line,
        # Below the threshold a call returns at once, before any processor runs.
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(threshold)
    for name in _LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    # The kit's middleware writes the access line, with the correlation id uvicorn lacks.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


class _Line:
    """Where structlog writes a rendered line of ours: the stderr of the moment (a test's
    capture replaces ``sys.stderr`` after a logger was made and cached). ``name`` is the
    ``logger`` field, as stdlib's ``add_logger_name`` reads it."""

    def __init__(self, name: str | None = None, *_: Any) -> None:
        self.name = name or "root"

    def msg(self, message: str) -> None:
        # One write per line (stderr is line-buffered): a line reaches the file whole.
        sys.stderr.write(message + "\n")

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def _shared_processors(service: str) -> list[Processor]:
    def add_service(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_service,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]


def get_logger(name: str | None = None) -> FilteringBoundLogger:
    """A structured logger; ``log.info("order_placed", order_id=...)``."""
    logger: FilteringBoundLogger = structlog.get_logger(name)
    return logger


@contextmanager
def bind_correlation(correlation_id: str | None, **more: Any) -> Iterator[None]:
    """Bind ``correlation_id`` (and e.g. ``event_id``, ``order_id``) to every log line inside.

    ``None`` values are left out, so a caller can pass what it has.
    """
    values = {"correlation_id": correlation_id, **more}
    with structlog.contextvars.bound_contextvars(
        **{key: value for key, value in values.items() if value is not None}
    ):
        yield


def bind_ids(ids: Mapping[str, str]) -> AbstractContextManager[None]:
    """Bind the ``event_id`` and ``correlation_id`` that ``ids`` has (from Kafka headers or an
    outbox row: either may be missing)."""
    return bind_correlation(ids.get("correlation_id"), event_id=ids.get("event_id"))


@contextmanager
def bind_values(**values: str) -> Iterator[None]:
    """Bind ``values`` to every log line inside; cheaper than :func:`bind_correlation` (no copy
    of the whole context, no None to leave out), for what runs once per request or record."""
    tokens = structlog.contextvars.bind_contextvars(**values)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


def bind_event(event_id: str, correlation_id: str) -> AbstractContextManager[None]:
    """Bind an event's ids to every log line inside: what a consumer or the relay logs while
    handling one event names it."""
    return bind_values(event_id=event_id, correlation_id=correlation_id)


def current_correlation_id() -> str | None:
    """The correlation id bound in this context, to stamp on outgoing events."""
    value = structlog.contextvars.get_contextvars().get("correlation_id")
    return str(value) if value is not None else None
