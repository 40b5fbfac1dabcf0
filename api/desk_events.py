"""FinancingDesk events, read from the event index.

The indexer stores every event of the deployment but projects only the token, cash and membership ones, so
the desk's `Financed` and `RequestCancelled` events are read here from its `events` table. This module is
the only place that knows that table's layout: when the index gains a financing projection, only this
changes. (Arguments are parsed in Python: SQLite's json_extract turns 256-bit ids into lossy floats.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from api.store import Funding
from chain_client.indexer import EventIndex

_FINANCED = """SELECT e.args, e.block_number, coalesce(b.timestamp, 0), e.tx_hash
               FROM events e LEFT JOIN blocks b ON b.number = e.block_number
               WHERE e.contract = 'FinancingDesk' AND e.event = 'Financed'"""


@dataclass(frozen=True)
class Financed:
    request_hash: str
    token_id: int
    financed_token_id: int
    seller: str
    financier: str
    value: int
    price: int
    recourse: bool
    block_number: int
    block_time: int
    tx_hash: str

    def funding(self) -> Funding:
        return Funding(self.financier, self.financed_token_id, self.tx_hash, self.block_number, self.block_time)


def _financed(row: tuple[Any, ...]) -> Financed:
    args, block, block_time, tx_hash = row
    a = json.loads(args)
    return Financed(
        request_hash=str(a["requestHash"]),
        token_id=int(a["tokenId"]),
        financed_token_id=int(a["financedTokenId"]),
        seller=str(a["seller"]),
        financier=str(a["financier"]),
        value=int(a["value"]),
        price=int(a["price"]),
        recourse=bool(a["recourse"]),
        block_number=int(block),
        block_time=int(block_time),
        tx_hash=str(tx_hash),
    )


def financed_by(index: EventIndex, financier: str) -> list[Financed]:
    """Every financing `financier` funded, in chain order (through the API or not)."""
    sql = f"{_FINANCED} AND json_extract(e.args, '$.financier') = ? ORDER BY e.block_number, e.tx_index, e.log_index"
    return [_financed(r) for r in index.conn.execute(sql, (financier,))]


def financed_requests(index: EventIndex, request_hashes: list[str]) -> dict[str, Financed]:
    """The `Financed` event of each of `request_hashes` that was funded."""
    if not request_hashes:
        return {}
    marks = ",".join("?" * len(request_hashes))
    sql = f"{_FINANCED} AND json_extract(e.args, '$.requestHash') IN ({marks})"
    found = (_financed(r) for r in index.conn.execute(sql, request_hashes))
    return {f.request_hash: f for f in found}


def cancelled_nonces(index: EventIndex, signers: list[str]) -> set[tuple[str, int]]:
    """(signer, nonce) of every request `signers` cancelled on the desk."""
    if not signers:
        return set()
    marks = ",".join("?" * len(signers))
    rows = index.conn.execute(
        f"""SELECT args FROM events WHERE contract = 'FinancingDesk' AND event = 'RequestCancelled'
            AND json_extract(args, '$.signer') IN ({marks})""",
        signers,
    )
    out = set()
    for (args,) in rows:
        a = json.loads(args)
        out.add((str(a["signer"]), int(a["nonce"])))
    return out
