"""GET /recourse: a financier's fragments bought with recourse and the state of any claim (read-only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import recourse
from api.deps import ContextDep, CurrentMember
from api.fields import Address
from api.routes.problems import AUTH, NOT_FOUND

router = APIRouter(tags=["portfolio"], responses=AUTH)


@router.get(
    "/recourse", summary="A financier's recourse positions and whether a claim is open or settled", responses=NOT_FOUND
)
def read_recourse(
    context: ContextDep,
    member: CurrentMember,
    financier: Annotated[Address | None, Query(description="whose (operator, auditor); default the caller's")] = None,
) -> recourse.RecoursesPublic:
    """Every fragment the financier bought with recourse (from the desk's `Financed` events), oldest first, with
    the desk's record of it: `status` is `none` (no claim), `claimed` (claimed from the seller, unpaid),
    `settled` (the seller bought it back) or `ended` (sold on: recourse does not follow a resale). Read-only:
    claiming and settling will be action kinds. The operator and the auditor may name any financier, others
    only themselves (another's is 404 `UnknownRecourse`); a member with none gets an empty list."""
    return recourse.recourses(context, member, financier)
