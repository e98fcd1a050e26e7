"""Write the JSON Schema of every event model to ``contracts/schemas/`` (``make schemas``).

Run: ``uv run python -m scripts.export_schemas`` (or ``uv run python scripts/export_schemas.py``).
A committed schema is only overwritten with a compatible one (`contracts.compat`): a breaking
change belongs in a new version of the event, so the command refuses it and exits 1, unless
``--allow-breaking`` is given (only for an event no one publishes yet). Files of event types the
code no longer defines are kept: removing an event type is breaking (``tests/contracts`` says so).
"""

from __future__ import annotations

import argparse
import json
import sys

from contracts.compat import breaking_changes
from contracts.export import SCHEMA_DIR, committed_schemas, current_schemas


def main(argv: list[str] | None = None) -> int:
    """Write new and changed schema files; report breaking changes and stale files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allow-breaking", action="store_true", help="overwrite regardless")
    allow_breaking = parser.parse_args(argv).allow_breaking
    SCHEMA_DIR.mkdir(exist_ok=True)
    committed, current = committed_schemas(), current_schemas()
    refused = 0
    for name, text in current.items():
        if committed.get(name) == text:
            continue
        if name in committed and not allow_breaking:
            problems = breaking_changes(json.loads(committed[name]), json.loads(text))
            if problems:
                refused += 1
                print(f"refused {name}: breaking within its version:", file=sys.stderr)
                print("".join(f"  {problem}\n" for problem in problems), end="", file=sys.stderr)
                continue
        (SCHEMA_DIR / name).write_text(text, "utf-8")
        print(f"{'updated' if name in committed else 'created'} {name}")
    for name in sorted(committed.keys() - current.keys()):
        print(f"stale {name}: no model defines it any more", file=sys.stderr)
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
