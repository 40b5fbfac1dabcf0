"""The helper of tests/refusals.py fails when it should: a call that changes state and then raises the expected
error, another error, other fields, fields left unnamed, and a call that is not refused at all."""

from __future__ import annotations

import re
from unittest.mock import ANY

import pytest

from chain_client import Role, ScfClient
from chain_client.contract_errors import AccountSuspended, AlreadyMember, NotMember, WrongRole
from tests.conftest import Parties
from tests.refusals import assert_refused


def test_a_refusal_that_changes_nothing_passes_and_returns_the_error(scf: ScfClient, parties: Parties) -> None:
    p = parties
    err = assert_refused(
        scf,
        AlreadyMember,
        lambda: scf.membership.admit(p.operator, p.s1.address, Role.SUPPLIER),
        account=p.s1.address,
        role=Role.SUPPLIER,
    )
    assert isinstance(err, AlreadyMember)


def test_a_call_that_changes_state_then_raises_the_expected_error_fails(scf: ScfClient, parties: Parties) -> None:
    p = parties

    def changes_then_refused() -> None:
        scf.membership.suspend(p.operator, p.s4.address)  # a change...
        scf.membership.admit(p.operator, p.s1.address, Role.SUPPLIER)  # ...then the expected refusal

    with pytest.raises(AssertionError, match=r"changed the chain's state(.|\n)*Membership: \d+ storage word"):
        assert_refused(scf, AlreadyMember, changes_then_refused, account=p.s1.address, role=Role.SUPPLIER)


def test_a_change_to_the_cash_token_is_named(scf: ScfClient, parties: Parties) -> None:
    p = parties

    def mints_then_refused() -> None:
        scf.cash.mint(p.operator, p.s1.address, 1_00)
        scf.membership.admit(p.operator, p.s1.address, Role.SUPPLIER)

    with pytest.raises(AssertionError, match=r"SettlementToken: 2 storage word\(s\) changed"):
        assert_refused(scf, AlreadyMember, mints_then_refused, account=p.s1.address, role=Role.SUPPLIER)


def test_another_error_fails(scf: ScfClient, parties: Parties) -> None:
    p = parties
    with pytest.raises(AssertionError, match="expected NotMember, the call raised AlreadyMember"):
        assert_refused(
            scf, NotMember, lambda: scf.membership.admit(p.operator, p.s1.address, Role.SUPPLIER), account=ANY
        )


def test_other_fields_fail(scf: ScfClient, parties: Parties) -> None:
    p = parties
    with pytest.raises(
        AssertionError,
        match=re.escape("AlreadyMember with other fields: role: got 3, expected <Role.CORE_ENTERPRISE: 2>"),
    ):
        assert_refused(
            scf,
            AlreadyMember,
            lambda: scf.membership.admit(p.operator, p.s1.address, Role.SUPPLIER),
            account=p.s1.address,
            role=Role.CORE_ENTERPRISE,
        )


def test_every_field_must_be_named(scf: ScfClient, parties: Parties) -> None:
    p = parties
    with pytest.raises(AssertionError, match=r"missing \['required', 'role'\], unknown \['rol'\]"):
        assert_refused(
            scf,
            WrongRole,
            lambda: scf.membership.suspend(p.s1, p.s2.address),
            account=p.s1.address,
            rol=Role.SUPPLIER,
        )


def test_a_call_that_is_not_refused_fails(scf: ScfClient, parties: Parties) -> None:
    p = parties
    with pytest.raises(AssertionError, match="expected AccountSuspended, the call was not refused"):
        assert_refused(
            scf, AccountSuspended, lambda: scf.membership.suspend(p.operator, p.s2.address), account=p.s2.address
        )
