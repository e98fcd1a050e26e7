"""The pure rules of the journal: the chain, its verification, personal data, summaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from contracts import TOPICS
from services.audit.domain import (
    GENESIS,
    EntryContent,
    EntryKind,
    SealedEntry,
    Summary,
    scrub,
    seal,
    verify_chain,
)
from services.audit.summaries import SUMMARIES
from tests.audit import events as ev

ORDER = uuid4()


def chain(n: int) -> list[SealedEntry]:
    entries, prev = [], GENESIS
    for seq in range(1, n + 1):
        at = ev.T0 + timedelta(seconds=seq)
        content = EntryContent(
            ORDER, seq, EntryKind.SYSTEM, "order.held", uuid4(), at, at,
            "staff", "s-1", Summary("a", "b", "c"), {"n": seq}, True,
        )  # fmt: skip
        entries.append(seal(content, prev))
        prev = entries[-1].hash
    return entries


def check(entries: list[SealedEntry], n: int, head: str) -> int | None:
    return verify_chain(ORDER, entries, n, head).broken_at


@given(st.data())
def test_any_single_tampering_is_found_at_its_sequence_number(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 12))
    entries = chain(n)
    head = entries[-1].hash
    k = data.draw(st.integers(1, n))
    assert verify_chain(ORDER, entries, n, head).whole
    edited = replace(entries[k - 1].content, details={"n": -1})
    assert (
        check([*entries[: k - 1], replace(entries[k - 1], content=edited), *entries[k:]], n, head)
        == k
    )
    assert check(entries[: k - 1] + entries[k:], n, head) == k
    if k < n:
        j = data.draw(st.integers(k + 1, n))
        swapped = list(entries)
        swapped[k - 1] = replace(entries[j - 1], content=replace(entries[j - 1].content, seq=k))
        swapped[j - 1] = replace(entries[k - 1], content=replace(entries[k - 1].content, seq=j))
        assert check(swapped, n, head) == k


def test_an_empty_or_extended_chain() -> None:
    assert verify_chain(ORDER, [], 0, GENESIS).whole
    entries = chain(3)
    assert check(entries, 2, entries[1].hash) == 3, "beyond the recorded head"


def test_scrub_removes_personal_data_and_keeps_the_rest() -> None:
    data = ev.placed(ORDER).data.model_dump(mode="json")
    cleaned = scrub(data)
    assert cleaned["customer"] == {"id": "cust-1", "locale": "pl"}
    assert "comment" not in cleaned
    assert cleaned["service_name"] == "r1z7og44"


def test_every_event_type_has_its_summary_in_three_languages() -> None:
    types = {
        model.model_fields["type"].default for t in TOPICS.values() for model in t.models.values()
    }
    assert types <= set(SUMMARIES)
    line = SUMMARIES["order.held"](ev.held(ORDER, ev.T0, ev.OrderStatus.IN_PROGRESS).data)
    assert "waiting for KYC" in line.en
    assert line.de.startswith("Angehalten")
    assert line.pl.startswith("Wstrzymano")
