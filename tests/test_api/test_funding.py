"""POST /financing-requests/{id}/fund: at most once, idempotent by key, and exactly one of many concurrent
funders wins."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from api.fields import yuan_text
from api.funding import fingerprint, recover
from api.main import create_app
from api.schemas import FundCreate
from api.store import KeyState
from chain_client.contract_errors import ExposureLimitExceeded
from chain_client.devchain import advance_time
from tests.test_api.conftest import DAY, Api, refusal


def test_funding_pays_the_holder_and_hands_the_value_to_the_bank(api: Api) -> None:
    request = api.open_request()
    holder = api.party("Qingshan Fasteners")
    before = api.cash(holder), api.cash(api.bank)
    r = api.fund(request.id, api.bank, "fund-1")
    assert r.status_code == 200, r.text
    assert r.headers["Idempotent-Replayed"] == "false"
    funded = r.json()
    assert funded["status"] == "funded"
    assert funded["funding"]["financier"] == api.bank.address
    assert api.cash(holder) == before[0] + request.price
    assert api.cash(api.bank) == before[1] - request.price
    assert api.scf.receivables.owner_of(int(funded["funding"]["financed_token_id"])) == api.bank.address
    assert api.get(f"/financing-requests/{request.id}", api.bank).json()["status"] == "funded"


def test_a_replay_returns_the_stored_response_and_sends_no_second_transaction(api: Api) -> None:
    request = api.open_request()
    first = api.fund(request.id, api.bank, "fund-2", {"price": "118600.00"})
    assert first.status_code == 200, first.text
    block, cash = api.scf.w3.eth.block_number, api.cash(api.bank)
    again = api.fund(request.id, api.bank, "fund-2", {"price": "118600.00"})
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert api.scf.w3.eth.block_number == block  # nothing was sent
    assert api.cash(api.bank) == cash  # the bank paid once


def test_the_same_key_with_another_body_or_request_is_409(api: Api) -> None:
    first, other = api.submitted[0], api.submitted[1]
    assert api.fund(first.id, api.bank, "fund-3").status_code == 200
    for r in (api.fund(first.id, api.bank, "fund-3", {"price": "1.00"}), api.fund(other.id, api.bank, "fund-3")):
        assert r.status_code == 409
        assert r.json()["error"] == "IdempotencyKeyReused"
    # Keys belong to the member: another bank may use the same text for its own call.
    assert api.fund(other.id, api.bank2, "fund-3").status_code == 200


def test_the_idempotency_key_is_required(api: Api) -> None:
    request = api.open_request()
    r = api.post(f"/financing-requests/{request.id}/fund", api.bank)
    assert r.status_code == 422
    assert "header.Idempotency-Key" in r.json()["fields"]
    assert api.fund(request.id, api.bank, "has a space").status_code == 422
    assert api.fund(request.id, api.bank, "k" * 256).status_code == 422


def test_twenty_concurrent_fundings_of_one_request_fund_it_exactly_once(api: Api) -> None:
    request = api.open_request()
    holder = api.party("Qingshan Fasteners")
    banks = [api.bank, api.bank2]
    cash_before = {p.address: api.cash(p) for p in (holder, *banks)}
    start = threading.Barrier(20)
    results: list[Any] = [None] * 20

    def attempt(i: int) -> None:
        start.wait()
        results[i] = api.fund(request.id, banks[i % 2], f"race-{i}")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = Counter(r.status_code for r in results)
    assert codes == {200: 1, 409: 19}, codes
    assert {r.json()["error"] for r in results if r.status_code == 409} == {"RequestNotOpen"}
    winner = next(r for r in results if r.status_code == 200).json()["funding"]["financier"]
    loser = next(b.address for b in banks if b.address != winner)
    assert api.cash(holder) == cash_before[holder.address] + request.price
    assert api.scf.cash.balance_of(winner) == cash_before[winner] - request.price
    assert api.scf.cash.balance_of(loser) == cash_before[loser]
    assert api.scf.receivables.owner_of(request.token_id) == winner
    portfolios = [api.get("/portfolio", b).json()["count"] for b in banks]
    assert sorted(portfolios) == [0, 1]


def test_a_request_for_another_bank_does_not_exist_for_it_and_stays_open(api: Api) -> None:
    request = next(r for r in api.submitted if r.financier == api.bank2.address)
    r = api.fund(request.id, api.bank, "fund-4")
    # The same answer as for an id never issued (api.policy): nothing says a request for another bank exists.
    assert (r.status_code, refusal(r)) == (404, {"error": "UnknownFinancingRequest", "fields": {"id": request.id}})
    assert api.get(f"/financing-requests/{request.id}", api.bank2).json()["status"] == "open"
    assert api.get(f"/financing-requests/{request.id}", api.bank).status_code == 404
    assert api.fund(request.id, api.bank2, "fund-4").status_code == 200


def test_a_price_other_than_the_lender_expects_is_refused(api: Api) -> None:
    request = api.open_request()
    r = api.fund(request.id, api.bank, "fund-5", {"price": "1.00"})
    assert r.status_code == 409
    expected = {"expected": "1.00", "requested": yuan_text(request.price)}  # yuan strings, like every amount
    assert refusal(r) == {"error": "PriceMismatch", "fields": expected}
    assert api.get(f"/financing-requests/{request.id}", api.bank).json()["status"] == "open"


def test_a_refusal_by_the_chain_is_replayed_and_leaves_the_request_open(api: Api) -> None:
    request = api.open_request()
    api.scf.financing.set_exposure_limit(api.bank.account, api.demo.core.address, 1_00)
    refused = api.fund(request.id, api.bank, "fund-6")
    assert refused.status_code == 409
    assert refusal(refused) == {
        "error": "ExposureLimitExceeded",
        "message": ExposureLimitExceeded.notice(),
        "fields": {
            "financier": api.bank.address,
            "debtor": api.demo.core.address,
            "limit": 1_00,
            "used": 0,
            "value": request.value,
        },
    }
    again = api.fund(request.id, api.bank, "fund-6")
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (409, "true")
    assert api.get(f"/financing-requests/{request.id}", api.bank).json()["status"] == "open"
    api.scf.financing.set_exposure_limit(api.bank.account, api.demo.core.address, 10**12)
    assert api.fund(request.id, api.bank, "fund-7").status_code == 200


def test_a_short_desk_allowance_is_topped_up_to_the_price(api: Api) -> None:
    request = api.open_request()
    api.scf.cash.approve(api.bank.account, api.scf.financing.address, 0)
    assert api.fund(request.id, api.bank, "fund-8").status_code == 200
    assert api.scf.cash.allowance(api.bank.address, api.scf.financing.address) == 0


def test_unknown_expired_and_cancelled_requests_are_not_funded(api: Api) -> None:
    assert refusal(api.fund(999, api.bank, "fund-9")) == {"error": "UnknownFinancingRequest", "fields": {"id": 999}}
    first = api.submitted[0]
    api.scf.financing.cancel(api.party("Qingshan Fasteners").account, first.nonce)
    r = api.fund(first.id, api.bank, "fund-10")
    assert refusal(r) == {"error": "RequestNotOpen", "fields": {"id": first.id, "status": "cancelled"}}
    advance_time(api.scf.w3, 15 * DAY)
    r = api.fund(api.submitted[1].id, api.bank, "fund-11")
    assert refusal(r) == {"error": "RequestNotOpen", "fields": {"id": api.submitted[1].id, "status": "expired"}}


def test_a_claim_left_by_a_dead_process_is_reopened_at_start_up(api: Api) -> None:
    request = api.open_request()
    store = api.context.store
    body = FundCreate()
    started = store.begin_funding(api.bank.address, "crashed", fingerprint(request.id, body), request.id)
    assert started.claimed is not None  # ... and the process died before it sent anything
    create_app(api.context)  # another process starting on the same store: the claim may still be running
    assert api.get(f"/financing-requests/{request.id}", api.bank).json()["status"] == "funding"
    recover(api.context, older_than=0)  # what happens once the claim is older than any transaction takes
    assert api.get(f"/financing-requests/{request.id}", api.bank).json()["status"] == "open"
    retried = store.begin_funding(api.bank.address, "crashed", fingerprint(request.id, body), request.id)
    assert retried.key is KeyState.NEW


def test_a_claim_whose_transaction_was_mined_before_the_process_died_is_recorded_as_funded(api: Api) -> None:
    request = api.open_request()
    started = api.context.store.begin_funding(api.bank.address, "k", fingerprint(request.id, FundCreate()), request.id)
    assert started.claimed is not None
    done = api.scf.financing.finance(api.bank.account, started.claimed.request, started.claimed.signature)
    recover(api.context, older_than=0)
    funded = api.get(f"/financing-requests/{request.id}", api.bank).json()
    assert funded["status"] == "funded"
    assert funded["funding"]["tx_hash"] == done.tx_hash
