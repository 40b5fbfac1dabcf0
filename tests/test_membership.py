"""Membership: the operator admits, suspends and reinstates; everyone else is refused with a named error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from chain_client import Role, ScfClient
from chain_client.contract_errors import (
    AccountSuspended,
    AlreadyMember,
    AlreadySuspended,
    NoRoleGiven,
    NotMember,
    NotSuspended,
    WrongRole,
)
from chain_client.exceptions import ContractError
from chain_client.membership import Membership
from tests.conftest import Parties, doc_hash
from tests.refusals import assert_refused

ZERO_HASH = b"\0" * 32


def test_the_fixture_members_have_their_roles(scf: ScfClient, parties: Parties) -> None:
    m = scf.membership
    assert m.role_of(parties.operator.address) == Role.OPERATOR
    assert m.role_of(parties.core.address) == Role.CORE_ENTERPRISE
    assert m.role_of(parties.s1.address) == Role.SUPPLIER
    assert m.role_of(parties.financier.address) == Role.FINANCIER
    assert m.role_of(parties.auditor.address) == Role.AUDITOR
    assert m.role_of(parties.outsider.address) == Role.NONE
    assert m.is_active(parties.s1.address)
    assert not m.is_active(parties.outsider.address)
    assert m.kyc_hash_of(parties.outsider.address) == ZERO_HASH


def test_operator_admits_an_account_with_its_role_and_kyc_hash(scf: ScfClient, parties: Parties) -> None:
    kyc = doc_hash()
    scf.membership.admit(parties.operator, parties.outsider.address, Role.FINANCIER, kyc)
    assert scf.membership.role_of(parties.outsider.address) == Role.FINANCIER
    assert scf.membership.is_active(parties.outsider.address)
    assert scf.membership.kyc_hash_of(parties.outsider.address) == kyc


def test_suspension_keeps_the_role_and_reinstatement_restores_activity(scf: ScfClient, parties: Parties) -> None:
    scf.membership.suspend(parties.operator, parties.s1.address)
    assert not scf.membership.is_active(parties.s1.address)
    assert scf.membership.role_of(parties.s1.address) == Role.SUPPLIER
    scf.membership.reinstate(parties.operator, parties.s1.address)
    assert scf.membership.is_active(parties.s1.address)
    assert scf.membership.role_of(parties.s1.address) == Role.SUPPLIER


def test_a_second_operator_can_admit_and_suspend(scf: ScfClient, parties: Parties) -> None:
    scf.membership.admit(parties.operator, parties.outsider.address, Role.OPERATOR)
    scf.membership.suspend(parties.outsider, parties.s2.address)
    assert not scf.membership.is_active(parties.s2.address)


# ------------------------------------------------------------------------------------------------ refusals


@dataclass(frozen=True)
class Refusal:
    id: str
    setup: Callable[[Membership, Parties], object]
    call: Callable[[Membership, Parties], object]
    error: type[ContractError]
    fields: Callable[[Parties], dict[str, Any]]


def nothing(m: Membership, p: Parties) -> None:
    pass


def s1_suspended(m: Membership, p: Parties) -> None:
    m.suspend(p.operator, p.s1.address)


def operator_suspended_by_a_second_one(m: Membership, p: Parties) -> None:
    m.admit(p.operator, p.outsider.address, Role.OPERATOR)
    m.suspend(p.outsider, p.operator.address)


def account(who: str) -> Callable[[Parties], dict[str, Any]]:
    return lambda p: {"account": getattr(p, who).address}


REFUSALS = [
    Refusal(
        "admission by a non-operator",
        nothing,
        lambda m, p: m.admit(p.core, p.outsider.address, Role.SUPPLIER),
        WrongRole,
        lambda p: {"account": p.core.address, "role": Role.CORE_ENTERPRISE, "required": Role.OPERATOR},
    ),
    Refusal(
        "admission by a non-member",
        nothing,
        lambda m, p: m.admit(p.outsider, p.outsider.address, Role.OPERATOR),
        NotMember,
        account("outsider"),
    ),
    Refusal(
        "a suspended operator cannot admit",
        operator_suspended_by_a_second_one,
        lambda m, p: m.admit(p.operator, p.outsider.address, Role.SUPPLIER),
        AccountSuspended,
        account("operator"),
    ),
    Refusal(
        "admitting a member twice names its role",
        nothing,
        lambda m, p: m.admit(p.operator, p.s1.address, Role.FINANCIER),
        AlreadyMember,
        lambda p: {"account": p.s1.address, "role": Role.SUPPLIER},
    ),
    Refusal(
        "admitting a suspended member again",
        s1_suspended,
        lambda m, p: m.admit(p.operator, p.s1.address, Role.SUPPLIER),
        AlreadyMember,
        lambda p: {"account": p.s1.address, "role": Role.SUPPLIER},
    ),
    Refusal(
        "admission with no role",
        nothing,
        lambda m, p: m.admit(p.operator, p.outsider.address, Role.NONE),
        NoRoleGiven,
        account("outsider"),
    ),
    Refusal(
        "suspending twice",
        s1_suspended,
        lambda m, p: m.suspend(p.operator, p.s1.address),
        AlreadySuspended,
        account("s1"),
    ),
    Refusal(
        "reinstating an active member",
        nothing,
        lambda m, p: m.reinstate(p.operator, p.s1.address),
        NotSuspended,
        account("s1"),
    ),
    Refusal(
        "suspending a non-member",
        nothing,
        lambda m, p: m.suspend(p.operator, p.outsider.address),
        NotMember,
        account("outsider"),
    ),
    Refusal(
        "reinstating a non-member",
        nothing,
        lambda m, p: m.reinstate(p.operator, p.outsider.address),
        NotMember,
        account("outsider"),
    ),
    Refusal(
        "suspension by a non-operator",
        nothing,
        lambda m, p: m.suspend(p.auditor, p.s1.address),
        WrongRole,
        lambda p: {"account": p.auditor.address, "role": Role.AUDITOR, "required": Role.OPERATOR},
    ),
    Refusal(
        "reinstatement by a non-operator",
        s1_suspended,
        lambda m, p: m.reinstate(p.financier, p.s1.address),
        WrongRole,
        lambda p: {"account": p.financier.address, "role": Role.FINANCIER, "required": Role.OPERATOR},
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in REFUSALS])
def test_refused_with_a_named_error_and_nothing_changed(scf: ScfClient, parties: Parties, case: Refusal) -> None:
    """Each refusal: the exact error and fields, and no contract's state changed (role, activity, KYC hash)."""
    case.setup(scf.membership, parties)
    assert_refused(scf, case.error, lambda: case.call(scf.membership, parties), **case.fields(parties))
