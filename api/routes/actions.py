"""Actions with maker-checker: prepare, list, read, approve, reject (`api.actions`), and the member's
threshold below which one user suffices."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.config import JsonDict

from api import actions
from api.actions import (
    KIND_SPECS,
    AccountParams,
    Action,
    AdmitParams,
    CreditLineParams,
    DeskApprovalParams,
    ExposureLimitParams,
    FinancedTokenParams,
    FreezeParams,
    FundParams,
    GraceParams,
    IssueParams,
    MergeParams,
    MintParams,
    OfferParams,
    PaySuppliersParams,
    RepayParams,
    SlotParams,
    State,
    TenorParams,
    TokenParams,
    TransferParams,
)
from api.context import ApiContext
from api.deps import ActiveUser, ContextDep, CurrentUser
from api.errors import ApiProblem
from api.fields import MAX_OFFSET, Yuan, YuanIn, yuan_text
from api.routes.problems import AUTH, CONFLICT, NOT_FOUND
from api.users import Duty, User
from chain_client.ids import slot_of, token_id_of
from chain_client.membership import Role

router = APIRouter(tags=["actions"], responses=AUTH)

ACTION_ID_PATTERN = r"^a_[0-9a-f]{16}$"
ActionId = Annotated[str, Path(pattern=ACTION_ID_PATTERN, max_length=18, examples=["a_0c1d2e3f40516273"])]
IdempotencyKey = Annotated[
    str, Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[!-~]+$", examples=["prep-2026-0001"])
]
_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
_TOKEN = str(token_id_of(1, 1))
_SLOT = "1"
_HASH = "0x" + "ab" * 32


def _example(kind: str, params: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [{"kind": kind, "params": params}]})


class IssueAction(BaseModel):
    """Core enterprise: confirm a payable to a supplier (确权), with the combined hash of its documents."""

    model_config = _example(
        "issue", {"supplier": _ADDRESS, "face_value": "500000.00", "maturity": 1798761600, "document_hash": _HASH}
    )
    kind: Literal["issue"]
    params: IssueParams


class CancelAction(BaseModel):
    """Core enterprise: cancel a receivable the supplier has not accepted yet."""

    model_config = _example("cancel", {"slot": _SLOT})
    kind: Literal["cancel"]
    params: SlotParams


class RepayAction(BaseModel):
    """Core enterprise: pay into a receivable's escrow, in parts or late (the cash allowance is topped up)."""

    model_config = _example("repay", {"slot": _SLOT, "amount": "100000.00"})
    kind: Literal["repay"]
    params: RepayParams


class AcceptAction(BaseModel):
    """Supplier: accept (签收) what it was issued."""

    model_config = _example("accept", {"token_id": _TOKEN})
    kind: Literal["accept"]
    params: TokenParams


class RejectAction(BaseModel):
    """Supplier: reject what it was issued."""

    model_config = _example("reject", {"token_id": _TOKEN})
    kind: Literal["reject"]
    params: TokenParams


class PaySuppliersAction(BaseModel):
    """Supplier: pay its own suppliers with pieces of one fragment, in one transaction, with a memo (the hash
    of that trade's documents)."""

    model_config = _example(
        "pay_suppliers", {"token_id": _TOKEN, "payments": [{"to": _ADDRESS, "value": "30000.00"}], "memo": _HASH}
    )
    kind: Literal["pay_suppliers"]
    params: PaySuppliersParams


class TransferAction(BaseModel):
    """Holder: hand a whole fragment to another member."""

    model_config = _example("transfer", {"token_id": _TOKEN, "to": _ADDRESS})
    kind: Literal["transfer"]
    params: TransferParams


class MergeAction(BaseModel):
    """Holder: move value between two of its fragments of one receivable (never waits for a checker)."""

    model_config = _example("merge", {"from_token_id": _TOKEN, "to_token_id": str(token_id_of(1, 2)), "value": "1.00"})
    kind: Literal["merge"]
    params: MergeParams


class RedeemAction(BaseModel):
    """Holder: pull what a fragment is owed after repayment (never waits for a checker)."""

    model_config = _example("redeem", {"token_id": _TOKEN})
    kind: Literal["redeem"]
    params: TokenParams


class AdmitAction(BaseModel):
    """Operator: admit an account in a role."""

    model_config = _example("admit", {"account": _ADDRESS, "role": "supplier"})
    kind: Literal["admit"]
    params: AdmitParams


class SuspendAction(BaseModel):
    """Operator: suspend a member (it can neither send nor receive value)."""

    model_config = _example("suspend", {"account": _ADDRESS})
    kind: Literal["suspend"]
    params: AccountParams


class ReinstateAction(BaseModel):
    """Operator: reinstate a suspended member."""

    model_config = _example("reinstate", {"account": _ADDRESS})
    kind: Literal["reinstate"]
    params: AccountParams


class SetCreditLineAction(BaseModel):
    """Operator: set a core enterprise's issuance limit (授信额度)."""

    model_config = _example("set_credit_line", {"debtor": _ADDRESS, "limit": "50000000.00"})
    kind: Literal["set_credit_line"]
    params: CreditLineParams


class FreezeAction(BaseModel):
    """Operator: freeze a fragment, with a reason (its keccak on chain, its text in the audit trail)."""

    model_config = _example("freeze", {"token_id": _TOKEN, "reason": "court order 2026-118"})
    kind: Literal["freeze"]
    params: FreezeParams


class UnfreezeAction(BaseModel):
    """Operator: unfreeze a fragment, with a reason (in the audit trail)."""

    model_config = _example("unfreeze", {"token_id": _TOKEN, "reason": "order lifted"})
    kind: Literal["unfreeze"]
    params: FreezeParams


class SetMaxTenorAction(BaseModel):
    """Operator: the longest tenor a new receivable may have, in seconds."""

    model_config = _example("set_max_tenor", {"seconds": 15552000})
    kind: Literal["set_max_tenor"]
    params: TenorParams


class SetGracePeriodAction(BaseModel):
    """Operator: the grace period after maturity before a receivable may be marked overdue, in seconds."""

    model_config = _example("set_grace_period", {"seconds": 604800})
    kind: Literal["set_grace_period"]
    params: GraceParams


class SetApprovalForAllAction(BaseModel):
    """Holder: let the FinancingDesk move its fragments (needed before a bank can fund its signed request), or
    withdraw that."""

    model_config = _example("set_approval_for_all", {"approved": True})
    kind: Literal["set_approval_for_all"]
    params: DeskApprovalParams


class SetExposureLimitAction(BaseModel):
    """Financier: the most it will have funded against one debtor at a time (敞口限额)."""

    model_config = _example("set_exposure_limit", {"debtor": _ADDRESS, "limit": "2000000.00"})
    kind: Literal["set_exposure_limit"]
    params: ExposureLimitParams


class MintAction(BaseModel):
    """Operator: cash in (a deposit at the settlement bank credited on chain)."""

    model_config = _example("mint", {"to": _ADDRESS, "amount": "1000000.00"})
    kind: Literal["mint"]
    params: MintParams


class OfferAction(BaseModel):
    """Holder: offer a fragment (or part of it) for financing, to one bank or the open market. The API signs the
    EIP-712 request with the member's key and lists it (GET /financing-requests); `result.request_id` names it.
    Preview the price with POST /quotes first."""

    model_config = _example(
        "offer",
        {"token_id": _TOKEN, "value": "100000.00", "price": "98900.00", "financier": None, "deadline": 1798761600},
    )
    kind: Literal["offer"]
    params: OfferParams


class FundAction(BaseModel):
    """Financier: fund a financing request (cash to the holder, the value to the bank, one transaction). For a
    bank with a checker this is the way to fund; `price` is what the checker sees and approves."""

    model_config = _example("fund", {"request_id": 7, "price": "98900.00"})
    kind: Literal["fund"]
    params: FundParams


class ClaimRecourseAction(BaseModel):
    """Financier: claim on the seller of an overdue, unpaid fragment it bought with recourse (GET /recourse)."""

    model_config = _example("claim_recourse", {"financed_token_id": _TOKEN})
    kind: Literal["claim_recourse"]
    params: FinancedTokenParams


class SettleRecourseAction(BaseModel):
    """Seller: pay a recourse claim made on it (cash to the financier); the desk holds the fragment for it and
    later repayments are shared (`redeem_recourse`)."""

    model_config = _example("settle_recourse", {"financed_token_id": _TOKEN})
    kind: Literal["settle_recourse"]
    params: FinancedTokenParams


class RedeemRecourseAction(BaseModel):
    """Seller or financier: pay out what the debtor has repaid on a bought-back fragment since, to both."""

    model_config = _example("redeem_recourse", {"financed_token_id": _TOKEN})
    kind: Literal["redeem_recourse"]
    params: FinancedTokenParams


class MarkOverdueAction(BaseModel):
    """Anyone but the auditor: record that a receivable is unpaid past its maturity and grace period (it moves
    nothing; a recourse claim needs it)."""

    model_config = _example("mark_overdue", {"slot": _SLOT})
    kind: Literal["mark_overdue"]
    params: SlotParams


ActionCreate = Annotated[
    IssueAction
    | CancelAction
    | RepayAction
    | AcceptAction
    | RejectAction
    | PaySuppliersAction
    | TransferAction
    | MergeAction
    | RedeemAction
    | AdmitAction
    | SuspendAction
    | ReinstateAction
    | SetCreditLineAction
    | FreezeAction
    | UnfreezeAction
    | SetMaxTenorAction
    | SetGracePeriodAction
    | SetApprovalForAllAction
    | SetExposureLimitAction
    | MintAction
    | OfferAction
    | FundAction
    | ClaimRecourseAction
    | SettleRecourseAction
    | RedeemRecourseAction
    | MarkOverdueAction,
    Field(discriminator="kind"),
]


# For callers that build an action from fields rather than a JSON body (the portal's forms).
ActionAdapter: TypeAdapter[Any] = TypeAdapter(ActionCreate)

_ACTION_EXAMPLE: JsonDict = {
    "id": "a_0c1d2e3f40516273",
    "kind": "issue",
    "params": {"supplier": _ADDRESS, "face_value": "500000.00", "maturity": 1798761600},
    "state": "executed",
    "member": _ADDRESS,
    "maker": "u_3f9a1c07b2d4e5f6",
    "checker": "u_8e7d6c5b4a392817",
    "amount": "500000.00",
    "needs_approval": True,
    "created_at": 1764590400,
    "expires_at": 1764676800,
    "decided_at": 1764591000,
    "tx_hash": _HASH,
    "result": {"slot": "4294967297", "token_id": _TOKEN, "block_number": 42, "tx_hash": _HASH},
    "error": None,
}


class ActionPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ACTION_EXAMPLE]})

    id: str
    kind: str
    params: dict[str, Any] = Field(description="as prepared: ids and amounts as strings")
    state: State
    member: str
    maker: str = Field(description="the user who prepared it")
    checker: str | None = Field(description="the user who approved or rejected it")
    amount: Yuan | None = Field(description="what it moves or commits, compared with the member's threshold")
    needs_approval: bool
    created_at: int = Field(description="unix seconds, wall clock")
    expires_at: int = Field(description="a prepared action expires then (wall clock, 24 h after preparation)")
    decided_at: int | None
    tx_hash: str | None = Field(description="the last transaction sent for it")
    result: dict[str, Any] | None = Field(description="executed: what the chain returned (ids as strings)")
    error: dict[str, Any] | None = Field(description='failed: the refusal, `{"error", "fields"}` as the API names it')

    @classmethod
    def of(cls, a: Action) -> ActionPublic:
        return cls(
            id=a.id,
            kind=a.kind,
            params=a.params,
            state=a.state,
            member=a.member,
            maker=a.maker,
            checker=a.checker,
            amount=a.amount,
            needs_approval=a.needs_approval,
            created_at=int(a.created_at),
            expires_at=int(a.expires_at),
            decided_at=None if a.decided_at is None else int(a.decided_at),
            tx_hash=a.tx_hash,
            result=a.result,
            error=a.error,
        )


class ActionsPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": [_ACTION_EXAMPLE], "count": 1}]})

    data: list[ActionPublic]
    count: int


class RejectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "invoice amount differs"}]})
    reason: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")


class ApprovalPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"single_user_below": "10000.00"}]})
    single_user_below: YuanIn | None = Field(
        default=None, description="an action of a smaller amount executes on its maker's preparation; null: none"
    )


class ApprovalPolicyPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"member": _ADDRESS, "single_user_below": "10000.00", "checkers": True}]}
    )
    member: str
    single_user_below: str | None
    checkers: bool = Field(description="whether the member has an active checker (else nothing waits)")


def _sees_all(user: User) -> bool:
    return user.member.role in (Role.OPERATOR, Role.AUDITOR)


def _settle(context: ApiContext) -> None:
    """Before a read: expire what is due, and settle actions stranded in `executing` (their process died, or
    the node went away after their transaction was signed) from their receipts."""
    context.actions.expire_due()
    actions.recover(context)


def _visible(context: ApiContext, user: User, action_id: str) -> Action:
    _settle(context)
    found = context.actions.get(action_id)
    if found is None or not (_sees_all(user) or found.member == user.member.address):
        raise ApiProblem(404, "UnknownAction", {"id": action_id})
    return found


def _run(context: ApiContext, action: Action, by: User) -> Action:
    spec = KIND_SPECS[action.kind]
    params = spec.params.model_validate(action.params)
    done = actions.execute(context, action, by, spec.runner(context, by.member, action, params))
    if done.state is State.EXECUTED and done.result is not None:
        # The documents behind what went on chain, linked for whoever may see the receivable (api.documents).
        if isinstance(params, IssueParams) and params.documents:
            context.documents.link_receivable(int(done.result["slot"]), params.documents, action.member)
        if isinstance(params, PaySuppliersParams) and params.documents:
            slot = slot_of(params.token_id)
            context.documents.link_payment(params.on_chain_memo(), slot, params.documents, action.member)
    return done


def submit(context: ApiContext, user: User, body: ActionCreate, key: str) -> tuple[Action, bool]:
    """Prepare `body` for `user` (and run it now when it need not wait): (the action, whether it is new). The
    one path of `POST /actions` and of the portal's forms."""
    actions.may_prepare(user, body.kind)
    if isinstance(body.params, IssueParams | PaySuppliersParams):
        body.params.choose()  # a document hash or the uploaded documents it combines
        missing = context.documents.missing(body.params.documents or [])
        if missing:
            raise ApiProblem(404, "UnknownDocument", {"sha256": missing[0], "detail": "upload it with POST /documents"})
    spec = KIND_SPECS[body.kind]
    params = body.params.model_dump(mode="json")
    amount = spec.amount(context.scf, body.params)
    waits = actions.needs_approval(context, user.member, body.kind, amount)
    action, created = context.actions.prepare(
        user, body.kind, params, amount, waits, key, actions.fingerprint(body.kind, params)
    )
    if created and action.state is State.EXECUTING:
        action = _run(context, action, user)
    return action, created


def approve(context: ApiContext, user: User, action_id: str) -> Action:
    """A checker's approval: the action runs now, exactly once."""
    claimed = context.actions.claim(_checker(context, user, action_id), user)
    return _run(context, claimed, user)


def reject(context: ApiContext, user: User, action_id: str, reason: str | None) -> Action:
    return context.actions.reject(_checker(context, user, action_id), user, reason)


_REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {"model": ActionPublic, "description": "the action an earlier call with this Idempotency-Key prepared"}
}


@router.post(
    "/actions",
    status_code=201,
    response_model=ActionPublic,
    responses={**_REPLAYED, **NOT_FOUND, **CONFLICT},
    summary="Prepare an action (maker)",
)
def prepare_action(
    context: ContextDep, user: ActiveUser, key: IdempotencyKey, body: Annotated[ActionCreate, Body()]
) -> Response:
    """Prepare an action of the caller's member (duty `maker`, `checker` or `admin`; the kind must fit the member's
    on-chain role). If it moves value or commits the member and the member has a checker, it waits
    (`prepared`) for another user's approval, unless its amount is under the member's threshold; otherwise it
    executes now and the answer is `executed` or `failed` (with the contract's named refusal in `error`).

    `Idempotency-Key` is required: the same key and body return the same action with nothing prepared or sent
    again (`Idempotent-Replayed: true`, 200); the same key with another body is 409 `IdempotencyKeyReused`."""
    action, created = submit(context, user, body, key)
    headers = {"Idempotent-Replayed": "false" if created else "true", "Location": f"/actions/{action.id}"}
    payload = ActionPublic.of(action).model_dump(mode="json")
    return JSONResponse(payload, status_code=201 if created else 200, headers=headers)


@router.get("/actions", summary="List actions, by state")
def list_actions(
    context: ContextDep,
    user: CurrentUser,
    state: State | None = None,
    skip: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ActionsPublic:
    """The caller's member's actions, oldest first (the operator and auditors: every member's), by state."""
    _settle(context)
    scope = None if _sees_all(user) else user.member.address
    data, count = context.actions.page(scope, state, skip, limit)
    return ActionsPublic(data=[ActionPublic.of(a) for a in data], count=count)


@router.get("/actions/{action_id}", responses=NOT_FOUND, summary="Read an action")
def read_action(context: ContextDep, user: CurrentUser, action_id: ActionId) -> ActionPublic:
    return ActionPublic.of(_visible(context, user, action_id))


def _checker(context: ApiContext, user: User, action_id: str) -> Action:
    found = _visible(context, user, action_id)
    if found.member != user.member.address:
        raise ApiProblem(404, "UnknownAction", {"id": action_id})  # the operator reads others', never decides
    if user.duty is not Duty.CHECKER:
        raise ApiProblem(403, "DutyNotAllowed", {"duty": user.duty.value, "allowed": [Duty.CHECKER.value]})
    if found.maker == user.id:
        raise ApiProblem(403, "MakerCannotApprove", {"id": action_id, "user": user.id})
    return found


@router.post(
    "/actions/{action_id}/approve", responses={**NOT_FOUND, **CONFLICT}, summary="Approve and execute (checker)"
)
def approve_action(context: ContextDep, user: ActiveUser, action_id: ActionId) -> ActionPublic:
    """A checker of the same member, not its maker, approves a prepared action: it executes now, exactly once
    (of concurrent approvals one executes, the others get 409 `ActionNotPrepared`). An expired action is 409
    `ActionExpired` and sends nothing. The answer is the action, `executed` or `failed`."""
    return ActionPublic.of(approve(context, user, action_id))


@router.post("/actions/{action_id}/reject", responses={**NOT_FOUND, **CONFLICT}, summary="Reject (checker)")
def reject_action(
    context: ContextDep,
    user: ActiveUser,
    action_id: ActionId,
    body: Annotated[RejectCreate | None, Body()] = None,
) -> ActionPublic:
    """A checker of the same member, not its maker, rejects a prepared action, with an optional reason: nothing
    is sent."""
    return ActionPublic.of(reject(context, user, action_id, None if body is None else body.reason))


def _policy(context: ApiContext, member: str) -> ApprovalPolicyPublic:
    below = context.actions.threshold(member)
    return ApprovalPolicyPublic(
        member=member,
        single_user_below=None if below is None else yuan_text(below),
        checkers=context.users.has_checker(member),
    )


@router.get("/approval-policy", summary="Read the maker-checker threshold")
def read_policy(context: ContextDep, user: CurrentUser) -> ApprovalPolicyPublic:
    """The caller's member's maker-checker threshold."""
    return _policy(context, user.member.address)


@router.put("/approval-policy", summary="Set the maker-checker threshold (admin)")
def set_policy(context: ContextDep, user: ActiveUser, body: ApprovalPolicy) -> ApprovalPolicyPublic:
    """The member's admin sets the amount below which a maker's own preparation executes at once (null: every
    checked action waits for a checker while the member has one)."""
    if user.duty is not Duty.ADMIN:
        raise ApiProblem(403, "DutyNotAllowed", {"duty": user.duty.value, "allowed": [Duty.ADMIN.value]})
    context.actions.set_threshold(user.member.address, body.single_user_below)
    return _policy(context, user.member.address)
