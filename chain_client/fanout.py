"""One receivable grown to many fragments held by many accounts, by batch splits (`split` to many holders,
`BATCH` a transaction) sent pipelined (`Transactor.transact_many`): how `bench.py scaling` builds its sizes and
how `python -m api --seed-fragments N` seeds a large receivable. Development and benchmarks only: the values
are equal shares, the memos random."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from chain_client.client import ScfClient

BATCH = 100  # recipients per split transaction
TIER2 = 99  # pieces split off the first fragment; each is then split again


@dataclass(frozen=True)
class Grown:
    """The fragments made (in order: the second tier, then the third), the last of them (the deepest), and the
    split transactions sent."""

    token_ids: list[int]
    deepest: int
    transactions: int


def split_into(scf: ScfClient, holder: LocalAccount, token_id: int, to: Sequence[str], n: int) -> list[int]:
    """`n` equal pieces off `token_id` to `to` in turn, `BATCH` per transaction, pipelined; the new ids."""
    rt = scf.receivables
    share = rt.balance_of(token_id) // (n + 1)
    calls = []
    for start in range(0, n, BATCH):
        count = min(BATCH, n - start)
        payments = [(to[(start + i) % len(to)], share) for i in range(count)]
        calls.append(rt.split_call(holder, token_id, payments, os.urandom(32), gas=80_000 + 90_000 * count))
    out: list[int] = []
    for receipt in scf.tx.transact_many(calls):
        out += rt.split_result(receipt).new_token_ids
    return out


def grow(scf: ScfClient, first: LocalAccount, token_id: int, holders: Sequence[LocalAccount], n: int) -> Grown:
    """Make the accepted fragment `token_id`, held by `first`, into a receivable of `n` fragments over three
    tiers: up to `TIER2` pieces to the `holders` other than `first`, then each of those split to all `holders`
    in turn until there are `n` (the first fragment counted). Every holder that receives a second-tier piece
    signs splits: each needs gas for about `n / (BATCH * len(holders))` + 1 transactions."""
    rt = scf.receivables
    by_address: dict[str, LocalAccount] = {h.address: h for h in holders}
    addresses: list[str] = [h.address for h in holders]
    others = [a for a in addresses if a != first.address]
    tier2 = split_into(scf, first, token_id, others, min(n - 1, TIER2))
    sent = -(-len(tier2) // BATCH)
    made, deepest = list(tier2), tier2[-1] if tier2 else token_id
    left = n - 1 - len(tier2)
    each = -(-left // len(tier2)) if tier2 else 0
    for piece in tier2:
        if left <= 0:
            break
        take = min(left, each)
        pieces = split_into(scf, by_address[rt.owner_of(piece)], piece, addresses, take)
        sent += -(-take // BATCH)
        made += pieces
        deepest = pieces[-1]
        left -= take
    return Grown(made, deepest, sent)
