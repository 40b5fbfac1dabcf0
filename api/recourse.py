"""Recourse positions (read-only): fragments bought with recourse, and for each whether a claim on the seller is
open or settled, read from the desk's record of the financing. The financier sees what it may claim, the
seller what may be claimed from it. Claiming, settling and sharing later repayments are action kinds
(`claim_recourse`, `settle_recourse`, `redeem_recourse` in `api.actions`)."""

from __future__ import annotations

from enum import StrEnum

from eth_utils.address import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from api import policy
from api.context import ApiContext, Member
from api.errors import ApiProblem
from api.fields import TokenId, Yuan
from chain_client.ids import slot_of


class RecourseStatus(StrEnum):
    NONE = "none"  # no claim made
    CLAIMED = "claimed"  # claimed from the seller, not yet paid
    SETTLED = "settled"  # the seller bought the fragment back
    ENDED = "ended"  # the financier sold the fragment on (or redeemed it): its recourse is over


_EXAMPLE: JsonDict = {
    "token_id": "40625320380932298536573802744735355904164085436357355596604538061348185243650",
    "seller": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "financier": "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF",
    "debtor": "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "value": "100000.00",
    "price": "98900.00",
    "maturity": 1798761600,
    "overdue": False,
    "claimed": "0.00",
    "status": "none",
    "tx_hash": "0x" + "ab" * 32,
}


class RecoursePublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    token_id: TokenId  # the fragment the financier bought
    seller: str = Field(description="who sold it with recourse: the party a claim is made on")
    financier: str = Field(description="who bought it: the party that may claim")
    debtor: str
    value: Yuan = Field(description="value bought, yuan")
    price: Yuan = Field(description="price paid, yuan")
    maturity: int
    overdue: bool = Field(description="the receivable's maturity has passed (a claim needs it overdue and unpaid)")
    claimed: Yuan = Field(description="the value claimed from the seller, yuan; 0.00 when no claim was made")
    status: RecourseStatus
    tx_hash: str = Field(description="the funding transaction")


class RecoursesPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": [_EXAMPLE], "count": 1}]})

    data: list[RecoursePublic]
    count: int


def recourses(
    context: ApiContext, member: Member, financier: str | None = None, seller: str | None = None
) -> RecoursesPublic:
    """Financings with recourse, oldest first: `financier`'s, `seller`'s, or (neither named) those the caller
    bought or sold. The operator and the auditor may name anyone, others only themselves (another is 404
    `UnknownRecourse`, as in `api.policy`)."""
    named = {"financier": financier, "seller": seller}
    for side, address in named.items():
        if address is not None and to_checksum_address(address) != member.address and not policy.sees_all(member):
            raise ApiProblem(404, "UnknownRecourse", {side: to_checksum_address(address)})
    desk = context.scf.financing
    found: list[RecoursePublic] = []
    with context.read() as view:
        if financier is None and seller is None:
            rows = view.index.financings(party=member.address)
        else:
            rows = view.index.financings(financier=financier, seller=seller)
        for e in rows:
            if not e.recourse:
                continue
            whose = e.financier
            receivable = view.index.receivable(slot_of(e.token_id), at=view.now)
            assert receivable is not None, "a financing names an indexed receivable"
            record = desk.financing(e.token_id)
            fragment = view.index.fragment(e.token_id)
            held = fragment is not None and fragment.owner == whose and not fragment.burned
            if record.financier != whose:
                status = RecourseStatus.ENDED
            elif record.recourse_settled:
                status = RecourseStatus.SETTLED
            elif not held:  # sold on: recourse does not follow a resale
                status = RecourseStatus.ENDED
            elif record.recourse_claim > 0:
                status = RecourseStatus.CLAIMED
            else:
                status = RecourseStatus.NONE
            found.append(
                RecoursePublic(
                    token_id=e.token_id,
                    seller=e.seller,
                    financier=e.financier,
                    debtor=receivable.debtor,
                    value=e.value,
                    price=e.price,
                    maturity=receivable.maturity,
                    overdue=view.now >= receivable.maturity,
                    claimed=record.recourse_claim if status is not RecourseStatus.ENDED else 0,
                    status=status,
                    tx_hash=e.tx_hash,
                )
            )
    return RecoursesPublic(data=found, count=len(found))
