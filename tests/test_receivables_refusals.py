"""Every refusal of ReceivableToken: the exact named error, every one of its fields, and no change of state (each
through `assert_refused`, which compares every contract's storage before and after).

Most refusals are rows of tables: a setup (a list of steps on a `World`), the refused move, the error and its
fields. Moves that share a condition (matured, frozen, pending, a stranger's) are the table's product."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from unittest.mock import ANY

import pytest

from chain_client import Role, ScfClient
from chain_client.contract_errors import (
    AccountSuspended,
    CallerNotHolder,
    DocumentAlreadyIssued,
    EmptySplit,
    ERC721InvalidOwner,
    FaceValueOutOfRange,
    FragmentFrozen,
    FragmentNotFrozen,
    IncorrectOwner,
    InsufficientAllowance,
    InsufficientValue,
    InvalidDocumentHash,
    InvalidOperator,
    LengthMismatch,
    MaturityNotInFuture,
    NonexistentReceivable,
    NonexistentToken,
    NotDebtor,
    NotMember,
    NotOwnerNorApproved,
    ReceivableMatured,
    ReceivableNotActive,
    ReceivableNotPending,
    SelfTransfer,
    SlotMismatch,
    TenorCapOutOfRange,
    TenorExceedsCap,
    WrongRole,
    ZeroValue,
)
from chain_client.devchain import advance_time, now
from chain_client.exceptions import ContractError
from chain_client.receivables import ReceivableState, slot_of_document, token_id_of
from tests.conftest import DAY, Parties, doc_hash, issue_active
from tests.refusals import assert_refused

MAX_VALUE = 2**48 - 1
DEFAULT_TENOR_CAP = 365 * DAY
MAX_TENOR_CAP = 3650 * DAY
ZERO_HASH = b"\0" * 32
ZERO_ADDRESS = "0x" + "00" * 20


@dataclass
class World:
    """What a row's setup made: the receivable (`slot`, its first fragment `token`), fragments made beside it."""

    scf: ScfClient
    p: Parties
    slot: int = 0
    token: int = 0
    face_value: int = 0
    maturity: int = 0
    other: int = 0  # a second fragment of the receivable, s1's
    theirs: int = 0  # a fragment of the receivable split off to s2
    b: int = 0  # the first fragment of a second receivable

    @property
    def rc(self) -> Any:
        return self.scf.receivables


Step = Callable[[World], object]


def active(face_value: int = 1_000_000_00, tenor: int = 90 * DAY) -> Step:
    """An accepted receivable from core to s1."""

    def step(w: World) -> None:
        r = issue_active(w.scf, w.p, face_value, tenor=tenor)
        w.slot, w.token, w.face_value, w.maturity = r.slot, r.token_id, r.face_value, r.maturity

    return step


def pending(face_value: int = 1_000_00, tenor: int = 30 * DAY) -> Step:
    """A receivable from core to s1, not yet accepted."""

    def step(w: World) -> None:
        w.maturity = now(w.scf.w3) + tenor
        r = w.rc.issue(w.p.core, w.p.s1.address, face_value, w.maturity, doc_hash())
        w.slot, w.token, w.face_value = r.slot, r.token_id, face_value

    return step


def second_fragment(w: World) -> None:
    """s1 splits 100.00 of its fragment to itself."""
    w.other = w.rc.transfer_value(w.p.s1, w.token, w.p.s1.address, 100_00).new_token_ids[0]


def to_s2(value: int) -> Step:
    def step(w: World) -> None:
        w.theirs = w.rc.transfer_value(w.p.s1, w.token, w.p.s2.address, value).new_token_ids[0]

    return step


def second_receivable(w: World) -> None:
    w.b = issue_active(w.scf, w.p).token_id


def suspend(who: str) -> Step:
    return lambda w: w.scf.membership.suspend(w.p.operator, getattr(w.p, who).address)


def freeze(which: str) -> Step:
    return lambda w: w.rc.freeze(w.p.operator, getattr(w, which))


def reject(w: World) -> None:
    w.rc.reject(w.p.s1, w.token)


def after_maturity(w: World) -> None:
    advance_time(w.scf.w3, w.maturity - now(w.scf.w3) + 1)


def approve_value(owner: str, which: str, operator: str, value: int | None = None) -> Step:
    def step(w: World) -> None:
        amount = w.face_value if value is None else value
        w.rc.approve_value(getattr(w.p, owner), getattr(w, which), getattr(w.p, operator).address, amount)

    return step


def unknown_receivable(w: World) -> None:
    w.slot = slot_of_document(w.p.core.address, doc_hash())
    w.token = token_id_of(w.slot, 1)


@dataclass(frozen=True)
class Case:
    id: str
    setup: tuple[Step, ...]
    call: Callable[[World], object]
    error: type[ContractError]
    fields: Callable[[World], dict[str, Any]]
    check: Callable[[World, Any], bool] = field(default=lambda w, err: True)


def run(scf: ScfClient, parties: Parties, case: Case) -> None:
    w = World(scf, parties)
    for step in case.setup:
        step(w)
    err = assert_refused(scf, case.error, lambda: case.call(w), **case.fields(w))
    assert case.check(w, err)


def ids(cases: list[Case]) -> list[Any]:
    return [pytest.param(c, id=c.id) for c in cases]


def fixed(fields: dict[str, Any]) -> Callable[[World], dict[str, Any]]:
    return lambda w: fields


def account(who: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"account": getattr(w.p, who).address}


def token(w: World) -> dict[str, Any]:
    return {"token_id": w.token}


def stranger(w: World) -> dict[str, Any]:
    return {"token_id": w.token, "caller": w.p.s2.address}


def matured(w: World) -> dict[str, Any]:
    return {"slot": w.slot, "maturity": w.maturity, "now_time": ANY}


def not_pending(state: ReceivableState) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"slot": w.slot, "state": state}


def wrong_role(who: str, role: Role, required: Role) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"account": getattr(w.p, who).address, "role": role, "required": required}


# Moves of s1's fragment `token` (to s2 where the move has a recipient): the product with each condition below.
MOVES: dict[str, Callable[[World], object]] = {
    "split": lambda w: w.rc.transfer_value(w.p.s1, w.token, w.p.s2.address, 1_00),
    "batch split": lambda w: w.rc.split(w.p.s1, w.token, [(w.p.s2.address, 1_00), (w.p.s3.address, 1_00)]),
    "merge out": lambda w: w.rc.merge(w.p.s1, w.token, w.other, 1_00),
    "whole transfer": lambda w: w.rc.transfer(w.p.s1, w.p.s2.address, w.token),
}

# ------------------------------------------------------------------------------------------ membership

MEMBERSHIP = [
    Case(
        "split to a non-member names the outsider",
        (active(),),
        lambda w: w.rc.transfer_value(w.p.s1, w.token, w.p.outsider.address, 10_00),
        NotMember,
        account("outsider"),
    ),
    Case(
        "batch split with one non-member recipient is refused whole",
        (active(),),
        lambda w: w.rc.split(w.p.s1, w.token, [(w.p.s2.address, 1_00), (w.p.outsider.address, 1_00)]),
        NotMember,
        account("outsider"),
    ),
    Case(
        "whole transfer to a non-member",
        (active(),),
        lambda w: w.rc.transfer(w.p.s1, w.p.outsider.address, w.token),
        NotMember,
        account("outsider"),
    ),
    Case(
        "split by a suspended sender",
        (active(), suspend("s1")),
        lambda w: w.rc.transfer_value(w.p.s1, w.token, w.p.s2.address, 10_00),
        AccountSuspended,
        account("s1"),
    ),
    Case(
        "batch split by a suspended sender",
        (active(), suspend("s1")),
        lambda w: w.rc.split(w.p.s1, w.token, [(w.p.s2.address, 10_00)]),
        AccountSuspended,
        account("s1"),
    ),
    Case(
        "split to a suspended receiver",
        (active(), suspend("s2")),
        lambda w: w.rc.transfer_value(w.p.s1, w.token, w.p.s2.address, 10_00),
        AccountSuspended,
        account("s2"),
    ),
    Case(
        "whole transfer to a suspended receiver",
        (active(), suspend("s2")),
        lambda w: w.rc.transfer(w.p.s1, w.p.s2.address, w.token),
        AccountSuspended,
        account("s2"),
    ),
    Case(
        "merge into a suspended member's fragment",
        (active(), to_s2(10_00), suspend("s2")),
        lambda w: w.rc.merge(w.p.s1, w.token, w.theirs, 5_00),
        AccountSuspended,
        account("s2"),
    ),
    Case(
        "accept by a suspended supplier",
        (pending(), suspend("s1")),
        lambda w: w.rc.accept(w.p.s1, w.token),
        AccountSuspended,
        account("s1"),
    ),
]


@pytest.mark.parametrize("case", ids(MEMBERSHIP))
def test_membership_refusals(scf: ScfClient, parties: Parties, case: Case) -> None:
    run(scf, parties, case)


def test_moving_value_works_again_after_reinstatement(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.membership.suspend(parties.operator, parties.s1.address)
    assert_refused(
        scf,
        AccountSuspended,
        lambda: scf.receivables.transfer_value(parties.s1, r.token_id, parties.s2.address, 10_00),
        account=parties.s1.address,
    )
    scf.membership.reinstate(parties.operator, parties.s1.address)
    scf.receivables.transfer_value(parties.s1, r.token_id, parties.s2.address, 10_00)
    assert scf.receivables.balance_of(r.token_id) == r.face_value - 10_00


# ------------------------------------------------------------------------------------------ issue


def issue(issuer: str, holder: str, face_value: int = 1_00) -> Callable[[World], object]:
    """Issue by `issuer` to `holder`, maturing in a day."""
    return lambda w: w.rc.issue(
        getattr(w.p, issuer), getattr(w.p, holder).address, face_value, now(w.scf.w3) + DAY, doc_hash()
    )


ISSUE = [
    Case(
        "by a supplier, with its role",
        (),
        issue("s1", "s2"),
        WrongRole,
        wrong_role("s1", Role.SUPPLIER, Role.CORE_ENTERPRISE),
    ),
    Case(
        "to a financier",
        (),
        issue("core", "financier"),
        WrongRole,
        wrong_role("financier", Role.FINANCIER, Role.SUPPLIER),
    ),
    Case("to a non-member", (), issue("core", "outsider"), NotMember, account("outsider")),
    Case("by a suspended core enterprise", (suspend("core"),), issue("core", "s1"), AccountSuspended, account("core")),
    Case(
        "with a zero document hash",
        (),
        lambda w: w.rc.issue(w.p.core, w.p.s1.address, 1_00, now(w.scf.w3) + DAY, ZERO_HASH),
        InvalidDocumentHash,
        lambda w: {"document_hash": ZERO_HASH},
    ),
    *(
        Case(
            f"with face value {face_value}",
            (),
            issue("core", "s1", face_value),
            FaceValueOutOfRange,
            fixed({"face_value": face_value, "max": MAX_VALUE}),
        )
        for face_value in (0, MAX_VALUE + 1, 2**64)
    ),
]


@pytest.mark.parametrize("case", ids(ISSUE))
def test_issue_refusals(scf: ScfClient, parties: Parties, case: Case) -> None:
    run(scf, parties, case)


def test_issue_of_an_already_used_document_hash_is_refused(scf: ScfClient, parties: Parties) -> None:
    h = doc_hash()
    first = scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + DAY, h)
    assert first.slot == slot_of_document(parties.core.address, h)
    assert_refused(
        scf,
        DocumentAlreadyIssued,
        lambda: scf.receivables.issue(parties.core, parties.s2.address, 2_00, now(scf.w3) + DAY, h),
        document_hash=h,
        slot=first.slot,
    )
    assert scf.receivables.receivable(first.slot).debtor == parties.core.address


def test_another_debtor_cannot_squat_a_document_hash(scf: ScfClient, parties: Parties) -> None:
    """A member that learns a debtor's document hash (e.g. from a pending transaction) and issues on it first,
    then cancels, does not stop the debtor from confirming its own trade: the slot is bound to the debtor."""
    h = doc_hash()
    squat = scf.receivables.issue(parties.core2, parties.s2.address, 1, now(scf.w3) + DAY, h)
    scf.receivables.cancel(parties.core2, squat.slot)
    real = scf.receivables.issue(parties.core, parties.s1.address, 1_000_00, now(scf.w3) + DAY, h)
    assert real.slot != squat.slot
    info = scf.receivables.receivable(real.slot)
    assert (info.debtor, info.face_value, info.document_hash) == (parties.core.address, 1_000_00, h)
    assert scf.receivables.receivable(squat.slot).document_hash == h  # each keeps the full hash


def test_a_hash_sharing_the_top_224_bits_is_its_own_receivable(scf: ScfClient, parties: Parties) -> None:
    """Slots hash the debtor and the whole document hash: no two documents share one by their top bits."""
    h = doc_hash()
    first = scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + DAY, h)
    sibling = h[:28] + bytes(b ^ 0xFF for b in h[28:])
    second = scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + DAY, sibling)
    assert second.slot != first.slot
    assert scf.receivables.receivable(second.slot).document_hash == sibling


def test_issue_with_maturity_in_the_past_is_refused(scf: ScfClient, parties: Parties) -> None:
    maturity = now(scf.w3) - DAY
    err = assert_refused(
        scf,
        MaturityNotInFuture,
        lambda: scf.receivables.issue(parties.core, parties.s1.address, 1_00, maturity, doc_hash()),
        maturity=maturity,
        now_time=ANY,
    )
    assert err.now_time >= maturity + DAY


def test_issue_with_maturity_equal_to_now_is_refused(scf: ScfClient, parties: Parties) -> None:
    maturity = now(scf.w3)
    err = assert_refused(
        scf,
        MaturityNotInFuture,
        lambda: scf.receivables.issue(parties.core, parties.s1.address, 1_00, maturity, doc_hash()),
        maturity=maturity,
        now_time=ANY,
    )
    assert err.now_time >= maturity


def test_issue_with_maturity_beyond_the_tenor_cap_is_refused(scf: ScfClient, parties: Parties) -> None:
    t0 = now(scf.w3)
    maturity = t0 + DEFAULT_TENOR_CAP + DAY
    err = assert_refused(
        scf,
        TenorExceedsCap,
        lambda: scf.receivables.issue(parties.core, parties.s1.address, 1_00, maturity, doc_hash()),
        maturity=maturity,
        latest_allowed=ANY,
    )
    block_time = err.latest_allowed - DEFAULT_TENOR_CAP  # the refused transaction's block time
    assert t0 <= block_time <= t0 + 60
    assert err.maturity - err.latest_allowed == t0 + DAY - block_time


def test_issue_with_maturity_exactly_at_the_cap_is_accepted(scf: ScfClient, parties: Parties) -> None:
    maturity = now(scf.w3) + 2 * DEFAULT_TENOR_CAP
    err = assert_refused(
        scf,
        TenorExceedsCap,
        lambda: scf.receivables.issue(parties.core, parties.s1.address, 1_00, maturity, doc_hash()),
        maturity=maturity,
        latest_allowed=ANY,
    )
    # The clock never goes back, so the cap as the refusal reported it is still within the cap.
    r = scf.receivables.issue(parties.core, parties.s1.address, 1_00, err.latest_allowed, doc_hash())
    assert scf.receivables.receivable(r.slot).maturity == err.latest_allowed


def test_issue_with_the_largest_face_value_is_accepted(scf: ScfClient, parties: Parties) -> None:
    r = scf.receivables.issue(parties.core, parties.s1.address, MAX_VALUE, now(scf.w3) + DAY, doc_hash())
    assert scf.receivables.balance_of(r.token_id) == MAX_VALUE


# ------------------------------------------------------------------------------------------ value, approvals

VALUE = [
    Case(
        "split of more than the balance",
        (active(500_00),),
        lambda w: w.rc.transfer_value(w.p.s1, w.token, w.p.s2.address, 500_01),
        InsufficientValue,
        lambda w: {"token_id": w.token, "balance": 500_00, "needed": 500_01},
    ),
    Case(
        "batch split whose total exceeds the balance",
        (active(500_00),),
        lambda w: w.rc.split(w.p.s1, w.token, [(w.p.s2.address, 300_00), (w.p.s3.address, 300_00)]),
        InsufficientValue,
        lambda w: {"token_id": w.token, "balance": 500_00, "needed": 600_00},
    ),
    Case(
        "split of zero value",
        (active(),),
        lambda w: w.rc.transfer_value(w.p.s1, w.token, w.p.s2.address, 0),
        ZeroValue,
        token,
    ),
    Case(
        "batch split with a zero value",
        (active(),),
        lambda w: w.rc.split(w.p.s1, w.token, [(w.p.s2.address, 1_00), (w.p.s3.address, 0)]),
        ZeroValue,
        token,
    ),
    Case(
        "split by a stranger",
        (active(),),
        lambda w: w.rc.transfer_value(w.p.s2, w.token, w.p.s2.address, 1_00),
        NotOwnerNorApproved,
        stranger,
    ),
    Case(
        "batch split by a stranger",
        (active(),),
        lambda w: w.rc.split(w.p.s2, w.token, [(w.p.s2.address, 1_00)]),
        NotOwnerNorApproved,
        stranger,
    ),
    Case(
        "merge by a stranger",
        (active(), to_s2(10_00)),
        lambda w: w.rc.merge(w.p.s2, w.token, w.theirs, 1_00),
        NotOwnerNorApproved,
        stranger,
    ),
    Case(
        "split beyond the value allowance",
        (active(), approve_value("s1", "token", "s2", 100_00)),
        lambda w: w.rc.transfer_value(w.p.s2, w.token, w.p.s3.address, 150_00),
        InsufficientAllowance,
        lambda w: {"token_id": w.token, "operator": w.p.s2.address, "allowance": 100_00, "needed": 150_00},
    ),
    Case(
        "value allowance on another fragment does not count",
        (active(), second_fragment, approve_value("s1", "other", "s2", 50_00)),
        lambda w: w.rc.transfer_value(w.p.s2, w.token, w.p.s2.address, 1_00),
        NotOwnerNorApproved,
        stranger,
    ),
    Case(
        "value approval by a stranger",
        (active(),),
        lambda w: w.rc.approve_value(w.p.s2, w.token, w.p.s2.address, 1_00),
        NotOwnerNorApproved,
        stranger,
    ),
    Case(
        "ERC-721 approval by a stranger",
        (active(),),
        lambda w: w.rc.approve(w.p.s2, w.p.s2.address, w.token),
        NotOwnerNorApproved,
        stranger,
    ),
    Case(
        "approval for all to the zero address",
        (),
        lambda w: w.rc.set_approval_for_all(w.p.s1, ZERO_ADDRESS, True),
        InvalidOperator,
        lambda w: {"operator": ZERO_ADDRESS},
    ),
    Case(
        "batch split with more recipients than values",
        (active(),),
        lambda w: w.scf.tx.transact(
            w.p.s1,
            w.rc.contract.functions.split(w.token, [w.p.s2.address, w.p.s3.address], [1_00], ZERO_HASH),
            300_000,
        ),
        LengthMismatch,
        lambda w: {"recipients": 2, "values": 1},
    ),
    Case(
        "batch split with no recipient",
        (active(),),
        lambda w: w.rc.split(w.p.s1, w.token, []),
        EmptySplit,
        token,
    ),
]


@pytest.mark.parametrize("case", ids(VALUE))
def test_value_and_approval_refusals(scf: ScfClient, parties: Parties, case: Case) -> None:
    run(scf, parties, case)


def test_value_allowance_is_spent_and_then_exhausted(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    p = parties
    scf.receivables.approve_value(p.s1, r.token_id, p.s2.address, 100_00)
    scf.receivables.transfer_value(p.s2, r.token_id, p.s3.address, 60_00)
    assert scf.receivables.allowance(r.token_id, p.s2.address) == 40_00
    assert_refused(
        scf,
        InsufficientAllowance,
        lambda: scf.receivables.split(p.s2, r.token_id, [(p.s3.address, 30_00), (p.s4.address, 30_00)]),
        token_id=r.token_id,
        operator=p.s2.address,
        allowance=40_00,
        needed=60_00,
    )
    scf.receivables.transfer_value(p.s2, r.token_id, p.s3.address, 40_00)
    assert scf.receivables.allowance(r.token_id, p.s2.address) == 0
    assert_refused(
        scf,
        NotOwnerNorApproved,
        lambda: scf.receivables.transfer_value(p.s2, r.token_id, p.s3.address, 1),
        token_id=r.token_id,
        caller=p.s2.address,
    )
    assert scf.receivables.balance_of(r.token_id) == r.face_value - 100_00


# ------------------------------------------------------------------------------------------ conditions × moves

CONDITIONS = [
    *(
        Case(
            f"{move} of a pending fragment",
            (pending(),),
            MOVES[move],
            ReceivableNotActive,
            not_pending(ReceivableState.PENDING),
        )
        for move in ("split", "batch split", "whole transfer")  # a pending receivable is one fragment: no merge
    ),
    *(
        Case(f"{move} of a frozen fragment", (active(), second_fragment, freeze("token")), call, FragmentFrozen, token)
        for move, call in MOVES.items()
    ),
    Case(
        "merge into a frozen fragment",
        (active(), second_fragment, freeze("other")),
        MOVES["merge out"],
        FragmentFrozen,
        lambda w: {"token_id": w.other},
    ),
    *(
        Case(
            f"{move} after maturity",
            (active(tenor=10 * DAY), second_fragment, after_maturity),
            call,
            ReceivableMatured,
            matured,
            lambda w, err: err.now_time > w.maturity,
        )
        for move, call in MOVES.items()
    ),
    Case(
        "accept after maturity",
        (pending(1_00, tenor=DAY), after_maturity),
        lambda w: w.rc.accept(w.p.s1, w.token),
        ReceivableMatured,
        matured,
        lambda w, err: err.now_time > w.maturity,
    ),
]


@pytest.mark.parametrize("case", ids(CONDITIONS))
def test_moves_refused_by_the_fragments_condition(scf: ScfClient, parties: Parties, case: Case) -> None:
    run(scf, parties, case)


# ------------------------------------------------------------------------------------------ freezing, lifecycle

LIFECYCLE = [
    Case(
        "split of a rejected receivable is refused as nonexistent",
        (pending(), reject),
        MOVES["split"],
        NonexistentToken,
        token,
    ),
    Case(
        "freeze by a non-operator",
        (active(),),
        lambda w: w.rc.freeze(w.p.core, w.token),
        WrongRole,
        wrong_role("core", Role.CORE_ENTERPRISE, Role.OPERATOR),
    ),
    Case(
        "unfreeze by a non-operator",
        (active(), freeze("token")),
        lambda w: w.rc.unfreeze(w.p.s1, w.token),
        WrongRole,
        wrong_role("s1", Role.SUPPLIER, Role.OPERATOR),
    ),
    Case(
        "unfreeze of a fragment that is not frozen",
        (active(),),
        lambda w: w.rc.unfreeze(w.p.operator, w.token),
        FragmentNotFrozen,
        token,
    ),
    Case(
        "freeze of a nonexistent fragment",
        (active(),),
        lambda w: w.rc.freeze(w.p.operator, token_id_of(w.slot, 99)),
        NonexistentToken,
        lambda w: {"token_id": token_id_of(w.slot, 99)},
    ),
    Case(
        "merge across receivables",
        (active(), second_receivable),
        lambda w: w.rc.merge(w.p.s1, w.token, w.b, 1_00),
        SlotMismatch,
        lambda w: {"from_token_id": w.token, "to_token_id": w.b},
    ),
    Case(
        "merge of a fragment into itself",
        (active(),),
        lambda w: w.rc.merge(w.p.s1, w.token, w.token, 1_00),
        SelfTransfer,
        token,
    ),
    Case(
        "merge into a nonexistent fragment",
        (active(),),
        lambda w: w.rc.merge(w.p.s1, w.token, token_id_of(w.slot, 7), 1_00),
        NonexistentToken,
        lambda w: {"token_id": token_id_of(w.slot, 7)},
    ),
    Case(
        "accept by someone other than the holder",
        (pending(),),
        lambda w: w.rc.accept(w.p.s2, w.token),
        CallerNotHolder,
        lambda w: {"token_id": w.token, "caller": w.p.s2.address, "holder": w.p.s1.address},
    ),
    Case(
        "reject by the debtor",
        (pending(),),
        lambda w: w.rc.reject(w.p.core, w.token),
        CallerNotHolder,
        lambda w: {"token_id": w.token, "caller": w.p.core.address, "holder": w.p.s1.address},
    ),
    Case(
        "accept of an accepted receivable",
        (active(),),
        lambda w: w.rc.accept(w.p.s1, w.token),
        ReceivableNotPending,
        not_pending(ReceivableState.ACTIVE),
    ),
    Case(
        "reject of an accepted receivable",
        (active(),),
        lambda w: w.rc.reject(w.p.s1, w.token),
        ReceivableNotPending,
        not_pending(ReceivableState.ACTIVE),
    ),
    Case(
        "accept of a split-off fragment",
        (active(), to_s2(1_00)),
        lambda w: w.rc.accept(w.p.s2, w.theirs),
        ReceivableNotPending,
        not_pending(ReceivableState.ACTIVE),
    ),
    Case(
        "cancel after acceptance",
        (active(),),
        lambda w: w.rc.cancel(w.p.core, w.slot),
        ReceivableNotPending,
        not_pending(ReceivableState.ACTIVE),
    ),
    Case(
        "cancel of a rejected receivable",
        (pending(), reject),
        lambda w: w.rc.cancel(w.p.core, w.slot),
        ReceivableNotPending,
        not_pending(ReceivableState.REJECTED),
    ),
    Case(
        "cancel by someone other than the debtor",
        (pending(),),
        lambda w: w.rc.cancel(w.p.core2, w.slot),
        NotDebtor,
        lambda w: {"slot": w.slot, "caller": w.p.core2.address, "debtor": w.p.core.address},
    ),
    Case(
        "cancel of an unknown receivable",
        (unknown_receivable,),
        lambda w: w.rc.cancel(w.p.core, w.slot),
        NonexistentReceivable,
        lambda w: {"slot": w.slot},
    ),
]


@pytest.mark.parametrize("case", ids(LIFECYCLE))
def test_freezing_and_lifecycle_refusals(scf: ScfClient, parties: Parties, case: Case) -> None:
    run(scf, parties, case)


def test_unfrozen_fragment_moves_again(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.freeze(parties.operator, r.token_id, b"\x01" * 32)
    scf.receivables.unfreeze(parties.operator, r.token_id)
    assert not scf.receivables.is_frozen(r.token_id)
    scf.receivables.transfer_value(parties.s1, r.token_id, parties.s2.address, 1_00)
    assert scf.receivables.balance_of(r.token_id) == r.face_value - 1_00


# ------------------------------------------------------------------------------------------ nonexistent, ERC-721

ERC721 = [
    Case("split of a nonexistent token", (unknown_receivable,), MOVES["split"], NonexistentToken, token),
    Case(
        "batch split of a nonexistent token is refused as nonexistent",
        (unknown_receivable,),
        lambda w: w.rc.split(w.p.s1, w.token, [(w.p.s2.address, 1_00)]),
        NonexistentToken,
        token,
    ),
    Case(
        "fragment count of the zero address",
        (),
        lambda w: w.rc.fragment_count(ZERO_ADDRESS),
        ERC721InvalidOwner,
        lambda w: {"owner": ZERO_ADDRESS},
    ),
    Case(
        "read of an unknown receivable",
        (),
        lambda w: w.rc.receivable(slot_of_document("0x" + "11" * 20, b"\x42" * 32)),
        NonexistentReceivable,
        lambda w: {"slot": slot_of_document("0x" + "11" * 20, b"\x42" * 32)},
    ),
    Case(
        "ERC-721 transfer naming the wrong owner",
        (active(),),
        lambda w: w.rc.transfer(w.p.s1, w.p.s3.address, w.token, from_=w.p.s2.address),
        IncorrectOwner,
        lambda w: {"token_id": w.token, "from_": w.p.s2.address, "owner": w.p.s1.address},
    ),
    Case(
        "ERC-721 transfer by a stranger",
        (active(),),
        lambda w: w.rc.transfer(w.p.s2, w.p.s2.address, w.token, from_=w.p.s1.address),
        NotOwnerNorApproved,
        stranger,
    ),
    Case(
        "a value allowance does not allow a whole transfer",
        (active(), approve_value("s1", "token", "s2")),
        lambda w: w.rc.transfer(w.p.s2, w.p.s2.address, w.token, from_=w.p.s1.address),
        NotOwnerNorApproved,
        stranger,
    ),
]


@pytest.mark.parametrize("case", ids(ERC721))
def test_nonexistent_and_erc721_refusals(scf: ScfClient, parties: Parties, case: Case) -> None:
    run(scf, parties, case)


def test_reads_of_a_nonexistent_token_are_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    missing = token_id_of(r.slot, 2)
    rc = scf.receivables
    for read in (rc.owner_of, rc.balance_of, rc.fragment, rc.parent_of):
        assert_refused(scf, NonexistentToken, partial(read, missing), token_id=missing)


# ------------------------------------------------------------------------------------------ tenor cap


def set_max_tenor(seconds: int, w: World) -> object:
    return w.rc.set_max_tenor(w.p.operator, seconds)


TENOR_CAP = [
    Case(
        "set by a non-operator",
        (),
        lambda w: w.rc.set_max_tenor(w.p.core, 30 * DAY),
        WrongRole,
        wrong_role("core", Role.CORE_ENTERPRISE, Role.OPERATOR),
    ),
    *(
        Case(
            f"set to {seconds} s",
            (),
            partial(set_max_tenor, seconds),
            TenorCapOutOfRange,
            fixed({"seconds": seconds, "max": MAX_TENOR_CAP}),
        )
        for seconds in (0, MAX_TENOR_CAP + 1)
    ),
]


@pytest.mark.parametrize("case", ids(TENOR_CAP))
def test_tenor_cap_refusals(scf: ScfClient, parties: Parties, case: Case) -> None:
    run(scf, parties, case)
    assert scf.receivables.max_tenor() == DEFAULT_TENOR_CAP


def test_a_lowered_tenor_cap_refuses_longer_maturities(scf: ScfClient, parties: Parties) -> None:
    scf.receivables.set_max_tenor(parties.operator, 30 * DAY)
    assert scf.receivables.max_tenor() == 30 * DAY
    maturity = now(scf.w3) + 60 * DAY
    err = assert_refused(
        scf,
        TenorExceedsCap,
        lambda: scf.receivables.issue(parties.core, parties.s1.address, 1_00, maturity, doc_hash()),
        maturity=maturity,
        latest_allowed=ANY,
    )
    assert 0 < maturity - err.latest_allowed <= 30 * DAY
