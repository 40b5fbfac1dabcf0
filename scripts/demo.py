"""A three-tier supply chain on the embedded chain, ending with the receivable's split tree.

A core enterprise confirms a ¥1,000,000.00 payable to its tier-1 supplier, which accepts it and pays two
tier-2 suppliers with pieces of it; they pay tier-3 suppliers in turn. Every step is a real transaction
on an in-process EVM; the tree at the end is read back from the chain.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from rich.console import Console
from rich.tree import Tree

from chain_client import Role, ScfClient, accounts_of, connect, deploy_all
from chain_client.devchain import now
from chain_client.money import format_fen
from chain_client.receivables import Fragment, sequence_of

DAY = 24 * 3600


@dataclass(frozen=True)
class Member:
    name: str
    account: LocalAccount


def build_tree(scf: ScfClient, slot: int, names: dict[str, str]) -> Tree:
    info = scf.receivables.receivable(slot)
    fragments = scf.receivables.fragments_of(slot)
    children: dict[int, list[Fragment]] = {}
    for f in fragments:
        children.setdefault(f.parent_id, []).append(f)
    title = (
        f"[bold]Receivable {hex(slot)[:14]}…[/bold]  owed by {names[info.debtor]}  "
        f"face {format_fen(info.face_value)}  state {info.state.name.lower()}"
    )
    tree = Tree(title)

    def add(node: Tree, parent: int, tier: int) -> None:
        for f in children.get(parent, []):
            label = f"#{sequence_of(f.token_id)}  tier {tier}  {names.get(f.owner, f.owner)}  {format_fen(f.value)}"
            add(node.add(label), f.token_id, tier + 1)

    add(tree, 0, 1)
    total = sum(f.value for f in fragments)
    tree.add(f"[dim]live fragments sum to {format_fen(total)} = face value: {total == info.face_value}[/dim]")
    return tree


def main() -> int:
    console = Console()
    w3 = connect()
    keys = accounts_of(w3)
    operator = Member("Platform operator", keys[0])
    core = Member("Huazhong Heavy Industry (core enterprise)", keys[1])
    t1 = Member("Jiangcheng Steel (tier 1)", keys[2])
    t2a = Member("Hanyang Castings (tier 2)", keys[3])
    t2b = Member("Wuchang Bearings (tier 2)", keys[4])
    t3a = Member("Qingshan Fasteners (tier 3)", keys[5])
    t3b = Member("Hongshan Paints (tier 3)", keys[6])
    t3c = Member("Jiangxia Packaging (tier 3)", keys[7])
    names: dict[str, str] = {str(m.account.address): m.name for m in (operator, core, t1, t2a, t2b, t3a, t3b, t3c)}

    console.print("[bold]1.[/bold] Deploying Membership, SettlementToken and ReceivableToken on the embedded chain")
    scf = ScfClient(w3, deploy_all(w3, operator.account))
    scf.membership.admit(operator.account, core.account.address, Role.CORE_ENTERPRISE)
    for m in (t1, t2a, t2b, t3a, t3b, t3c):
        scf.membership.admit(operator.account, m.account.address, Role.SUPPLIER)
    scf.receivables.set_credit_line(operator.account, core.account.address, 50_000_000_00)
    console.print("   admitted 1 core enterprise (credit line ¥50,000,000.00) and 6 suppliers")

    rt = scf.receivables
    invoice = keccak(text="Invoice HZ-2026-0815 / contract HZ-C-7781 / delivery note 55120")
    issued = rt.issue(core.account, t1.account.address, 1_000_000_00, now(w3) + 180 * DAY, invoice)
    console.print(f"[bold]2.[/bold] {core.name} confirms {format_fen(1_000_000_00)} owed to {t1.name}, due in 180 days")
    rt.accept(t1.account, issued.token_id)
    console.print(f"[bold]3.[/bold] {t1.name} accepts the voucher")

    paid = rt.split_batch(
        t1.account,
        issued.token_id,
        [(t2a.account.address, 300_000_00), (t2b.account.address, 200_000_00)],
        keccak(text="PO JC-2026-031 and JC-2026-032"),
    )
    console.print(f"[bold]4.[/bold] {t1.name} pays two tier-2 suppliers in one transaction ({paid.gas_used:,} gas)")
    to_t2a, to_t2b = paid.new_token_ids
    rt.split_batch(
        t2a.account,
        to_t2a,
        [(t3a.account.address, 120_000_00), (t3b.account.address, 45_678_90)],
        keccak(text="PO HY-2026-117"),
    )
    single = rt.split(t2b.account, to_t2b, t3c.account.address, 50_000_00)
    console.print(f"[bold]5.[/bold] Tier 2 pays tier 3 (a single split costs {single.gas_used:,} gas)")

    console.print()
    console.print(build_tree(scf, issued.slot, names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
