"""GET /reconcile: the auditor's (and operator's) check that what the API shows is what the chain holds."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ContextDep, CurrentMember
from api.errors import ApiProblem
from api.policy import require_sees_all
from api.routes.problems import AUTH, CONFLICT
from chain_client.index import reconcile

router = APIRouter(tags=["audit"], responses=AUTH)

# One reconcile at a time: it reads every fragment from the chain while holding the index still, so a second
# one queued behind it would only double the wait of every other read.
_running = threading.Lock()


def _wire(value: Any) -> Any:
    """Integers as decimal strings (balances and ids exceed 2^53), the rest as JSON has it."""
    if value is None or isinstance(value, bool | str):
        return value
    return str(value)


class DifferencePublic(BaseModel):
    what: str = Field(description="receivable, fragment, member, credit line, cash, owner count, receivables")
    key: str = Field(description="which one: a slot, a token id, an address")
    field: str
    index: Any = Field(description="the API's view (its event index); integers as decimal strings")
    chain: Any = Field(description="the contracts' state at the same block; integers as decimal strings")


class ReconciliationPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "agree": False,
                    "block": 1842,
                    "receivables": 12,
                    "differences": [
                        {"what": "cash", "key": "0x5aAe…eAed", "field": "balance", "index": "100", "chain": "99"}
                    ],
                }
            ]
        }
    )

    agree: bool = Field(description="no difference at all")
    block: int = Field(description="the block both were read at (the index's last synced block)")
    receivables: int = Field(description="how many receivables were checked, with all their fragments")
    differences: list[DifferencePublic]


@router.get("/reconcile", summary="Reconcile the API's records with the chain (auditor, operator)", responses=CONFLICT)
def read_reconciliation(context: ContextDep, member: CurrentMember) -> ReconciliationPublic:
    """Sync, then compare every receivable, fragment, member, credit line and cash balance the API shows
    (its event index) with the contracts' own state at the same block: `agree`, or each difference. Reads
    every fragment from the chain, so it takes time on a large book and runs one at a time (a second call
    meanwhile is 409 `ReconcileRunning`). Operator and auditors only (others 403 `WrongRole`)."""
    require_sees_all(member)
    if not _running.acquire(blocking=False):
        raise ApiProblem(409, "ReconcileRunning", {"detail": "another reconcile is running: try again when it ends"})
    try:
        with context.read() as view:
            found = reconcile(view.index, context.scf)
            block = view.index.synced_block or 0
            receivables = len(view.index.receivables())
    finally:
        _running.release()
    differences = [
        DifferencePublic(what=d.what, key=d.key, field=d.field, index=_wire(d.index), chain=_wire(d.chain))
        for d in found
    ]
    return ReconciliationPublic(agree=not found, block=block, receivables=receivables, differences=differences)
