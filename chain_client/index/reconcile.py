"""`reconcile`: every way the index and the chain disagree, read at the index's cursor block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hexbytes import HexBytes

from chain_client import rules
from chain_client.client import ScfClient
from chain_client.contract_errors import NonexistentToken
from chain_client.exceptions import ContractError
from chain_client.ids import token_id_of
from chain_client.index.store import EventIndex, IndexMismatch
from chain_client.membership import Role
from chain_client.reads import Reader, call_one, read_many
from chain_client.receivables import ReceivableState


@dataclass(frozen=True)
class Difference:
    """One way the index and the chain disagree."""

    what: str  # receivable, fragment, member, credit line, cash, owner count, receivables
    key: str
    field: str
    index: Any
    chain: Any

    def __str__(self) -> str:
        return f"{self.what} {self.key}: {self.field} is {self.index!r} in the index, {self.chain!r} on chain"


# Matured is derived from the clock: compare "active or matured" as one.
def _comparable(state: int) -> int:
    return int(ReceivableState.ACTIVE) if state == ReceivableState.MATURED else int(state)


def reconcile(index: EventIndex, client: ScfClient, *, block: int | None = None) -> list[Difference]:
    """Compare the index with the chain's state at the index's cursor block (or `block`); every difference.

    `client` is a `ScfClient` for the same deployment. Checks each receivable (the set of slots issued is read
    again from the chain), each fragment (owner, value, parent, frozen, burned, claimable), each receivable's
    live total, each holder's fragment count, each member's role and suspension, credit lines, cash balances
    and supply.
    """
    at = index.synced_block if block is None else block
    if at is None:
        raise ValueError("the index has not been synced yet")
    chain_id = client.w3.eth.chain_id
    if index.chain_id is not None and index.chain_id != chain_id:
        raise IndexMismatch(f"index is for chain {index.chain_id}, client is on chain {chain_id}")
    token = client.receivables.contract
    diffs: list[Difference] = []

    def call(fn: Any) -> Any:
        return call_one(fn, at)

    def many(contract: Any, function: str, args: list[tuple[Any, ...]]) -> list[Any]:
        """`function` read for each of `args` at the cursor block, in batches where the node takes them; a revert
        other than a burned fragment's is raised, as a single read raises it."""
        results = read_many(client.w3, Reader(contract, function), args, block=at)
        for r in results:
            if isinstance(r, ContractError) and not isinstance(r, NonexistentToken):
                raise r
        return results

    def differ(what: str, key: str, name: str, ours: Any, theirs: Any) -> None:
        if ours != theirs:
            diffs.append(Difference(what, key, name, ours, theirs))

    # Receivables: the index's slots against those the chain's ReceivableIssued events name.
    issued = token.events.ReceivableIssued()
    topic = HexBytes(issued.topic).to_0x_hex()  # eth-tester matches topics given as hex text only
    start = index.start_block or 0
    chain_slots = {
        int.from_bytes(HexBytes(log["topics"][1]), "big")
        for log in client.w3.eth.get_logs(
            {"fromBlock": start, "toBlock": at, "address": token.address, "topics": [topic]}
        )
    }
    index_slots = {r.slot for r in index.receivables()}
    for slot in sorted(chain_slots - index_slots):
        diffs.append(Difference("receivable", hex(slot), "present", False, True))
    for slot in sorted(index_slots - chain_slots):
        diffs.append(Difference("receivable", hex(slot), "present", True, False))

    outputs = [o["name"] for o in token.get_function_by_name("receivable").abi["outputs"][0]["components"]]
    block_time = int(client.w3.eth.get_block(at)["timestamp"])
    owner_counts: dict[str, int] = {}
    for row in index.receivables():
        if row.slot not in chain_slots:
            continue
        key = hex(row.slot)
        info = dict(zip(outputs, call(token.functions.receivable(row.slot)), strict=True))
        differ("receivable", key, "debtor", row.debtor, info["debtor"])
        differ("receivable", key, "face value", row.face_value, int(info["faceValue"]))
        differ("receivable", key, "maturity", row.maturity, int(info["maturity"]))
        differ("receivable", key, "issued at", row.issued_at, int(info["issuedAt"]))
        differ("receivable", key, "document hash", row.document_hash, "0x" + bytes(info["documentHash"]).hex())
        differ("receivable", key, "state", _comparable(row.state), _comparable(int(info["state"])))
        differ("receivable", key, "fragments created", row.fragments_created, int(info["fragmentsCreated"]))
        differ("receivable", key, "repaid", row.repaid, int(info["repaid"]))
        differ("receivable", key, "redeemedValue", row.redeemed_value, int(info["redeemedValue"]))
        differ("receivable", key, "paidOut", row.paid_out, int(info["paidOut"]))

        tree = index.tree(row.slot)
        assert tree is not None
        known = {f.sequence: f for f in tree.fragments}
        live_total = 0
        sequences = range(1, max(int(info["fragmentsCreated"]), max(known, default=0)) + 1)
        tids = [token_id_of(row.slot, sequence) for sequence in sequences]
        read = many(token, "fragment", [(tid,) for tid in tids])
        live = [i for i, r in enumerate(read) if not isinstance(r, NonexistentToken) and known.get(sequences[i])]
        claimable = dict(zip(live, many(token, "claimable", [(tids[i],) for i in live]), strict=True))
        for i, (sequence, tid) in enumerate(zip(sequences, tids, strict=True)):
            ours_f = known.get(sequence)
            if isinstance(read[i], NonexistentToken):
                if ours_f is None or not ours_f.burned:
                    diffs.append(Difference("fragment", str(tid), "exists", ours_f is not None, False))
                continue
            owner, value, _slot, parent_id, frozen = read[i]
            if ours_f is None:
                diffs.append(Difference("fragment", str(tid), "exists", False, True))
                continue
            live_total += int(value)
            owner_counts[owner] = owner_counts.get(owner, 0) + 1
            differ("fragment", str(tid), "burned", ours_f.burned, False)
            differ("fragment", str(tid), "owner", ours_f.owner, owner)
            differ("fragment", str(tid), "value", ours_f.value, int(value))
            parent = token_id_of(row.slot, ours_f.parent_sequence) if ours_f.parent_sequence else 0
            differ("fragment", str(tid), "parent", parent, int(parent_id))
            differ("fragment", str(tid), "frozen", ours_f.frozen, bool(frozen))
            # What the index says the holder can pull now, by the contract's rule (0 before maturity).
            details = index.fragment(tid)
            assert details is not None
            ours_claim = rules.claimable(
                ours_f.value, details.paid, row.repaid, row.face_value, row.state, row.maturity, block_time
            )
            differ("fragment", str(tid), "claimable", ours_claim, int(claimable[i]))
        differ("receivable", key, "live value", row.live_value, live_total)

    # Owner counts (ERC-721 balanceOf) of everyone the index or the chain says holds fragments.
    index_counts = index.fragments_held()
    owners = sorted(set(index_counts) | set(owner_counts))
    for owner, held in zip(owners, many(token, "balanceOf(address)", [(o,) for o in owners]), strict=True):
        differ("owner count", owner, "fragments held", index_counts.get(owner, 0), int(held))

    membership = client.membership.contract
    members = index.members()
    roles = many(membership, "roleOf", [(m.account,) for m in members])
    actives = many(membership, "isActive", [(m.account,) for m in members])
    for member, role, active in zip(members, roles, actives, strict=True):
        differ("member", member.account, "role", member.role, Role(role))
        differ("member", member.account, "suspended", member.suspended, not bool(active))

    for debtor, (limit, used) in index.credit_lines().items():
        chain_limit, chain_used = call(token.functions.creditLine(debtor))
        differ("credit line", debtor, "limit", limit, int(chain_limit))
        differ("credit line", debtor, "used", used, int(chain_used))

    cash = client.cash.contract
    balances = index.cash_balances()
    accounts = sorted(balances)
    for account, held in zip(accounts, many(cash, "balanceOf", [(a,) for a in accounts]), strict=True):
        differ("cash", account, "balance", balances[account], int(held))
    differ("cash", "total", "supply", sum(balances.values()), int(call(cash.functions.totalSupply())))
    return diffs
