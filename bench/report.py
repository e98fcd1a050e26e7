"""One table for every benchmark: what, ours, the ceiling, the ratio and the goal."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One line: ``ours`` and ``ceiling`` in the same unit (bigger is better), with context."""

    what: str
    ours: float
    ceiling: float | None
    unit: str
    goal: float | None
    ours_note: str = ""
    ceiling_note: str = ""
    extra_goal: str = ""
    extra_met: bool = True
    #: A line that gives context (what the stack itself reaches): no goal, no mark.
    context: bool = False

    @property
    def ratio(self) -> float | None:
        return None if not self.ceiling else self.ours / self.ceiling

    @property
    def met(self) -> bool:
        ratio_met = self.goal is None or (self.ratio is not None and self.ratio >= self.goal)
        return ratio_met and self.extra_met


def _amount(value: float, unit: str, note: str) -> str:
    text = f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.2f} {unit}"
    return f"{text}, {note}" if note else text


def table(figures: Iterable[Figure]) -> str:
    lines = [
        "| what | ours | ceiling, same run | ratio | goal |",
        "|---|---|---|---|---|",
    ]
    for f in figures:
        ceiling = _amount(f.ceiling, f.unit, f.ceiling_note) if f.ceiling else f.ceiling_note
        ratio = f"**{f.ratio:.2f}**" if f.ratio is not None else ""
        goals = [f"≥ {f.goal}" if f.goal is not None else "", f.extra_goal]
        goal = ", ".join(g for g in goals if g)
        mark = "" if f.context else f" {'✔' if f.met else '✘'}"
        lines.append(
            f"| {f.what} | {_amount(f.ours, f.unit, f.ours_note)} | {ceiling} | {ratio} | "
            f"{goal or '(context)'}{mark} |"
        )
    return "\n".join(lines)
