"""GET /health: is the chain reachable, how far is the index, which contracts. No key needed."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ContextDep
from api.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/health")
def health(context: ContextDep) -> HealthPublic:
    with context.read() as view:
        index_block = view.index.synced_block
    w3 = context.scf.w3
    return HealthPublic(
        status="ok",
        chain_id=w3.eth.chain_id,
        block=w3.eth.block_number,
        chain_time=view.now,
        index_block=index_block,
        development=context.development,
        contracts={name: str(c.address) for name, c in context.scf.contracts.items()},
    )
