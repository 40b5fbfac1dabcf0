"""Request and response shapes: `XCreate` comes in, `XPublic` goes out, `XsPublic` is a page `{data, count}`.

Amounts are yuan decimal strings and token ids, slots and nonces decimal strings too (`api.fields`: they
exceed JavaScript's exact integers); other ids and counts are integers, times are unix seconds (with an ISO
date beside a maturity, for people reading the JSON).

Responses are built with `XPublic.model_validate(record, from_attributes=True)` from the index's and the
store's records (fen and int ids inside; the field types write them as yuan and decimal strings): a field
that needs converting says so here, with its validator or alias, not in a copier beside each model."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api.fields import (
    MAX_OFFSET,
    MAX_TIME,
    Address,
    Nonce,
    ParentId,
    PositiveYuanIn,
    Rate,
    RateOut,
    Signature,
    Slot,
    TokenId,
    Uint256,
    Yuan,
    YuanIn,
)
from chain_client.pricing import DayCount
from chain_client.receivables import ReceivableState

TEN_YEARS = 10 * 366 * 86_400


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored


class State(StrEnum):
    """A receivable's state as the API names it (matured is derived from the chain's clock)."""

    PENDING = "pending"
    ACTIVE = "active"
    MATURED = "matured"
    REPAID = "repaid"
    OVERDUE = "overdue"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @classmethod
    def of(cls, state: ReceivableState) -> State:
        return cls(state.name.lower())

    def on_chain(self) -> ReceivableState:
        return ReceivableState[self.name]


def iso_date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


def _state_of(value: Any) -> Any:
    return State.of(value) if isinstance(value, ReceivableState) else value


def _date_of(value: Any) -> Any:
    return iso_date(value) if isinstance(value, int) and not isinstance(value, bool) else value


StateOut = Annotated[State, BeforeValidator(_state_of)]
"""A receivable's state: read from the chain's `ReceivableState`, named as the API names it."""


# ---------------------------------------------------------------------------------------------- health, me


class HealthPublic(BaseModel):
    status: str
    chain_id: int
    block: int
    chain_time: int
    index_block: int | None
    development: bool
    contracts: dict[str, str]


class MemberPublic(BaseModel):
    name: str
    role: str
    address: str
    can_sign: bool
    cash: Yuan
    user: str = Field(description="the calling user's id: \"admin\" for the member's configured key")
    duty: str = Field(description="the calling user's duty: admin, maker, checker or viewer")


# ---------------------------------------------------------------------------------------------- receivables


class ReceivablePublic(BaseModel):
    slot: Slot
    debtor: str
    supplier: str
    face_value: Yuan
    maturity: int
    maturity_date: Annotated[str, BeforeValidator(_date_of)] = Field(validation_alias="maturity")
    document_hash: str
    state: StateOut
    issued_at: int
    live_fragments: int
    live_value: Yuan
    repaid: Yuan
    redeemed_value: Yuan
    paid_out: Yuan


class ReceivablesPublic(BaseModel):
    data: list[ReceivablePublic]
    count: int


class ReceivableFilters(_In):
    debtor: str | None = Field(
        None, min_length=1, max_length=200, description="the debtor's address, or its label in the index"
    )
    state: State | None = None
    matures_from: int | None = Field(None, ge=0, le=MAX_TIME, description="unix seconds, inclusive")
    matures_to: int | None = Field(None, ge=0, le=MAX_TIME, description="unix seconds, inclusive")
    min_value: YuanIn | None = Field(None, description="least face value, yuan")
    skip: int = Field(0, ge=0, le=MAX_OFFSET)
    limit: int = Field(100, ge=1, le=500)


class FragmentNodePublic(BaseModel):
    token_id: TokenId
    sequence: int
    parent_id: ParentId  # 0 for the fragment issued to the supplier (`FragmentNode.parent_id`)
    owner: str
    value: Yuan
    tier: int
    frozen: bool
    financed: bool
    burned: bool


class ReceivableTreePublic(BaseModel):
    """A receivable and every fragment it ever had, in creation order; `parent_id` links them into the tree
    (a flat list: a deep supply chain never becomes deeply nested JSON)."""

    receivable: ReceivablePublic
    fragments: list[FragmentNodePublic]


# ---------------------------------------------------------------------------------------------- fragments


class HopPublic(BaseModel):
    token_id: TokenId
    holder: str
    tier: int
    value: Yuan
    created_value: Yuan
    from_holder: str
    memo: str | None
    block_number: int
    block_time: int
    tx_hash: str
    burned: bool


class DocumentPublic(BaseModel):
    """A hash of trade documents behind the fragment: the receivable's (invoice, contract, delivery note) or
    a payment's memo (the purchase order a split paid)."""

    kind: str  # "receivable" or "payment"
    token_id: TokenId
    hash: str


class FragmentPublic(BaseModel):
    token_id: TokenId
    slot: Slot
    sequence: int
    parent_id: ParentId
    owner: str
    value: Yuan
    tier: int
    frozen: bool
    financed: bool
    burned: bool
    created_value: Yuan
    created_from: str
    paid: Yuan
    claimable: Yuan
    receivable: ReceivablePublic
    path: list[HopPublic]  # this fragment first, back to the one issued to the supplier
    documents: list[DocumentPublic]


class RedeemPublic(BaseModel):
    token_id: TokenId
    paid: Yuan
    burned: bool
    exposure_released: bool
    tx_hash: str
    block_number: int
    gas_used: int


# ---------------------------------------------------------------------------------------------- quotes


class QuoteCreate(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "token_id": "40625320380932298536573802744735355904164085436357355596604538061348185243649",
                    "value": "100000.00",
                    "annual_rate": "0.035",
                    "day_count": "ACT/360",
                }
            ]
        },
    )

    token_id: TokenId
    value: PositiveYuanIn
    annual_rate: Rate
    day_count: DayCount = DayCount.ACT_360


class QuotePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token_id": "40625320380932298536573802744735355904164085436357355596604538061348185243649",
                    "value": "100000.00",
                    "price": "98833.33",
                    "discount": "1166.67",
                    "days": 120,
                    "day_count": "ACT/360",
                    "annual_rate": "0.035",
                    "maturity": 1798761600,
                }
            ]
        }
    )

    token_id: TokenId
    value: Yuan
    price: Yuan
    discount: Yuan
    days: int
    day_count: DayCount
    annual_rate: RateOut
    maturity: int


# ---------------------------------------------------------------------------------------------- financing


class FinancingRequestCreate(_In):
    """The holder's signed EIP-712 `FinancingRequest`, as it signed it (amounts in yuan here, fen signed)."""

    token_id: TokenId
    value: PositiveYuanIn
    price: PositiveYuanIn
    financier: Address | None = Field(None, description="the only financier that may fund it; null: any")
    recourse: bool = False
    nonce: Nonce
    deadline: Uint256 = Field(description="unix seconds")
    signature: Signature


class FundingPublic(BaseModel):
    financier: str
    financed_token_id: TokenId
    tx_hash: str
    block_number: int
    funded_at: int


class FinancingRequestPublic(BaseModel):
    id: int
    request_hash: str
    status: str
    token_id: TokenId
    slot: Slot
    holder: str
    debtor: str | None
    maturity: int | None
    value: Yuan
    price: Yuan
    discount: Yuan
    financier: str | None
    recourse: bool
    nonce: Nonce
    deadline: int
    signature: str
    days: int = Field(description="whole days from now to the receivable's maturity")
    implied_rate: RateOut | None = Field(description="the annual discount rate the price implies")
    day_count: DayCount
    created_at: int
    funding: FundingPublic | None


class FinancingRequestsPublic(BaseModel):
    data: list[FinancingRequestPublic]
    count: int


class FundCreate(_In):
    """Optional: the price the lender means to pay; the funding is refused if the request says otherwise."""

    price: PositiveYuanIn | None = None


# ---------------------------------------------------------------------------------------------- portfolio


# Validated from the desk's `Financing` record (its names aliased here) and what `api.portfolio` adds. (A comment,
# not a docstring: a docstring would become the schema's OpenAPI description.)
class PositionPublic(BaseModel):
    financed_token_id: TokenId = Field(validation_alias="token_id")
    request_hash: str
    slot: Slot
    debtor: str
    seller: str
    recourse: bool
    state: StateOut
    held: bool  # the lender still holds it (false once sold on or redeemed in full)
    funded_at: int = Field(validation_alias="block_time")
    maturity: int
    days: int  # from funding to maturity
    cost: Yuan = Field(validation_alias="price")
    face_value: Yuan = Field(validation_alias="value")
    expected_payoff: Yuan = Field(validation_alias="value")
    repaid: Yuan  # cash paid out to this fragment's holder so far
    claimable: Yuan  # repaid into escrow for it and not yet redeemed
    expected_yield: RateOut  # held to maturity and repaid in full, ACT/365
    realised_yield: RateOut | None  # on what was actually paid out, once the receivable is settled


class PortfolioTotals(BaseModel):
    cost: Yuan
    face_value: Yuan
    repaid: Yuan
    profit: Yuan  # repaid - cost of the positions repaid in full


class PortfolioPublic(BaseModel):
    financier: str
    data: list[PositionPublic]
    count: int
    totals: PortfolioTotals


# ---------------------------------------------------------------------------------------------- development


class AdvanceTimeCreate(_In):
    seconds: int = Field(ge=1, le=TEN_YEARS)


class ChainTimePublic(BaseModel):
    chain_time: int
    block: int


class RepayCreate(_In):
    amount: PositiveYuanIn | None = Field(None, description="default: everything outstanding")


class RepaymentPublic(BaseModel):
    slot: Slot
    paid: Yuan
    repaid: Yuan
    outstanding: Yuan
    state: StateOut
    tx_hash: str
