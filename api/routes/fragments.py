"""GET /fragments/{token_id} with its path to the root and documents; POST /fragments/{token_id}/redeem."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api import fragments
from api.deps import ContextDep, CurrentMember, Holder
from api.fields import TokenId
from api.routes.problems import AUTH, CONFLICT, NOT_FOUND
from api.schemas import FragmentPublic, RedeemPublic

router = APIRouter(prefix="/fragments", tags=["fragments"], responses={**AUTH, **NOT_FOUND})

TokenIdPath = Annotated[TokenId, Path()]


@router.get("/{token_id}")
def read_fragment(context: ContextDep, member: CurrentMember, token_id: TokenIdPath) -> FragmentPublic:
    """A fragment (burned ones too: they stay traceable), its hops back to the confirmed receivable, and the
    hashes of the documents behind each hop. For whoever may see it (its holders, past and present, and who
    paid with it; financiers it is offered to; the debtor; operator and auditor), else 404."""
    return fragments.fragment(context, member, token_id)


@router.post("/{token_id}/redeem", responses=CONFLICT)
def redeem_fragment(context: ContextDep, member: Holder, token_id: TokenIdPath) -> RedeemPublic:
    """Pull what the fragment is owed now (signed with the caller's configured key). Paid in full, it is
    burned, and a lender's exposure for it is released."""
    return fragments.redeem(context, member, token_id)
