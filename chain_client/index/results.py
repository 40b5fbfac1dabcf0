"""What the index's queries answer: plain frozen records, no SQL (the API builds its schemas from them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from chain_client.ids import slot_of, token_id_of
from chain_client.membership import Role
from chain_client.receivables import ReceivableState


@dataclass(frozen=True, slots=True)
class Holding:
    """A live fragment held by an account, with what a lender asks about it."""

    token_id: int
    slot: int
    value: int
    debtor: str
    maturity: int
    tier: int
    state: ReceivableState
    frozen: bool
    financed: bool
    parent_id: int


@dataclass(frozen=True, slots=True)
class Hop:
    """One fragment on the way from a fragment back to the receivable's first fragment.

    `holder` holds it now; `from_holder` paid it out (the parent's holder when it was split off, the debtor
    for the first fragment); `created_value` is what was split off, `value` what it holds now; `memo` is the
    hash of the trade documents behind the payment (the receivable's document hash for the first fragment).
    """

    token_id: int
    holder: str
    tier: int
    value: int
    created_value: int
    from_holder: str
    memo: str | None
    block_number: int
    block_time: int
    tx_hash: str
    burned: bool


class FragmentNode(NamedTuple):
    """A fragment in a tree: lean, since a tree can hold many thousands (details: `EventIndex.fragment`)."""

    token_id: int
    sequence: int
    parent_sequence: int  # 0 for the first fragment
    owner: str  # the last holder, for a burned fragment
    value: int
    tier: int
    frozen: bool
    financed: bool
    burned: bool

    @property
    def parent_id(self) -> int:
        """The parent's token id (0 for the first fragment): computed, not stored, to keep nodes lean."""
        return token_id_of(slot_of(self.token_id), self.parent_sequence) if self.parent_sequence else 0


@dataclass(frozen=True, slots=True)
class FragmentInfo:
    """Everything the index knows about one fragment."""

    token_id: int
    slot: int
    sequence: int
    parent_id: int
    owner: str
    value: int
    tier: int
    frozen: bool
    financed: bool
    burned: bool
    created_value: int
    created_from: str
    memo: str | None
    created_block: int
    created_time: int
    paid: int  # cash paid out to its holders so far


@dataclass(frozen=True, slots=True)
class ReceivableRow:
    slot: int
    debtor: str
    supplier: str
    face_value: int
    maturity: int
    document_hash: str
    state: ReceivableState
    issued_at: int
    fragments_created: int
    live_fragments: int
    live_value: int
    repaid: int
    redeemed_value: int
    paid_out: int


@dataclass(frozen=True)
class ReceivableTree:
    """A receivable and every fragment it ever had (burned ones flagged), arranged by parent."""

    receivable: ReceivableRow
    fragments: list[FragmentNode]
    children: dict[int, list[FragmentNode]] = field(repr=False)

    @property
    def live(self) -> list[FragmentNode]:
        return [f for f in self.fragments if not f.burned]


@dataclass(frozen=True, slots=True)
class TierTotal:
    tier: int
    fragments: int
    holders: int
    value: int
    financed_value: int


@dataclass(frozen=True, slots=True)
class Financing:
    """A fragment a financier bought through the FinancingDesk (融资/贴现): one `Financed` event."""

    token_id: int  # the financier's fragment
    source_id: int  # the fragment it came out of (the same id when the whole fragment was sold)
    seller: str
    financier: str
    value: int
    price: int
    recourse: bool
    block_number: int
    block_time: int
    request_hash: str  # the EIP-712 hash of the seller's signed request
    tx_hash: str


@dataclass(frozen=True, slots=True)
class Member:
    account: str
    role: Role
    suspended: bool
