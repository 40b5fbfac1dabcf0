"""Who sees what (privacy inside the consortium): the one place every read asks.

- **operator, auditor**: everything.
- **core enterprise**: the whole tree of every receivable it owes (it is the debtor); of others, only what it
  holds or held, like any holder.
- **supplier** (and any member, for what it holds): its own fragments (held now, or held last before they
  were burned), their path back to the confirmation, and the fragments it paid with (split off to others:
  the fragment it sent, shown with the value it sent, not the branches its receiver made of it later); not
  the other branches of the tree nor other members' holdings. A receivable's first supplier sees its first
  fragment.
- **financier**: the financing requests addressed to it or to the market (any status) and those it funded; the
  fragments they offer and each one's path to the root; its own fragments (its portfolio) and their paths.

What a caller may not see does not exist for it: the routes answer 404 with the same error as for an id that
was never there (`NonexistentReceivable`, `NonexistentToken`, `UnknownFinancingRequest`, `UnknownDocument`),
never 403, so a refusal says nothing about whether the object exists.

A receivable is visible when its whole tree is (`Scope.whole`) or at least one of its fragments is; its row
(face value, maturity, state, live totals) is then shown whole, its tree only with the fragments in scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from api.context import ApiContext, IndexView, Member
from api.errors import ApiProblem
from api.store import StoredRequest
from chain_client.contract_errors import NonexistentReceivable
from chain_client.ids import slot_of
from chain_client.index import ReceivableRow, ReceivableTree
from chain_client.membership import Role

SEES_ALL = frozenset({Role.OPERATOR, Role.AUDITOR})


def sees_all(member: Member) -> bool:
    return member.role in SEES_ALL


def require_sees_all(member: Member) -> None:
    """The reads only the operator and auditors make (the trail's verification, reconciling): others 403."""
    if not sees_all(member):
        raise ApiProblem(403, "WrongRole", {"role": member.role.name.lower(), "allowed": ["auditor", "operator"]})


@dataclass(frozen=True)
class Scope:
    """What one member may see of one receivable: all of it, or the fragments in `fragments`. `sent` are those
    it sees only because it paid with them, each with the value it sent: they are shown as sent (that value),
    not as their receiver has split them since."""

    whole: bool
    fragments: frozenset[int]
    sent: Mapping[int, int] = field(default_factory=dict)

    @property
    def visible(self) -> bool:
        return self.whole or bool(self.fragments)

    def __contains__(self, token_id: object) -> bool:
        return self.whole or token_id in self.fragments


NOTHING = Scope(False, frozenset())
EVERYTHING = Scope(True, frozenset())


# ---------------------------------------------------------------------------------------------- requests


def request_visible(member: Member, stored: StoredRequest) -> bool:
    """A financing request: its holder; financiers it is addressed to (by name or to the market) or that
    funded it; operator and auditor."""
    if sees_all(member) or stored.holder == member.address:
        return True
    if member.role is Role.FINANCIER:
        return stored.financier in (None, member.address) or (
            stored.funding is not None and stored.funding.financier == member.address
        )
    return False


def offered_to(context: ApiContext, member: Member) -> list[StoredRequest]:
    """The stored requests `member` sees as a financier (none for other roles)."""
    if member.role is not Role.FINANCIER:
        return []
    return [r for r in context.store.page(offset=0, limit=2**62)[0] if request_visible(member, r)]


# ---------------------------------------------------------------------------------------------- fragments


def _anchors(context: ApiContext, view: IndexView, member: Member, slot: int | None) -> set[int]:
    """Fragments `member` has a claim to see with their paths: those offered to it (financiers), those it
    financed or sold through the desk. (What it holds, held or paid with is read from the tree.)"""
    found: set[int] = set()
    for r in offered_to(context, member):
        if slot is None or slot_of(r.request.token_id) == slot:
            found.add(r.request.token_id)
    for f in view.index.financings():
        mine = member.address in (f.financier, f.seller)
        if mine and (slot is None or slot_of(f.token_id) == slot):
            found.update((f.token_id, f.source_id))
    return found


def scope(context: ApiContext, view: IndexView, member: Member, tree: ReceivableTree) -> Scope:
    """What `member` may see of the receivable `tree` is."""
    return scope_of(context, view, member, tree.receivable)


def scope_of(context: ApiContext, view: IndexView, member: Member, receivable: ReceivableRow) -> Scope:
    """What `member` may see of `receivable`: read through the index's indexes (what it holds, held or sent,
    and the paths to them), never the whole tree, whose size a member who sees three fragments must not pay
    for (a receivable may have 100,000)."""
    if sees_all(member) or receivable.debtor == member.address:
        return EVERYTHING
    me, slot = member.address, receivable.slot
    held, sent_by_me = view.index.touched_by(slot, me)
    anchors = set(held)
    first = view.index.first_fragment(slot) if receivable.supplier == me else None
    if first is not None:
        anchors.add(first)
    anchors |= _anchors(context, view, member, slot)  # (those not in the tree are dropped by with_paths)
    # What it paid with: fragments split off to others out of one it held (the fragment it sent, and the path
    # to it; not what the receiver split off later).
    paid = {t: v for t, v in sent_by_me.items() if t not in anchors}
    own = view.index.with_paths(slot, anchors)
    sent = {t: v for t, v in paid.items() if t not in own}
    return Scope(False, frozenset(own | view.index.with_paths(slot, paid)), sent)


def visible_tree(context: ApiContext, view: IndexView, member: Member, slot: int) -> tuple[ReceivableTree, Scope]:
    """The receivable `slot`'s tree and what `member` may see of it: the whole tree when it may see it all,
    else only the fragments in scope (the receivable's row whole); NonexistentReceivable (404) when there is
    none or the member may see none of it."""
    receivable = view.index.receivable(slot, at=view.now)
    found = NOTHING if receivable is None else scope_of(context, view, member, receivable)
    if not found.visible:
        raise NonexistentReceivable(slot)
    tree = (
        view.index.tree(slot, at=view.now)
        if found.whole
        else view.index.partial_tree(slot, found.fragments, at=view.now)
    )
    if tree is None:
        raise NonexistentReceivable(slot)
    return tree, found


def fragment_scope(context: ApiContext, view: IndexView, member: Member, token_id: int) -> Scope:
    """What `member` may see of the receivable fragment `token_id` belongs to."""
    if sees_all(member):
        return EVERYTHING
    receivable = view.index.receivable(slot_of(token_id), at=view.now)
    return NOTHING if receivable is None else scope_of(context, view, member, receivable)


def may_see_fragment(context: ApiContext, view: IndexView, member: Member, token_id: int) -> bool:
    return token_id in fragment_scope(context, view, member, token_id)


def may_see_receivable(context: ApiContext, view: IndexView, member: Member, slot: int) -> bool:
    if sees_all(member):
        return True
    receivable = view.index.receivable(slot, at=view.now)
    return receivable is not None and scope_of(context, view, member, receivable).visible


# ---------------------------------------------------------------------------------------------- listings


def visible_slots(context: ApiContext, view: IndexView, member: Member) -> set[int] | None:
    """The receivables `member` sees in listings, or None for all of them (operator, auditor). A core
    enterprise's own are found by debtor in SQL; these are the others it holds part of or has a claim to.

    A member that holds nothing more of a receivable, sold nothing of it through the desk and is not its first
    supplier (it paid all of its fragments away) is not listed it: the index has no query for the fragments an
    account sent. It still reads it by slot."""
    if sees_all(member):
        return None
    slots = {h.slot for h in view.index.holdings(member.address, at=view.now)}
    slots |= {slot_of(t) for t in _anchors(context, view, member, None)}
    return slots
