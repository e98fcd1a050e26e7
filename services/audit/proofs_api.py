"""HTTP routes of the signed checkpoints: the public key, the checkpoints, the whole journal's
export and an entry's proof of inclusion. See docs/journal-proofs.md for what to do with them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from services.audit import checkpointing
from services.audit.api import signer
from services.audit.checkpoints import Checkpoint
from services.audit.errors import JournalNotFound
from services.audit.lines import entry_line
from services.audit.schemas import CheckpointOut, EntryProofOut, PublicKeyOut
from services.audit.signing import public_pem, raw_public
from services.audit.tree_repository import TreeRepository
from services.kit.auth import CurrentPrincipal, StaffPrincipal
from services.kit.problems import PROBLEM_RESPONSES
from services.kit.requests import Ctx, Work

router = APIRouter(tags=["checkpoints"], responses=PROBLEM_RESPONSES)

JSON_LINES: dict[int | str, dict[str, Any]] = {200: {"content": {"application/x-ndjson": {}}}}


def _json_lines(lines: Iterable[dict[str, Any]]) -> Response:
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return Response(text, media_type="application/x-ndjson")


@router.get("/journal/public-key", response_model=PublicKeyOut, summary="The signing key")
async def public_key(request: Request) -> PublicKeyOut:
    """The Ed25519 public key that signs checkpoints and staff entries. Public: keep a copy
    from a source you trust, and verify with that copy."""
    key = signer(request)
    return PublicKeyOut(
        key_id=key.key_id,
        public_key_hex=raw_public(key.public_key).hex(),
        public_key_pem=public_pem(key.public_key),
    )


@router.post("/journal/checkpoints", response_model=CheckpointOut, summary="Make a checkpoint now")
async def make_checkpoint(
    request: Request, _: StaffPrincipal, work: Work, ctx: Ctx
) -> CheckpointOut:
    """Commit to everything journaled so far now, instead of at the job's next pass (staff).
    Returns the new checkpoint, or the latest when nothing was journaled since; 404 while the
    journal is empty. A checkpoint adds at most 2000 entries: call again while it grows."""
    made, _added = await checkpointing.checkpoint(work, signer=signer(request), now=ctx.now)
    return CheckpointOut.of(_found(made))


@router.get(
    "/journal/checkpoints/latest", response_model=CheckpointOut, summary="The latest checkpoint"
)
async def latest_checkpoint(_: CurrentPrincipal, work: Work) -> CheckpointOut:
    return CheckpointOut.of(_found(await TreeRepository(work.session).latest()))


@router.get(
    "/journal/checkpoints/export",
    response_class=Response,
    responses=JSON_LINES,
    summary="Every checkpoint with its leaves",
)
async def export_checkpoints(_: StaffPrincipal, work: Work) -> Response:
    """Every checkpoint, oldest first, one per line, each with the leaves it added (order,
    sequence number and chain hash of each entry): what an archive of ``audit.checkpoints``
    holds, and what ``python -m services.audit.verify_export`` reads (staff)."""
    return _json_lines(await checkpointing.checkpoints_with_leaves(work))


@router.get(
    "/journal/checkpoints/{tree_size}", response_model=CheckpointOut, summary="A checkpoint"
)
async def one_checkpoint(tree_size: int, _: CurrentPrincipal, work: Work) -> CheckpointOut:
    return CheckpointOut.of(_found(await TreeRepository(work.session).checkpoint(tree_size)))


@router.get(
    "/journal/export",
    response_class=Response,
    responses=JSON_LINES,
    summary="Export the whole journal",
)
async def export_journal(_: StaffPrincipal, work: Work) -> Response:
    """Every entry of every order as JSON lines (the lines of an order's export, each with its
    ``leaf_index`` in the checkpoints' tree once it has one), for
    ``python -m services.audit.verify_export`` (staff)."""
    return _json_lines(await checkpointing.whole_journal(work))


@router.get(
    "/orders/{order_id}/journal/entries/{seq}/proof",
    response_model=EntryProofOut,
    summary="An entry with its proof of inclusion",
)
async def entry_proof(
    order_id: UUID,
    seq: int,
    viewer: CurrentPrincipal,
    work: Work,
    tree_size: Annotated[int | None, Query(description="Default: the latest checkpoint")] = None,
) -> EntryProofOut:
    """The entry, its place in the tree of a signed checkpoint and the audit path to the
    tree's root: with the public key, anyone can check offline that the checkpoint covers the
    entry exactly as it reads (docs/journal-proofs.md). 409 while no checkpoint covers it yet."""
    proof = await checkpointing.entry_proof(
        work, order_id=order_id, seq=seq, viewer=viewer, tree_size=tree_size
    )
    return EntryProofOut(
        entry=entry_line(proof.entry, proof.leaf_index),
        leaf_index=proof.leaf_index,
        checkpoint=CheckpointOut.of(proof.checkpoint),
        inclusion_path=proof.path,
    )


def _found(checkpoint: Checkpoint | None) -> Checkpoint:
    if checkpoint is None:
        raise JournalNotFound("No checkpoint yet: the journal is empty")
    return checkpoint
