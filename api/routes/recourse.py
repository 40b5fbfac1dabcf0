"""GET /recourse: fragments bought with recourse, for their financier and their seller, and the state of any
claim (read-only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import recourse
from api.deps import ContextDep, CurrentMember
from api.fields import Address
from api.routes.problems import AUTH, NOT_FOUND

router = APIRouter(tags=["portfolio"], responses=AUTH)


@router.get(
    "/recourse",
    summary="Recourse positions, as financier or as seller, and whether a claim is open or settled",
    responses=NOT_FOUND,
)
def read_recourse(
    context: ContextDep,
    member: CurrentMember,
    financier: Annotated[Address | None, Query(description="this financier's (operator, auditor: anyone's)")] = None,
    seller: Annotated[Address | None, Query(description="this seller's (operator, auditor: anyone's)")] = None,
) -> recourse.RecoursesPublic:
    """Every fragment bought with recourse (from the desk's `Financed` events) that the caller bought or sold,
    oldest first, or only the named financier's or seller's, with the desk's record of it: `status` is `none`
    (no claim), `claimed` (claimed from the seller, unpaid), `settled` (the seller bought it back) or `ended`
    (sold on: recourse does not follow a resale). Act on them with `POST /actions`: `claim_recourse`
    (financier), `settle_recourse` (seller), `redeem_recourse` (either). The operator and the auditor may name
    anyone, others only themselves (another is 404 `UnknownRecourse`); a member with none gets an empty list."""
    return recourse.recourses(context, member, financier, seller)
