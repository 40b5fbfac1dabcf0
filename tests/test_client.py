"""Client plumbing: error decoding, deployment records, money formatting, development-only helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi.abi import encode
from web3 import Web3

from chain_client import DeploymentRecord, ScfClient, load_contracts, record_of
from chain_client.chain import snapshot
from chain_client.contract_errors import InsufficientValue, NotMember
from chain_client.devchain import advance_time, now
from chain_client.exceptions import (
    ContractError,
    ContractPanic,
    NotADevelopmentChain,
    UnknownContractError,
)
from chain_client.money import format_fen, parse_yuan
from chain_client.reverts import decode_revert
from tests.conftest import Parties
from tests.refusals import assert_refused


def test_revert_data_decodes_into_the_named_exception_with_fields() -> None:
    data = bytes.fromhex(InsufficientValue.selector[2:]) + encode(["uint256"] * 3, [7, 100, 250])
    err = decode_revert(data)
    assert isinstance(err, InsufficientValue)
    assert isinstance(err, ContractError)
    assert (err.token_id, err.balance, err.needed) == (7, 100, 250)
    assert str(err) == "InsufficientValue(token_id=7, balance=100, needed=250)"


def test_addresses_in_errors_are_checksummed() -> None:
    raw = "0x" + "ab" * 20
    data = bytes.fromhex(NotMember.selector[2:]) + encode(["address"], [raw])
    err = decode_revert(data)
    assert isinstance(err, NotMember)
    assert err.account == Web3.to_checksum_address(raw)


def test_panics_and_unknown_selectors_are_reported_not_hidden() -> None:
    panic = decode_revert(bytes.fromhex("4e487b71") + encode(["uint256"], [0x11]))
    assert isinstance(panic, ContractPanic)
    assert panic.code == 0x11
    unknown = decode_revert(bytes.fromhex("deadbeef"))
    assert isinstance(unknown, UnknownContractError)
    assert unknown.data == "0xdeadbeef"


def test_a_refused_transaction_raises_the_contracts_error(scf: ScfClient, parties: Parties) -> None:
    assert_refused(
        scf,
        NotMember,
        lambda: scf.cash.mint(parties.operator, parties.outsider.address, 1),
        account=parties.outsider.address,
    )
    # The nonce cache recovered: the next send from the same account works.
    scf.cash.mint(parties.operator, parties.s1.address, 5)
    assert scf.cash.balance_of(parties.s1.address) == 5


def test_a_deployment_record_round_trips_and_reconnects(w3: Web3, scf: ScfClient, tmp_path: Path) -> None:
    record = record_of(w3, scf.contracts, scf.membership.address)
    path = tmp_path / "deployment.json"
    record.save(path)
    loaded = DeploymentRecord.load(path)
    assert loaded == record
    again = ScfClient(w3, load_contracts(w3, loaded))
    assert again.receivables.address == scf.receivables.address
    assert again.receivables.max_tenor() == 365 * 24 * 3600


def test_a_record_from_another_chain_is_refused(w3: Web3, scf: ScfClient) -> None:
    record = record_of(w3, scf.contracts, scf.membership.address)
    wrong = DeploymentRecord(record.chain_id + 1, record.block_number, record.operator, record.addresses)
    with pytest.raises(ValueError, match="is for chain"):
        load_contracts(w3, wrong)


def test_money_is_formatted_and_parsed_exactly() -> None:
    assert format_fen(123_456_78) == "¥123,456.78"
    assert format_fen(5) == "¥0.05"
    assert format_fen(-100) == "-¥1.00"
    assert parse_yuan("¥1,234.5") == 123_450
    assert parse_yuan("0.01") == 1
    with pytest.raises(ValueError, match="more than two decimals"):
        parse_yuan("1.234")
    with pytest.raises(ValueError, match="not an amount"):
        parse_yuan("lots")


def test_time_moves_forward_on_the_embedded_chain(scf: ScfClient) -> None:
    before = now(scf.w3)
    assert advance_time(scf.w3, 3600) >= before + 3600
    assert now(scf.w3) >= before + 3600


def test_snapshots_are_refused_on_a_node_that_is_not_the_embedded_chain() -> None:
    w3 = Web3(Web3.HTTPProvider("http://127.0.0.1:9"))  # never contacted: refused before any request
    with pytest.raises(NotADevelopmentChain):
        snapshot(w3)
