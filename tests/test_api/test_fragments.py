"""GET /fragments/{token_id}: a fragment with its path back to the confirmation and the documents behind it."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak

from chain_client.contract_errors import NonexistentToken
from chain_client.receivables import token_id_of
from tests.test_api.conftest import Api, refusal


def test_a_tier_three_fragment_is_traced_to_the_confirmed_receivable(api: Api) -> None:
    tier3 = api.submitted[0]  # Qingshan Fasteners' whole fragment
    r = api.get(f"/fragments/{tier3.token_id}", api.bank)
    assert r.status_code == 200
    body = r.json()
    assert (body["owner"], body["tier"], body["value"]) == (tier3.holder, 3, "120000.00")
    path = body["path"]
    assert [hop["tier"] for hop in path] == [3, 2, 1]
    assert path[-1]["token_id"] == str(token_id_of(tier3.slot, 1))
    assert [hop["holder"] for hop in path[1:]] == [
        api.party("Hanyang Castings").address,
        api.party("Jiangcheng Steel").address,
    ]
    assert path[-1]["from_holder"] == api.demo.core.address  # the debtor issued the first fragment
    documents = body["documents"]
    assert [d["kind"] for d in documents] == ["receivable", "payment", "payment"]
    assert documents[0]["hash"] == body["receivable"]["document_hash"]
    assert documents[2]["hash"] == "0x" + keccak(text="PO HY-117").hex()
    assert body["claimable"] == "0.00"


@pytest.mark.parametrize("token_id", [5, 2**40])
def test_an_unknown_fragment_is_404(api: Api, token_id: int) -> None:
    r = api.get(f"/fragments/{token_id}", api.bank)
    assert r.status_code == 404
    assert refusal(r) == {
        "error": "NonexistentToken",
        "message": NonexistentToken.notice(),
        "fields": {"token_id": str(token_id)},
    }


def test_a_fragment_id_of_a_known_receivable_that_was_never_minted_is_404(api: Api) -> None:
    token_id = token_id_of(api.demo.slots[0], 999)
    assert api.get(f"/fragments/{token_id}", api.bank).status_code == 404


@pytest.mark.parametrize("token_id", [0, -1, 2**256, "x"])
def test_an_impossible_fragment_id_is_422(api: Api, token_id: object) -> None:
    assert api.get(f"/fragments/{token_id}", api.bank).status_code == 422
