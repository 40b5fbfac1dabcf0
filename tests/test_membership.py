"""Membership: the operator admits, suspends and reinstates; everyone else is refused with a named error."""

from __future__ import annotations

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
from tests.conftest import Parties, doc_hash

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


def test_admission_by_a_non_operator_is_refused(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(WrongRole) as err:
        scf.membership.admit(parties.core, parties.outsider.address, Role.SUPPLIER)
    assert err.value.account == parties.core.address
    assert (err.value.role, err.value.required) == (Role.CORE_ENTERPRISE, Role.OPERATOR)
    assert scf.membership.role_of(parties.outsider.address) == Role.NONE


def test_admission_by_a_non_member_is_refused(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(NotMember) as err:
        scf.membership.admit(parties.outsider, parties.outsider.address, Role.OPERATOR)
    assert err.value.account == parties.outsider.address


def test_a_suspended_operator_cannot_admit(scf: ScfClient, parties: Parties) -> None:
    scf.membership.admit(parties.operator, parties.outsider.address, Role.OPERATOR)
    scf.membership.suspend(parties.outsider, parties.operator.address)
    with pytest.raises(AccountSuspended) as err:
        scf.membership.admit(parties.operator, parties.outsider.address, Role.SUPPLIER)
    assert err.value.account == parties.operator.address


def test_admitting_a_member_twice_is_refused_naming_its_role(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(AlreadyMember) as err:
        scf.membership.admit(parties.operator, parties.s1.address, Role.FINANCIER)
    assert (err.value.account, err.value.role) == (parties.s1.address, Role.SUPPLIER)
    assert scf.membership.role_of(parties.s1.address) == Role.SUPPLIER


def test_admitting_a_suspended_member_again_is_refused(scf: ScfClient, parties: Parties) -> None:
    scf.membership.suspend(parties.operator, parties.s1.address)
    with pytest.raises(AlreadyMember) as err:
        scf.membership.admit(parties.operator, parties.s1.address, Role.SUPPLIER)
    assert (err.value.account, err.value.role) == (parties.s1.address, Role.SUPPLIER)
    assert not scf.membership.is_active(parties.s1.address)


def test_admission_with_no_role_is_refused(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(NoRoleGiven) as err:
        scf.membership.admit(parties.operator, parties.outsider.address, Role.NONE)
    assert err.value.account == parties.outsider.address


def test_suspending_twice_is_refused(scf: ScfClient, parties: Parties) -> None:
    scf.membership.suspend(parties.operator, parties.s1.address)
    with pytest.raises(AlreadySuspended) as err:
        scf.membership.suspend(parties.operator, parties.s1.address)
    assert err.value.account == parties.s1.address


def test_reinstating_an_active_member_is_refused(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(NotSuspended) as err:
        scf.membership.reinstate(parties.operator, parties.s1.address)
    assert err.value.account == parties.s1.address


def test_suspending_a_non_member_is_refused(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(NotMember) as err:
        scf.membership.suspend(parties.operator, parties.outsider.address)
    assert err.value.account == parties.outsider.address


def test_reinstating_a_non_member_is_refused(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(NotMember) as err:
        scf.membership.reinstate(parties.operator, parties.outsider.address)
    assert err.value.account == parties.outsider.address


def test_suspension_by_a_non_operator_is_refused(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(WrongRole) as err:
        scf.membership.suspend(parties.auditor, parties.s1.address)
    assert (err.value.account, err.value.role, err.value.required) == (
        parties.auditor.address,
        Role.AUDITOR,
        Role.OPERATOR,
    )
    assert scf.membership.is_active(parties.s1.address)


def test_reinstatement_by_a_non_operator_is_refused(scf: ScfClient, parties: Parties) -> None:
    scf.membership.suspend(parties.operator, parties.s1.address)
    with pytest.raises(WrongRole) as err:
        scf.membership.reinstate(parties.financier, parties.s1.address)
    assert (err.value.account, err.value.role, err.value.required) == (
        parties.financier.address,
        Role.FINANCIER,
        Role.OPERATOR,
    )
    assert not scf.membership.is_active(parties.s1.address)
