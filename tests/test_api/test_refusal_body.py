"""A contract refusal's body: the machine code (the Solidity error's name), the human message (the first
sentence of the error's NatSpec, as the contract's source says it) and the error's fields."""

from __future__ import annotations

from chain_client.ids import token_id_of
from tests.test_api.conftest import Api, refusal


def test_a_refusal_carries_the_code_the_natspec_message_and_the_fields(api: Api) -> None:
    missing = token_id_of(api.demo.slots[0], 999)
    r = api.get(f"/fragments/{missing}", api.bank)
    assert r.status_code == 404
    assert refusal(r) == {
        "error": "NonexistentToken",
        # contracts/interfaces/IReceivableToken.sol: /// @notice No live fragment has id `tokenId` (...).
        "message": "No live fragment has id `tokenId` (never created, or burned).",
        "fields": {"token_id": str(missing)},
    }


def test_a_refusal_by_the_api_itself_has_no_natspec_message(api: Api) -> None:
    r = api.get("/financing-requests/424242", api.bank)
    assert r.status_code == 404
    assert r.json()["error"] == "UnknownFinancingRequest"
    assert "message" not in r.json()
