"""``python -m services.audit.verify_export``: check an exported journal against the signed
checkpoints, with the public key alone (no database, no service).

    python -m services.audit.verify_export --public-key audit-key.pem \\
        --journal journal.jsonl --checkpoints checkpoints.jsonl

``journal.jsonl`` is ``GET /journal/export``, ``checkpoints.jsonl`` is
``GET /journal/checkpoints/export`` or the events of ``audit.checkpoints`` kept by an archive
(one checkpoint per line, the event's ``data`` or the line itself), the key is
``GET /journal/public-key``. Prints what was checked and every bad entry, the first one first;
exits 0 when all is whole, 1 otherwise."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.audit.outsider import Report, verify_export
from services.audit.signing import key_id, load_public_key


def read_lines(path: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    # An archived event carries the checkpoint in ``data``.
    return [line.get("data", line) if "data" in line and "type" in line else line for line in lines]


def describe(report: Report, key: str) -> list[str]:
    out = [
        f"checkpoints: {report.checkpoints} verified with key {key}, "
        f"covering the first {report.covered} entries",
        f"journal: {report.entries} entries of {report.orders} orders, "
        f"{max(report.entries - report.covered, 0)} not covered by a checkpoint yet "
        f"(checked by their chains and signatures only), {len(report.redacted)} redacted",
    ]
    out += [f"redacted: order {order} seq {seq}" for order, seq in report.redacted]
    if report.whole:
        return [*out, "whole"]
    first, *others = report.findings
    return [*out, f"BROKEN, first: {first.describe()}", *(f"also: {f.describe()}" for f in others)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.audit.verify_export")
    parser.add_argument("--public-key", type=Path, required=True, help="PEM or 64 hex digits")
    parser.add_argument("--journal", type=Path, required=True, help="JSON lines")
    parser.add_argument("--checkpoints", type=Path, required=True, help="JSON lines")
    args = parser.parse_args(argv)
    public_key = load_public_key(args.public_key.read_text())
    report = verify_export(read_lines(args.journal), read_lines(args.checkpoints), public_key)
    print("\n".join(describe(report, key_id(public_key))))
    return 0 if report.whole else 1


if __name__ == "__main__":
    sys.exit(main())
