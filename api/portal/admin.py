"""The operator's screens: members (admit, suspend, reinstate), core enterprises' credit lines, freezes with
their reasons, and the platform's settings (longest tenor, grace period), with cash-in for the development
and pilot networks.

Every change is an action of the operator's (`POST /actions`): a maker prepares it and a checker approves it
on the approvals page, as over HTTP. The member list is the chain's (the event index), not the API's keys file:
a member admitted by another tool shows here too.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse

from api import policy
from api.actions import State
from api.errors import ApiProblem
from api.portal.web import act, context_of, page, router, signed_in, writer
from api.users import User
from chain_client.membership import Role

DAY = 86400
SCANNED = 2_000  # recent executed actions the freeze list looks through
VERBS = {
    "admit": ("account", "role"),
    "suspend": ("account",),
    "reinstate": ("account",),
    "set_credit_line": ("debtor", "limit"),
    "freeze": ("token_id", "reason"),
    "unfreeze": ("token_id", "reason"),
    "set_max_tenor": ("days",),
    "set_grace_period": ("days",),
    "mint": ("to", "amount"),
}


def _operator(request: Request) -> User:
    user, _ = signed_in(request)
    policy.require_sees_all(user.member)
    return user


def _admin_page(request: Request, user: User, status: int = 200, **values: Any) -> HTMLResponse:
    context = context_of(request)
    names = {m.address: m.name for m in context.users.members}
    with context.read() as view:
        members = view.index.members()
        lines = view.index.credit_lines()
    settings = {
        "max_tenor_days": context.scf.receivables.max_tenor() // DAY,
        "grace_days": context.scf.receivables.grace_period() // DAY,
    }
    freezes = []
    # The newest executed actions (a page counts from the oldest), at most SCANNED of them: freezes are rare
    # among an operator's actions, and the page must not read its whole history.
    _, count = context.actions.page(user.member.address, State.EXECUTED, 0, 1)
    actions, _ = context.actions.page(user.member.address, State.EXECUTED, max(count - SCANNED, 0), SCANNED)
    for a in reversed(actions):
        if a.kind in ("freeze", "unfreeze"):
            freezes.append(a)
        if len(freezes) == 50:
            break
    return page(
        request,
        "admin.html",
        status=status,
        members=members,
        names=names,
        lines=lines,
        settings=settings,
        freezes=freezes,
        operator=user.member.role is Role.OPERATOR,
        **{"notice": None, "error": None, **values},
    )


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request) -> HTMLResponse:
    return _admin_page(request, _operator(request))


@router.post("/admin/{verb}", response_class=HTMLResponse)
def admin_action(
    request: Request,
    verb: str,
    csrf: Annotated[str, Form(max_length=64)],
    account: Annotated[str, Form(max_length=64)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    debtor: Annotated[str, Form(max_length=64)] = "",
    limit: Annotated[str, Form(max_length=40)] = "",
    token_id: Annotated[str, Form(max_length=80)] = "",
    reason: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[str, Form(max_length=6)] = "",
    to: Annotated[str, Form(max_length=64)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """One operator action from one of the admin page's forms; the API validates its fields."""
    user = writer(request, csrf)
    if verb not in VERBS:
        raise ApiProblem(404, "NotFound", {"path": request.url.path})
    sent = {
        "account": account,
        "role": role,
        "debtor": debtor,
        "limit": limit,
        "token_id": token_id,
        "reason": reason,
        "to": to,
        "amount": amount,
    }
    params: dict[str, Any] = {k: sent[k] for k in VERBS[verb] if k != "days"}
    if "days" in VERBS[verb]:
        params["seconds"] = int(days) * DAY if days.isdigit() else days
    notice, error = act(request, user, verb, params)
    return _admin_page(request, user, 200 if error is None else 409, notice=notice, error=error)
