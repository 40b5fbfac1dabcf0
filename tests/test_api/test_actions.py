"""Actions through the API: every kind executes and its effect is read back from the chain; maker-checker
(duties, the maker's own approval, the threshold, rejection and expiry send nothing, two concurrent approvals
send one transaction); idempotency; a suspended member's users; recovery after a crash between sending and
recording."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

from eth_account import Account
from eth_utils.crypto import keccak

from api.actions import ACTION_TTL, Actions, RecordingSigner, State, recover
from api.seed import Party
from chain_client.devchain import advance_time, now
from chain_client.membership import Role
from chain_client.receivables import ReceivableState
from tests.test_api.conftest import Api, refusal

DAY = 86_400


class Caller:
    """A key and who it is, as tests use it."""

    def __init__(self, api: Api, key: str) -> None:
        self.api, self.key = api, key

    def headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.key}"}
        return h if idempotency_key is None else {**h, "Idempotency-Key": idempotency_key}

    def act(self, kind: str, params: dict[str, Any], key: str | None = None) -> Any:
        key = key or f"{kind}-{time.monotonic_ns()}"
        return self.api.client.post("/actions", headers=self.headers(key), json={"kind": kind, "params": params})

    def done(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        """Prepare an action that executes at once, and check it did."""
        r = self.act(kind, params)
        assert r.status_code == 201, r.text
        body = dict(r.json())
        assert body["state"] == "executed", body
        return body

    def approve(self, action_id: str) -> Any:
        return self.api.client.post(f"/actions/{action_id}/approve", headers=self.headers())

    def reject(self, action_id: str, reason: str | None = None) -> Any:
        body = None if reason is None else {"reason": reason}
        return self.api.client.post(f"/actions/{action_id}/reject", headers=self.headers(), json=body)


def admin(api: Api, party: Party) -> Caller:
    return Caller(api, party.api_key)


def user(api: Api, party: Party, duty: str) -> Caller:
    r = api.post("/users", party, json={"name": f"{duty} of {party.name}", "duty": duty})
    assert r.status_code == 201, r.text
    return Caller(api, r.json()["api_key"])


def issue_params(api: Api, supplier: Party, face_value: str = "1000.00", *, doc: str | None = None) -> dict[str, Any]:
    document = keccak(text=doc or f"invoice {time.monotonic_ns()}")
    return {
        "supplier": supplier.address,
        "face_value": face_value,
        "maturity": now(api.scf.w3) + 30 * DAY,
        "document_hash": "0x" + document.hex(),
    }


def nonce(api: Api, party: Party) -> int:
    return int(api.scf.w3.eth.get_transaction_count(party.account.address))


# ---------------------------------------------------------------------------------------------- every kind


def test_operator_kinds_execute_and_read_back(api: Api) -> None:
    op, scf = admin(api, api.demo.operator), api.scf
    newcomer = Account.create().address
    op.done("admit", {"account": newcomer, "role": "supplier"})
    assert scf.membership.role_of(newcomer) is Role.SUPPLIER
    op.done("suspend", {"account": newcomer})
    assert not scf.membership.is_active(newcomer)
    op.done("reinstate", {"account": newcomer})
    assert scf.membership.is_active(newcomer)
    core = api.demo.core
    op.done("set_credit_line", {"debtor": core.address, "limit": "123456.78"})
    assert scf.receivables.credit_line(core.address)[0] == 123_456_78
    token = str(scf.receivables.fragments_of(api.demo.slots[0])[0].token_id)
    frozen = op.done("freeze", {"token_id": token, "reason": "court order 2026-118"})
    assert scf.receivables.is_frozen(int(token))
    assert frozen["params"]["token_id"] == token  # ids are strings
    op.done("unfreeze", {"token_id": token, "reason": "order lifted"})
    assert not scf.receivables.is_frozen(int(token))
    op.done("set_max_tenor", {"seconds": 200 * DAY})
    assert scf.receivables.max_tenor() == 200 * DAY
    op.done("set_grace_period", {"seconds": 3 * DAY})
    assert scf.receivables.grace_period() == 3 * DAY


def test_core_and_supplier_kinds_execute_and_read_back(api: Api) -> None:
    scf, rt = api.scf, api.scf.receivables
    core, (t1, t2a, t2b, t3) = api.demo.core, api.demo.suppliers[:4]
    c, s1, s2a, s2b = admin(api, core), admin(api, t1), admin(api, t2a), admin(api, t2b)

    cancelled = c.done("issue", issue_params(api, t1))["result"]
    c.done("cancel", {"slot": cancelled["slot"]})
    assert rt.receivable(int(cancelled["slot"])).state is ReceivableState.CANCELLED

    rejected = c.done("issue", issue_params(api, t1))["result"]
    s1.done("reject", {"token_id": rejected["token_id"]})
    assert rt.receivable(int(rejected["slot"])).state is ReceivableState.REJECTED

    issued = c.done("issue", issue_params(api, t1, "900.00"))
    assert issued["amount"] == "900.00"
    slot, token = int(issued["result"]["slot"]), int(issued["result"]["token_id"])
    assert (rt.receivable(slot).face_value, rt.owner_of(token)) == (900_00, t1.address)
    s1.done("accept", {"token_id": str(token)})
    assert rt.receivable(slot).state is ReceivableState.ACTIVE

    payments = [
        {"to": t2a.address, "value": "300.00"},
        {"to": t2b.address, "value": "100.00"},
        {"to": t2b.address, "value": "50.00"},
    ]
    paid = s1.done("pay_suppliers", {"token_id": str(token), "payments": payments, "memo": "0x" + "cd" * 32})
    to_a, to_b1, to_b2 = (int(t) for t in paid["result"]["new_token_ids"])
    assert all(isinstance(t, str) for t in paid["result"]["new_token_ids"])
    assert (rt.balance_of(token), rt.balance_of(to_a), rt.balance_of(to_b2)) == (450_00, 300_00, 50_00)

    s2a.done("transfer", {"token_id": str(to_a), "to": t3.address})
    assert rt.owner_of(to_a) == t3.address
    s2b.done("merge", {"from_token_id": str(to_b2), "to_token_id": str(to_b1), "value": "50.00"})
    assert (rt.balance_of(to_b1), rt.balance_of(to_b2)) == (150_00, 0)

    scf.cash.mint(api.demo.operator.account, core.address, 900_00)
    repaid = c.done("repay", {"slot": str(slot), "amount": "900.00"})
    assert repaid["amount"] == "900.00"
    assert rt.receivable(slot).repaid == 900_00
    advance_time(scf.w3, 31 * DAY)
    before = scf.cash.balance_of(t2b.address)
    redeemed = s2b.done("redeem", {"token_id": str(to_b1)})
    assert redeemed["result"]["paid"] == "150.00"
    assert scf.cash.balance_of(t2b.address) == before + 150_00


def test_mint_credits_cash_and_waits_for_the_operators_checker(api: Api) -> None:
    operator, scf = api.demo.operator, api.scf
    to = api.demo.suppliers[3].address
    before = scf.cash.balance_of(to)
    minted = admin(api, operator).done("mint", {"to": to, "amount": "1234.56"})
    assert minted["amount"] == "1234.56"
    assert scf.cash.balance_of(to) == before + 1234_56
    maker, checker = user(api, operator, "maker"), user(api, operator, "checker")
    prepared = maker.act("mint", {"to": to, "amount": "1.00"}).json()
    assert (prepared["state"], prepared["needs_approval"]) == ("prepared", True)  # it moves value: it waits
    assert scf.cash.balance_of(to) == before + 1234_56
    assert checker.approve(prepared["id"]).json()["state"] == "executed"
    assert scf.cash.balance_of(to) == before + 1235_56
    r = admin(api, api.bank).act("mint", {"to": api.bank.address, "amount": "1.00"})
    wrong = {"role": "financier", "allowed": ["operator"], "kind": "mint"}
    assert refusal(r) == {"error": "WrongRole", "fields": wrong}


def test_set_exposure_limit_sets_the_banks_limit_per_debtor(api: Api) -> None:
    bank, core, desk = api.bank, api.demo.core, api.scf.financing
    done = admin(api, bank).done("set_exposure_limit", {"debtor": core.address, "limit": "7654321.00"})
    assert done["amount"] == "7654321.00"  # what it commits the bank to, for the threshold
    assert desk.exposure(bank.address, core.address)[0] == 7_654_321_00
    r = admin(api, core).act("set_exposure_limit", {"debtor": core.address, "limit": "1.00"})
    assert refusal(r)["error"] == "WrongRole"


def test_set_approval_for_all_approves_only_the_desk(api: Api) -> None:
    supplier, scf = api.demo.suppliers[0], api.scf
    rt = scf.contracts["ReceivableToken"].functions
    approved = admin(api, supplier).done("set_approval_for_all", {"approved": False})
    assert approved["amount"] is None
    assert not rt.isApprovedForAll(supplier.address, scf.financing.address).call()
    admin(api, supplier).done("set_approval_for_all", {"approved": True})
    assert rt.isApprovedForAll(supplier.address, scf.financing.address).call()
    r = admin(api, supplier).act("set_approval_for_all", {"approved": True, "operator": supplier.address})
    assert r.status_code == 422  # no other operator than the desk


def test_a_kind_outside_the_members_role_is_refused(api: Api) -> None:
    r = admin(api, api.demo.suppliers[0]).act("issue", issue_params(api, api.demo.suppliers[1]))
    assert refusal(r) == {
        "error": "WrongRole",
        "fields": {"role": "supplier", "allowed": ["core_enterprise"], "kind": "issue"},
    }


def test_a_contract_refusal_is_the_failed_actions_named_error(api: Api) -> None:
    core = api.demo.core
    params = issue_params(api, api.demo.suppliers[0])
    params["maturity"] = now(api.scf.w3) - 1  # in the past
    r = admin(api, core).act("issue", params)
    assert r.status_code == 201
    body = r.json()
    assert body["state"] == "failed"
    assert body["error"]["error"] == "MaturityNotInFuture"
    assert body["tx_hash"] is None or api.scf.w3.eth.get_transaction_receipt(body["tx_hash"])["status"] == 0


# ---------------------------------------------------------------------------------------------- maker-checker


def test_maker_prepares_another_checker_approves(api: Api) -> None:
    core, t1 = api.demo.core, api.demo.suppliers[0]
    maker, checker, viewer = user(api, core, "maker"), user(api, core, "checker"), user(api, core, "viewer")
    r = viewer.act("issue", issue_params(api, t1))
    assert refusal(r) == {
        "error": "DutyNotAllowed",
        "fields": {"duty": "viewer", "allowed": ["admin", "maker", "checker"]},
    }
    start = nonce(api, core)
    prepared = maker.act("issue", issue_params(api, t1))
    assert prepared.status_code == 201
    action = prepared.json()
    assert (action["state"], action["needs_approval"], action["tx_hash"]) == ("prepared", True, None)
    assert nonce(api, core) == start  # nothing sent yet
    r = maker.approve(action["id"])
    assert refusal(r)["error"] == "DutyNotAllowed"
    # A checker who prepared an action may not approve it either.
    own = checker.act("issue", issue_params(api, t1)).json()
    r = checker.approve(own["id"])
    assert refusal(r) == {"error": "MakerCannotApprove", "fields": {"id": own["id"], "user": own["maker"]}}
    r = checker.approve(action["id"])
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["state"] == "executed"
    assert done["checker"] != done["maker"]
    assert rt_face(api, done["result"]["slot"]) == 1000_00
    assert nonce(api, core) == start + 1
    # The operator reads the action but never decides it.
    assert api.get(f"/actions/{action['id']}", api.demo.operator).status_code == 200
    assert api.get(f"/actions/{action['id']}", t1).status_code == 404
    listed = api.get("/actions", core, params={"state": "prepared"}).json()
    assert [a["id"] for a in listed["data"]] == [own["id"]]


def rt_face(api: Api, slot: str) -> int:
    return api.scf.receivables.receivable(int(slot)).face_value


def test_below_the_threshold_the_makers_preparation_executes(api: Api) -> None:
    core, t1 = api.demo.core, api.demo.suppliers[0]
    maker = user(api, core, "maker")
    user(api, core, "checker")
    r = api.client.put("/approval-policy", headers=maker.headers(), json={"single_user_below": "1.00"})
    assert refusal(r)["error"] == "DutyNotAllowed"
    r = api.client.put("/approval-policy", headers=admin(api, core).headers(), json={"single_user_below": "5000.00"})
    assert r.json() == {"member": core.address, "single_user_below": "5000.00", "checkers": True}
    assert maker.act("issue", issue_params(api, t1, "4999.99")).json()["state"] == "executed"
    assert maker.act("issue", issue_params(api, t1, "5000.00")).json()["state"] == "prepared"


def test_rejected_and_expired_actions_send_nothing(api: Api) -> None:
    core, t1 = api.demo.core, api.demo.suppliers[0]
    maker, checker = user(api, core, "maker"), user(api, core, "checker")
    start = nonce(api, core)
    first = maker.act("issue", issue_params(api, t1)).json()
    second = maker.act("issue", issue_params(api, t1)).json()
    r = checker.reject(first["id"], "invoice amount differs")
    assert (r.status_code, r.json()["state"]) == (200, "rejected")
    r = checker.approve(first["id"])
    assert refusal(r) == {"error": "ActionNotPrepared", "fields": {"id": first["id"], "state": "rejected"}}
    api.context.actions.clock = lambda: time.time() + ACTION_TTL + 1
    assert api.get(f"/actions/{second['id']}", core).json()["state"] == "expired"
    r = checker.approve(second["id"])
    assert (r.status_code, refusal(r)["error"]) == (409, "ActionExpired")
    assert nonce(api, core) == start


def test_concurrent_approvals_send_one_transaction(api: Api) -> None:
    core, t1 = api.demo.core, api.demo.suppliers[0]
    maker, checkers = user(api, core, "maker"), [user(api, core, "checker") for _ in range(3)]
    action = maker.act("issue", issue_params(api, t1)).json()
    start = nonce(api, core)
    barrier = threading.Barrier(len(checkers))
    answers: list[Any] = [None] * len(checkers)

    def approve(i: int) -> None:
        barrier.wait()
        answers[i] = checkers[i].approve(action["id"])

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(len(checkers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409]
    assert {a.json()["error"] for a in answers if a.status_code == 409} == {"ActionNotPrepared"}
    assert nonce(api, core) == start + 1
    assert api.get(f"/actions/{action['id']}", core).json()["state"] == "executed"


def test_the_same_idempotency_key_prepares_once(api: Api) -> None:
    core, t1 = api.demo.core, api.demo.suppliers[0]
    c = admin(api, core)
    params = issue_params(api, t1)
    start = nonce(api, core)
    first = c.act("issue", params, key="prep-1")
    again = c.act("issue", params, key="prep-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert nonce(api, core) == start + 1
    r = c.act("issue", {**params, "face_value": "2.00"}, key="prep-1")
    assert refusal(r)["error"] == "IdempotencyKeyReused"


def test_a_suspended_members_users_may_not_prepare_nor_approve(api: Api) -> None:
    core, t1 = api.demo.core, api.demo.suppliers[0]
    maker, checker = user(api, core, "maker"), user(api, core, "checker")
    action = maker.act("issue", issue_params(api, t1)).json()
    api.scf.membership.suspend(api.demo.operator.account, core.address)
    for r in (maker.act("issue", issue_params(api, t1)), checker.approve(action["id"])):
        assert r.status_code == 403
        assert refusal(r)["error"] == "MemberSuspended"


# ---------------------------------------------------------------------------------------------- recovery


def test_an_action_left_executing_by_a_dead_process_is_settled_at_start_up(api: Api) -> None:
    core, t1 = api.demo.core, api.demo.suppliers[0]
    maker, checker = user(api, core, "maker"), user(api, core, "checker")
    sent = maker.act("issue", issue_params(api, t1)).json()
    unsent = maker.act("issue", issue_params(api, t1)).json()
    # A process that no longer exists claimed both, sent the first's transaction, and died before recording.
    dead = Actions(api.context.store.path, owner="4194999:gone")
    approver = api.context.users.identify(checker.key)
    assert approver is not None
    claimed = dead.claim(dead.get(sent["id"]), approver)  # type: ignore[arg-type]
    signer = RecordingSigner(api.demo.core.account, lambda h: dead.record_tx(claimed.id, h))
    params = claimed.params
    done = api.scf.receivables.issue(
        signer, params["supplier"], 1000_00, params["maturity"], bytes.fromhex(params["document_hash"][2:])
    )
    dead.claim(dead.get(unsent["id"]), approver)  # type: ignore[arg-type]
    assert api.context.actions.get(sent["id"]).state is State.EXECUTING  # type: ignore[union-attr]
    assert recover(api.context) == 2  # as at start-up (a read of the actions would settle them too)
    assert recover(api.context) == 0
    after = api.get(f"/actions/{sent['id']}", core).json()
    assert (after["state"], after["tx_hash"]) == ("executed", done.tx_hash)
    failed = api.get(f"/actions/{unsent['id']}", core).json()
    assert (failed["state"], failed["error"]["error"]) == ("failed", "NotSent")


def test_a_stranded_action_of_a_live_process_is_settled_when_read(api: Api) -> None:
    core, t1 = api.demo.core, api.demo.suppliers[0]
    maker, checker = user(api, core, "maker"), user(api, core, "checker")
    stuck = maker.act("issue", issue_params(api, t1)).json()
    approver = api.context.users.identify(checker.key)
    assert approver is not None
    # This process claimed it and signed its transaction; the node went away before the receipt was read.
    api.context.actions.claim(api.context.actions.get(stuck["id"]), approver)  # type: ignore[arg-type]
    signer = RecordingSigner(api.demo.core.account, lambda h: api.context.actions.record_tx(stuck["id"], h))
    params = stuck["params"]
    done = api.scf.receivables.issue(
        signer, params["supplier"], 1000_00, params["maturity"], bytes.fromhex(params["document_hash"][2:])
    )
    assert api.get(f"/actions/{stuck['id']}", core).json()["state"] == "executing"  # young: maybe still running
    with api.context.actions.write() as conn:
        conn.execute("UPDATE actions SET decided_at = decided_at - 301 WHERE id = ?", (stuck["id"],))
    after = api.get(f"/actions/{stuck['id']}", core).json()
    assert (after["state"], after["tx_hash"]) == ("executed", done.tx_hash)


# ---------------------------------------------------------------------------------------------- documents


def test_issue_and_pay_with_uploaded_documents_link_them(api: Api) -> None:
    core, t1, t2a = api.demo.core, api.demo.suppliers[0], api.demo.suppliers[1]
    c, s1 = admin(api, core), admin(api, t1)
    invoice = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n" + str(time.monotonic_ns()).encode()
    uploaded = api.post(
        "/documents", core, files={"file": ("inv.pdf", invoice, "application/pdf")}, data={"kind": "invoice"}
    )
    assert uploaded.status_code == 201, uploaded.text
    sha = hashlib.sha256(invoice).hexdigest()
    params = {**issue_params(api, t1), "document_hash": None, "documents": [sha]}
    issued = c.done("issue", params)["result"]
    linked = api.get(f"/receivables/{issued['slot']}/documents", core).json()
    assert linked["matches"] is True
    assert [d["sha256"] for d in linked["documents"]] == [sha]
    s1.done("accept", {"token_id": issued["token_id"]})
    po = b"%PDF-1.7\n% purchase order\n%%EOF\n" + str(time.monotonic_ns()).encode()
    api.post("/documents", t1, files={"file": ("po.pdf", po, "application/pdf")}, data={"kind": "contract"})
    pay = {
        "token_id": issued["token_id"],
        "payments": [{"to": t2a.address, "value": "1.00"}],
        "documents": [hashlib.sha256(po).hexdigest()],
    }
    s1.done("pay_suppliers", pay)
    # Neither a hash nor documents, both, or a document never uploaded: refused, nothing prepared.
    neither = {**issue_params(api, t1), "document_hash": None}
    assert refusal(c.act("issue", neither))["error"] == "ValidationError"
    both = {**issue_params(api, t1), "documents": [sha]}
    assert refusal(c.act("issue", both))["error"] == "ValidationError"
    unknown = {**issue_params(api, t1), "document_hash": None, "documents": ["0" * 64]}
    assert refusal(c.act("issue", unknown))["error"] == "UnknownDocument"


def test_settings_beyond_the_contract_s_uint32_seconds_are_a_validation_error_not_a_crash(api: Api) -> None:
    op = admin(api, api.demo.operator)
    for kind in ("set_max_tenor", "set_grace_period"):
        r = op.act(kind, {"seconds": 2**32})
        assert r.status_code == 422, (kind, r.text)
        assert refusal(r)["error"] == "ValidationError"
    # The largest uint32 reaches the contract, which refuses it by its own rule, by name, with its values.
    failed = op.act("set_grace_period", {"seconds": 2**32 - 1}).json()
    assert failed["state"] == "failed"
    assert failed["error"]["error"] == "GracePeriodOutOfRange"
