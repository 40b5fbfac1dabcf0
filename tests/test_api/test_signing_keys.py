"""Where a member's chain key lives: an encrypted keystore the server unlocks at start, or the member's own
signer, whose signed transactions POST /transactions relays after checking sender and target."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from api.keystore import KeystoreError, unlock
from api.seed import Party
from api.serve import main as serve
from api.settings import read_members
from tests.test_api.conftest import Api, refusal

PASS = "correct horse battery staple"


def keystore(folder: Path, account: LocalAccount, passphrase: str = PASS) -> Path:
    # pbkdf2 with few iterations: the format is the point here, not the work factor.
    path = folder / "member.keystore.json"
    path.write_text(json.dumps(Account.encrypt(account.key, passphrase, kdf="pbkdf2", iterations=16)))
    return path


def keys_file(folder: Path, row: dict[str, Any]) -> Path:
    path = folder / "keys.json"
    member = {"name": "Bank of Hankou", "role": "financier", "api_key": "k" * 24, **row}
    path.write_text(json.dumps({"members": [member]}))
    return path


def test_a_keystore_is_unlocked_from_a_passphrase_file_or_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = Account.create()
    store = keystore(tmp_path, account)
    secret = tmp_path / "pass"
    secret.write_text(PASS + "\n")
    (member,) = read_members(keys_file(tmp_path, {"keystore": str(store), "passphrase_file": str(secret)}))
    assert member.private_key is not None
    assert Account.from_key(member.private_key.get_secret_value()).address == account.address
    monkeypatch.setenv("BANK_KEYSTORE_PASS", PASS)
    (member,) = read_members(keys_file(tmp_path, {"keystore": str(store), "passphrase_env": "BANK_KEYSTORE_PASS"}))
    assert member.private_key is not None
    assert unlock("bank", store, passphrase_env="BANK_KEYSTORE_PASS") == "0x" + bytes(account.key).hex()
    with pytest.raises(KeystoreError, match="is not set"):
        unlock("bank", store, passphrase_env="NO_SUCH_VARIABLE_HERE")
    with pytest.raises(KeystoreError, match="exactly one"):
        unlock("bank", store)


def test_a_wrong_passphrase_stops_start_up_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = keystore(tmp_path, Account.create())
    secret = tmp_path / "pass"
    secret.write_text("not the passphrase")
    keys = keys_file(tmp_path, {"keystore": str(store), "passphrase_file": str(secret)})
    deployment = tmp_path / "deployment.json"
    deployment.write_text("{}")
    code = serve(["--rpc", "http://127.0.0.1:9", "--deployment", str(deployment), "--keys-file", str(keys)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [f"scf serve: error: member 'Bank of Hankou': wrong passphrase for keystore {store}"]
    assert "not the passphrase" not in err


# ---------------------------------------------------------------------------------------------- relaying


def signed_split(api: Api, signer: Party, token_id: int, to: str, value: int, *, nonce: int | None = None) -> str:
    """A transaction `signer` signs itself: split `value` of `token_id` off to `to` (ERC-3525 transferFrom)."""
    scf = api.scf
    fn = scf.receivables.contract.functions.transferFrom(token_id, to, value)
    tx = {
        "to": scf.receivables.address,
        "data": fn._encode_transaction_data(),
        "value": 0,
        "gas": 400_000,
        "chainId": scf.w3.eth.chain_id,
        "nonce": scf.w3.eth.get_transaction_count(signer.account.address) if nonce is None else nonce,
        "maxFeePerGas": scf.tx.max_fee,
        "maxPriorityFeePerGas": scf.tx.tip,
    }
    return "0x" + bytes(signer.account.sign_transaction(tx).raw_transaction).hex()


def tier1_fragment(api: Api) -> int:
    t1 = api.demo.suppliers[0]
    return next(f.token_id for f in api.scf.receivables.fragments_of(api.demo.slots[1]) if f.owner == t1.address)


def test_a_member_signs_itself_and_the_api_relays_it(api: Api) -> None:
    t1, t2a = api.demo.suppliers[0], api.demo.suppliers[1]
    token = tier1_fragment(api)
    before = api.scf.receivables.balance_of(token)
    r = api.post("/transactions", t1, json={"raw": signed_split(api, t1, token, t2a.address, 1_000_00)})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["sender"], body["contract"]) == (t1.address, "receivables")
    assert api.scf.receivables.balance_of(token) == before - 1_000_00
    receipt = api.scf.w3.eth.get_transaction_receipt(body["tx_hash"])
    assert receipt["status"] == 1


def test_the_relay_refuses_another_sender_another_target_and_garbage(api: Api) -> None:
    t1, t2a = api.demo.suppliers[0], api.demo.suppliers[1]
    token = tier1_fragment(api)
    nonce = api.scf.w3.eth.get_transaction_count(t1.account.address)
    # Signed by t1, relayed by t2a's key.
    r = api.post("/transactions", t2a, json={"raw": signed_split(api, t1, token, t2a.address, 1_00)})
    assert refusal(r) == {"error": "SenderNotMember", "fields": {"sender": t1.address, "member": t2a.address}}
    # A plain payment to an account outside the platform's contracts.
    payment: dict[str, Any] = {"to": t2a.address, "value": 1, "gas": 21_000, "gasPrice": 10**9, "nonce": nonce}
    elsewhere = t1.account.sign_transaction({**payment, "chainId": api.scf.w3.eth.chain_id})
    r = api.post("/transactions", t1, json={"raw": "0x" + bytes(elsewhere.raw_transaction).hex()})
    assert (r.status_code, r.json()["error"]) == (403, "TargetNotPlatform")
    r = api.post("/transactions", t1, json={"raw": "0x02deadbeef"})
    assert (r.status_code, r.json()["error"]) == (403, "UnverifiableTransaction")
    # More than the fragment holds: the contract's named error, and nothing sent.
    too_much = api.scf.receivables.balance_of(token) + 1
    r = api.post("/transactions", t1, json={"raw": signed_split(api, t1, token, t2a.address, too_much)})
    assert r.status_code == 409
    assert r.json()["error"] == "InsufficientValue"
    assert api.scf.w3.eth.get_transaction_count(t1.account.address) == nonce
