"""How long the local Kafka takes to format its storage and to start (until its port answers),
in a temporary folder: ``uv run python -m bench.kafka_start``."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from deploy import infra


def main() -> None:
    kafka = infra.Kafka(Path(tempfile.mkdtemp()) / "kafka", port=59361)
    infra.fetch_kafka()
    started = time.perf_counter()
    kafka.format()
    formatted = time.perf_counter() - started
    started = time.perf_counter()
    process = kafka.start()
    first = time.perf_counter() - started
    infra.stop(process)
    started = time.perf_counter()
    process = kafka.start()
    again = time.perf_counter() - started
    infra.stop(process)
    print(f"kafka: format {formatted:.1f} s, start {first:.1f} s, restart {again:.1f} s")


if __name__ == "__main__":
    main()
