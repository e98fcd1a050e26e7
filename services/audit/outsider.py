"""Verification by someone who trusts nothing of ours but the public key: the exported journal
checked against the signed checkpoints. Pure: JSON lines in, a report out.

1. Every checkpoint must carry a valid signature, extend the one before it (consistency
   proof), and its leaves must hash to its root. The leaves of the last good checkpoint are
   then known for certain: which entry (order, sequence number) sits at each place of the
   tree, and the chain hash it had when the checkpoint was signed.
2. Every entry of the journal is recomputed from its content (and a staff entry's signature
   and text checked); every order's chain must run from 1 without gaps.
3. Every leaf a checkpoint covers must be in the journal, its content hashing to the same
   chain hash.

The first bad entry is the one earliest in the tree (entries no checkpoint covers yet come
after all covered ones). What no checkpoint covers yet is only as good as its chain and, for
staff entries, the service's signature: see "What the journal proves" in the README."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit import merkle
from services.audit.checkpoints import Checkpoint, Leaf, extends, signature_valid
from services.audit.domain import GENESIS, canonical, text_commitment
from services.audit.lines import content_of
from services.audit.signing import staff_statement, valid

Key = tuple[str, int]


@dataclass(frozen=True)
class Finding:
    """Something wrong: with an entry (order and sequence number) or with a checkpoint."""

    reason: str
    order_id: str | None = None
    seq: int | None = None
    leaf_index: int | None = None

    def describe(self) -> str:
        if self.order_id is None:
            return self.reason
        place = "" if self.leaf_index is None else f" (leaf {self.leaf_index})"
        return f"order {self.order_id} seq {self.seq}{place}: {self.reason}"


@dataclass
class Report:
    checkpoints: int = 0
    covered: int = 0
    entries: int = 0
    orders: int = 0
    redacted: list[Key] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def whole(self) -> bool:
        return not self.findings

    @property
    def first_bad(self) -> Finding | None:
        return self.findings[0] if self.findings else None


def verify_export(
    journal: Iterable[dict[str, Any]],
    checkpoint_lines: Iterable[dict[str, Any]],
    public_key: Ed25519PublicKey,
) -> Report:
    """Check an exported journal against checkpoints with the public key alone."""
    report = Report()
    leaves, checkpoint_findings = _trusted_leaves(checkpoint_lines, public_key, report)
    lines = _by_entry(journal, report)
    place = {(str(leaf.order_id), leaf.seq): n for n, leaf in enumerate(leaves)}
    entry_findings = [*_chain_findings(lines, public_key, report), *_coverage(leaves, lines)]
    located = [
        Finding(f.reason, f.order_id, f.seq, place.get((f.order_id or "", f.seq or 0)))
        for f in entry_findings
    ]
    # The earliest in the tree first; entries no checkpoint covers after them, by order.
    located.sort(key=lambda f: (f.leaf_index is None, f.leaf_index or 0, f.order_id, f.seq))
    report.findings = [*checkpoint_findings, *_first_per_entry(located)]
    return report


def _trusted_leaves(
    checkpoint_lines: Iterable[dict[str, Any]], public_key: Ed25519PublicKey, report: Report
) -> tuple[list[Leaf], list[Finding]]:
    """The leaves of the last checkpoint that is signed, extends the one before it and whose
    leaves hash to its root; stops at the first checkpoint that is not."""
    leaves: list[Leaf] = []
    previous: Checkpoint | None = None
    for line in sorted(checkpoint_lines, key=lambda c: int(c["tree_size"])):
        made = checkpoint_of(line)
        added = [Leaf(UUID(x["order_id"]), int(x["seq"]), x["entry_hash"]) for x in line["leaves"]]
        problem = _checkpoint_problem(made, previous, leaves + added, public_key)
        if problem is not None:
            return leaves, [Finding(f"checkpoint of tree size {made.tree_size}: {problem}")]
        leaves, previous = leaves + added, made
        report.checkpoints, report.covered = report.checkpoints + 1, made.tree_size
    return leaves, []


def _checkpoint_problem(
    made: Checkpoint, previous: Checkpoint | None, leaves: list[Leaf], key: Ed25519PublicKey
) -> str | None:
    if not signature_valid(made, key):
        return "its signature does not verify with the public key"
    if not extends(made, previous):
        return "it does not prove that it extends the checkpoint before it"
    if len(leaves) != made.tree_size:
        return f"it lists {len(leaves)} leaves in all, not {made.tree_size}"
    if merkle.root([leaf.hashed for leaf in leaves]).hex() != made.root_hash:
        return "its leaves do not hash to its root"
    return None


def checkpoint_of(line: dict[str, Any]) -> Checkpoint:
    return Checkpoint(
        tree_size=int(line["tree_size"]),
        root_hash=line["root_hash"],
        issued_at=datetime.fromisoformat(line["issued_at"]),
        key_id=line["key_id"],
        signature=line["signature"],
        previous_size=int(line["previous_size"]),
        consistency_proof=tuple(line["consistency_proof"]),
    )


def _by_entry(journal: Iterable[dict[str, Any]], report: Report) -> dict[Key, dict[str, Any]]:
    lines: dict[Key, dict[str, Any]] = {}
    for line in journal:
        lines[(str(line["order_id"]), int(line["seq"]))] = line
    report.entries = len(lines)
    report.orders = len({order for order, _ in lines})
    return lines


def recomputed_hash(line: dict[str, Any]) -> str:
    """``sha256(canonical(content) + prev_hash)`` of an export line."""
    return hashlib.sha256(canonical(content_of(line)) + str(line["prev_hash"]).encode()).hexdigest()


def _chain_findings(
    lines: dict[Key, dict[str, Any]], public_key: Ed25519PublicKey, report: Report
) -> list[Finding]:
    orders: dict[str, list[int]] = defaultdict(list)
    for order_id, seq in lines:
        orders[order_id].append(seq)
    findings = []
    for order_id, seqs in sorted(orders.items()):
        prev = GENESIS
        for expected, seq in enumerate(sorted(seqs), start=1):
            if seq != expected:
                findings.append(Finding("entry missing", order_id, expected))
                break
            line = lines[(order_id, seq)]
            problem = _line_problem(line, prev, public_key)
            if problem is not None:
                findings.append(Finding(problem, order_id, seq))
                break
            if line.get("redacted"):
                report.redacted.append((order_id, seq))
            prev = line["hash"]
    return findings


def _line_problem(line: dict[str, Any], prev: str, public_key: Ed25519PublicKey) -> str | None:
    if line["prev_hash"] != prev:
        return "does not follow the previous entry"
    if recomputed_hash(line) != line["hash"]:
        return "content does not match its hash"
    if line["kind"] != "staff":
        return None
    if not valid(public_key, line.get("signature"), staff_statement(line["hash"])):
        return "staff entry not signed by the service"
    commitment = line["details"].get("text_commitment")
    text, salt = line.get("text"), line.get("text_salt")
    if commitment is None or text is None or salt is None:  # redacted: nothing to check
        return None
    if text_commitment(text, salt) != commitment:
        return "text does not match its commitment"
    return None


def _coverage(leaves: list[Leaf], lines: dict[Key, dict[str, Any]]) -> list[Finding]:
    findings = []
    for leaf in leaves:
        key = (str(leaf.order_id), leaf.seq)
        line = lines.get(key)
        if line is None:
            findings.append(Finding("a checkpoint covers it, the journal lacks it", *key))
        elif recomputed_hash(line) != leaf.entry_hash:
            findings.append(Finding("differs from what a checkpoint covers", *key))
    return findings


def _first_per_entry(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str | None, int | None]] = set()
    kept = []
    for finding in findings:
        if (finding.order_id, finding.seq) not in seen:
            seen.add((finding.order_id, finding.seq))
            kept.append(finding)
    return kept
