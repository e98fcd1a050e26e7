"""Signed checkpoints as staff, customers and an outsider meet them: made on demand and by the
job, published on ``audit.checkpoints``, each extending the one before; entries with proofs a
small documented program checks offline; staff texts redacted without breaking anything."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker

from services.audit.checkpoints import extends, signature_valid
from services.audit.jobs import CHECKPOINT
from services.audit.outsider import checkpoint_of
from services.audit.signing import load_public_key
from tests.apps import RunningService
from tests.audit import outside
from tests.audit.conftest import OWNER, STAFF, STRANGER, entry_count, journal, verify
from tests.stack import Servers

DOC = Path(__file__).resolve().parents[2] / "docs" / "journal-proofs.md"


async def test_checkpoints_extend_each_other_and_are_published(
    audit: RunningService, kafka: KafkaBroker, prefix: str, stack: Servers
) -> None:
    assert (await audit.http.get("/journal/checkpoints/latest", headers=STAFF)).status_code == 404
    await outside.journaled(audit, kafka, prefix, 2)
    first = await outside.checkpoint(audit)
    assert (first["tree_size"], first["previous_size"]) == (18, 0)
    assert await outside.checkpoint(audit) == first, "nothing new: no new checkpoint"

    await outside.journaled(audit, kafka, prefix, 1)
    assert await audit.runtime.jobs.run_once(CHECKPOINT) == 9, "the job places the new entries"
    second = (await audit.http.get("/journal/checkpoints/latest", headers=OWNER)).json()
    assert (second["tree_size"], second["previous_size"]) == (27, 18)

    key = load_public_key(await outside.public_key_pem(audit))
    older, newer = checkpoint_of(first), checkpoint_of(second)
    assert [signature_valid(older, key), signature_valid(newer, key)] == [True, True]
    assert [extends(newer, older), extends(older, None)] == [True, True]
    forged = checkpoint_of({**second, "root_hash": first["root_hash"]})
    assert [signature_valid(forged, key), extends(forged, older)] == [False, False]

    # Unkeyed, they may sit on different partitions: an archive orders them by tree size.
    archived = sorted(
        await outside.archived_events(stack, prefix, 2), key=lambda e: e["data"]["tree_size"]
    )
    assert [(e["type"], e["data"]["tree_size"]) for e in archived] == [
        ("journal.checkpointed", 18),
        ("journal.checkpointed", 27),
    ]
    assert [len(e["data"]["leaves"]) for e in archived] == [18, 9]
    assert {k: archived[1]["data"][k] for k in second} == second
    one = await audit.http.get("/journal/checkpoints/18", headers=OWNER)
    assert one.json() == first


async def test_a_staff_text_is_redacted_and_the_journal_still_verifies(
    audit: RunningService, kafka: KafkaBroker, prefix: str
) -> None:
    [order_id] = await outside.journaled(audit, kafka, prefix, 1)
    note = await outside.staff_note(audit, order_id, "Anna Zielinska, +48 600 100 200, called")
    assert note["text"] == "Anna Zielinska, +48 600 100 200, called"
    assert "Zielinska" not in json.dumps(note["details"]), "the chain holds a commitment only"
    assert note["signature"]

    redaction = await outside.redact(audit, order_id, note["seq"])
    assert redaction.status_code == 201, redaction.text
    assert redaction.json()["type"] == "staff.redaction"
    assert redaction.json()["details"] == {"redacts": note["seq"]}
    assert (await outside.redact(audit, order_id, note["seq"])).status_code == 409
    assert (await outside.redact(audit, order_id, 1)).status_code == 422, "a system entry"

    entries = await entry_count(audit, order_id, 11)
    redacted = entries[note["seq"] - 1]
    assert (redacted["text"], redacted["redacted"]) == (None, True)
    assert "Zielinska" not in (await journal(audit, order_id)).text
    result = await verify(audit, order_id)
    assert (result["status"], result["redacted"]) == ("whole", [note["seq"]])


def procedure() -> str:
    """The program docs/journal-proofs.md gives a customer's lawyer, as printed there."""
    match = re.search(r"```python\n(.*?)```", DOC.read_text("utf-8"), re.DOTALL)
    assert match is not None
    return match.group(1)


def run_procedure(folder: Path, proof: dict[str, Any], pem: str) -> tuple[int, str]:
    (folder / "check_entry.py").write_text(procedure())
    (folder / "proof.json").write_text(json.dumps(proof))
    (folder / "key.pem").write_text(pem)
    done = subprocess.run(
        [sys.executable, "check_entry.py", "proof.json", "key.pem"],
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


async def test_an_entry_with_its_proof_checks_offline_by_the_documented_procedure(
    audit: RunningService, kafka: KafkaBroker, prefix: str, tmp_path: Path
) -> None:
    [order_id, _] = await outside.journaled(audit, kafka, prefix, 2)
    note = await outside.staff_note(audit, order_id, "Promised a refund", visible_to_customer=True)
    hidden = await outside.staff_note(audit, order_id, "Internal remark")
    path = f"/orders/{order_id}/journal/entries/{note['seq']}/proof"
    assert (await audit.http.get(path, headers=STAFF)).status_code == 409, "no checkpoint yet"
    await outside.checkpoint(audit)
    await outside.journaled(audit, kafka, prefix, 1)  # the tree grows after the entry
    await outside.checkpoint(audit)
    pem = await outside.public_key_pem(audit)

    for seq in (1, note["seq"], 5):
        answer = await audit.http.get(
            f"/orders/{order_id}/journal/entries/{seq}/proof", headers=OWNER
        )
        assert answer.status_code == 200, answer.text
        code, output = run_procedure(tmp_path, answer.json(), pem)
        assert (code, output.split(":")[0]) == (0, "OK"), output
    hidden_path = f"/orders/{order_id}/journal/entries/{hidden['seq']}/proof"
    assert (await audit.http.get(hidden_path, headers=OWNER)).status_code == 404
    assert (await audit.http.get(path, headers=STRANGER)).status_code == 404

    proof = (await audit.http.get(path, headers=OWNER, params={"tree_size": 20})).json()
    assert proof["checkpoint"]["tree_size"] == 20
    assert run_procedure(tmp_path, proof, pem)[0] == 0, "against an older checkpoint too"
    for changed, failure in [
        ({"entry": {**proof["entry"], "visible_to_customer": False}}, "content does not match"),
        ({"entry": {**proof["entry"], "text": "Promised nothing"}}, "not the one the entry"),
        ({"leaf_index": proof["leaf_index"] + 1}, "not in the checkpoint"),
        # The path may fit a tree one larger; the signature covers the size.
        ({"checkpoint": {**proof["checkpoint"], "tree_size": 21}}, "FAILED: the "),
        ({"checkpoint": {**proof["checkpoint"], "issued_at": "2020-01-01T00:00:00.000000Z"}},
         "not signed with this key"),
    ]:  # fmt: skip
        code, output = run_procedure(tmp_path, {**proof, **changed}, pem)
        assert (code, failure in output) == (1, True), output
    stranger_key = (
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="
        "\n-----END PUBLIC KEY-----\n"
    )
    code, output = run_procedure(tmp_path, proof, stranger_key)
    assert (code, "not signed by the service" in output) == (1, True), output
