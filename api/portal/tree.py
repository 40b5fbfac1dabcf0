"""A receivable's credit tree as the scenario report draws it (`chain_client.apps.scenario.svg`, one renderer
for both), built here from the event index instead of a scenario's ledger.

Each fragment is one move of credit: its value at creation, from the holder it came from (`created_from`: the
debtor for the first one, the payer for a split) to the holder it was made for. A fragment the desk financed
adds the sale: from the seller to the bank (a whole fragment sold is first the seller's, then the bank's); one
the desk holds after a recourse buy-back adds the bank's move into the desk's custody. Moves between the same
two holders of one kind are one edge, as in the report. What each holder was paid is the index's record of
payouts to its fragments.

Only a member that sees the whole tree (its debtor, the operator, an auditor: `api.policy`) gets the picture;
the others see the list of what they may see, which the page shows to everyone.
"""

from __future__ import annotations

from collections import defaultdict

from api.context import ApiContext, IndexView
from chain_client.apps.scenario.summary import Edge, FrozenFragment, Node, Tree
from chain_client.apps.scenario.svg import render_svg
from chain_client.index import FragmentInfo
from chain_client.membership import Role

ROLE_WORDS = {Role.CORE_ENTERPRISE: "core", Role.SUPPLIER: "supplier", Role.FINANCIER: "financier"}


def credit_tree_svg(context: ApiContext, view: IndexView, slot: int, names: dict[str, str]) -> str:
    tree = view.index.tree(slot, at=view.now)
    if tree is None:
        return ""
    r = tree.receivable
    desk = context.scf.financing.contract.address
    infos: list[FragmentInfo] = [info for f in tree.fragments if (info := view.index.fragment(f.token_id)) is not None]
    ids = {i.token_id for i in infos}  # once: the financings below are every one on the platform
    deals = {d.token_id: d for d in view.index.financings() if d.token_id in ids}
    moves: dict[tuple[str, str, str, bool, str | None], list[int]] = defaultdict(list)
    for f in infos:
        deal = deals.get(f.token_id)
        origin = f.created_from or r.debtor
        kind = "issue" if f.parent_id == 0 else "pay"
        if deal is None:
            moves[origin, f.owner, kind, False, None].append(f.created_value)
            continue
        if deal.source_id == f.token_id:  # the whole fragment was sold: first the seller's
            moves[origin, deal.seller, kind, False, None].append(f.created_value)
        moves[deal.seller, deal.financier, "finance", deal.recourse, deal.seller].append(deal.value)
        if f.owner == desk:  # bought back under recourse: the desk holds it for the seller
            moves[deal.financier, desk, "buyback", deal.recourse, deal.seller].append(deal.value)
    edges = [
        Edge(source=s, target=t, value=sum(v), kind=k, fragments=len(v), recourse=rec, seller=seller)
        for (s, t, k, rec, seller), v in moves.items()
        if s != t
    ]
    roles = {m.account: m.role for m in view.index.members()}
    tiers: dict[str, int] = {}
    paid: dict[str, int] = defaultdict(int)
    for f in infos:
        tiers[f.owner] = min(tiers.get(f.owner, f.tier), f.tier)
        paid[f.owner] += f.paid
    addresses = list(dict.fromkeys([r.debtor, *(e.source for e in edges), *(e.target for e in edges)]))
    nodes = [
        Node(
            address=a,
            name=names.get(a) or ("FinancingDesk" if a == desk else a[:10]),
            role="desk" if a == desk else ROLE_WORDS.get(roles.get(a, Role.OPERATOR), "other"),
            tier=None if roles.get(a) in (Role.CORE_ENTERPRISE, Role.FINANCIER) else tiers.get(a),
            received=sum(e.value for e in edges if e.target == a and e.kind != "finance"),
            bought=sum(e.value for e in edges if e.target == a and e.kind == "finance"),
            sold=sum(e.value for e in edges if e.source == a and e.kind == "finance"),
            paid=paid[a],
        )
        for a in addresses
    ]
    frozen = [
        FrozenFragment(holder=f.owner, value=f.value, reason="", frozen="", unfrozen=None) for f in infos if f.frozen
    ]
    return render_svg(
        Tree(
            receivable=str(slot),
            slot=hex(slot),
            debtor=names.get(r.debtor, r.debtor),
            face=r.face_value,
            maturity="",
            state=r.state.name.lower(),
            document=r.document_hash,
            nodes=nodes,
            edges=edges,
            frozen=frozen,
        )
    )
