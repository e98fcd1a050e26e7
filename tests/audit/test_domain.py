"""The pure rules of the journal: the chain, its verification, personal data, summaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from contracts import TOPICS
from services.audit.domain import (
    GENESIS,
    EntryContent,
    EntryKind,
    SealedEntry,
    StaffNote,
    StaffText,
    Summary,
    scrub,
    seal,
    staff_entry,
    verify_chain,
)
from services.audit.journal import signature_check
from services.audit.signing import Signer
from services.audit.summaries import SUMMARIES
from tests.audit import events as ev

ORDER = uuid4()
SIGNER = Signer(Ed25519PrivateKey.generate())
SIGNED = signature_check(SIGNER.public_key)


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
    return verify_chain(ORDER, entries, n, head, SIGNED).broken_at


@given(st.data())
def test_any_single_tampering_is_found_at_its_sequence_number(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 12))
    entries = chain(n)
    head = entries[-1].hash
    k = data.draw(st.integers(1, n))
    assert verify_chain(ORDER, entries, n, head, SIGNED).whole
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
    assert verify_chain(ORDER, [], 0, GENESIS, SIGNED).whole
    entries = chain(3)
    assert check(entries, 2, entries[1].hash) == 3, "beyond the recorded head"


def staff(prev: SealedEntry, text: str, salt: str, signer: Signer = SIGNER) -> SealedEntry:
    note = StaffNote("Called the customer", text)
    content = staff_entry(ORDER, prev.seq + 1, note, ev.STAFF, ev.T0, salt)
    entry = seal(content, prev.hash)
    return replace(entry, signature=signer.sign_staff_entry(entry.hash), text=StaffText(text, salt))


def test_staff_entries_verify_by_signature_and_text_redacted_or_not() -> None:
    entries = chain(2)
    note = staff(entries[-1], "Promised a refund to Jan Kowalski", "00" * 16)
    entries.append(note)
    assert "Jan" not in str(note.content.as_dict()), "the chain commits to the text, not it"
    assert verify_chain(ORDER, entries, 3, note.hash, SIGNED).redacted == ()

    redacted = replace(note, text=StaffText(None, None, ev.T0))
    result = verify_chain(ORDER, [*entries[:2], redacted], 3, note.hash, SIGNED)
    assert (result.whole, result.redacted) == (True, (3,))

    edited = replace(note, text=StaffText("Promised nothing", "00" * 16))
    unsigned = replace(note, signature=None)
    forged = staff(
        entries[1], note.text.text or "", "00" * 16, Signer(Ed25519PrivateKey.generate())
    )
    for bad, reason in [
        (edited, "text does not match its commitment"),
        (unsigned, "staff entry not signed by the service"),
        (forged, "staff entry not signed by the service"),
    ]:
        result = verify_chain(ORDER, [*entries[:2], bad], 3, bad.hash, SIGNED)
        assert (result.broken_at, result.reason) == (3, reason)


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
