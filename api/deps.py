"""Dependencies as `Annotated` aliases: the context, the client, and who is calling in what role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import CHALLENGE, api_key_of
from api.context import ApiContext, Member
from api.errors import ApiProblem
from chain_client.client import ScfClient
from chain_client.membership import Role

_bearer = HTTPBearer(auto_error=False, description="a consortium member's API key")


def get_context(request: Request) -> ApiContext:
    return cast(ApiContext, request.app.state.context)


ContextDep = Annotated[ApiContext, Depends(get_context)]


def get_client(context: ContextDep) -> ScfClient:
    return context.scf


ClientDep = Annotated[ScfClient, Depends(get_client)]


def current_member(
    context: ContextDep,
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],  # declares the scheme in OpenAPI
) -> Member:
    key = api_key_of(request.headers.get("Authorization"))
    if key is None:
        raise ApiProblem(401, "Unauthorized", {"detail": "send Authorization: Bearer <api key>"}, headers=CHALLENGE)
    member = context.members.by_key(key)
    if member is None:
        raise ApiProblem(401, "Unauthorized", {"detail": "unknown API key"}, headers=CHALLENGE)
    return member


CurrentMember = Annotated[Member, Depends(current_member)]


def require_role(*roles: Role) -> Callable[[Member], Member]:
    """A dependency that lets through only members in one of `roles` (403 for the others)."""
    allowed = sorted(r.name.lower() for r in roles)

    def check(member: CurrentMember) -> Member:
        if member.role not in roles:
            raise ApiProblem(403, "WrongRole", {"role": member.role.name.lower(), "allowed": allowed})
        return member

    return check


Lender = Annotated[Member, Depends(require_role(Role.FINANCIER))]
Holder = Annotated[Member, Depends(require_role(Role.SUPPLIER, Role.FINANCIER))]
Operator = Annotated[Member, Depends(require_role(Role.OPERATOR))]
