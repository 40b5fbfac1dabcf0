"""Who sees what (api.policy), walked as a matrix: every read endpoint × every role (operator, core enterprise,
tier-1 supplier, tier-2 supplier, financier, auditor) × objects that are the caller's own or someone else's,
against a table of expected answers. What a caller may not see is 404 with the same error as an id that never
existed, never 403.

The tree, built with the client on top of the demo chain:

    R  (core → tier 1, with a contract and an invoice)          Rx (another debtor's receivable → Wuchang)
    └─ F1 tier 1 ── F2  tier 2 (Hanyang; delivery note A) ── F3 tier 3 (Qingshan)
                └── F2b tier 2 (Wuchang; delivery note B)       └─ Fx

    Q2: Hanyang offers part of F2 to the bank; Q3: Qingshan offers F3 to the market; Qb: Wuchang offers F2b
    to the other bank only.

So tier 1's own is F1, and it paid with F2 and F2b; tier 2's own is F2 (its path F1, and it paid with F3), not
its sibling F2b; the bank is offered F3 (path F3 → F2 → F1) and F2, not F2b; the core owes all of R, not Rx.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pytest

from api.documents import combined_hash
from api.seed import Party
from chain_client.chain import new_account
from chain_client.devchain import now
from chain_client.membership import Role
from tests.test_api.conftest import DAY, Api

ROLES = ("operator", "core", "tier1", "tier2", "financier", "auditor")
ALL = frozenset(ROLES)
SEES_ALL = frozenset({"operator", "auditor"})

CONTRACT = b"%PDF-1.7\n% purchase contract HZ-2026-1201\n%%EOF\n"
INVOICE = b'<?xml version="1.0"?><Invoice><No>2026-1201</No></Invoice>'
NOTE_A = b"\x89PNG\r\n\x1a\n" + b"delivery note A"
NOTE_B = b"\xff\xd8\xff\xe0" + b"delivery note B"
OTHER = b"%PDF-1.4\n% another debtor's contract\n%%EOF\n"


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass
class Tree:
    parties: dict[str, Party]
    slot: int
    other_slot: int
    f1: int
    f2: int
    f2b: int
    f3: int
    fx: int
    q2: int
    q3: int
    qb: int


def upload(api: Api, who: Party, content: bytes, kind: str) -> None:
    r = api.post("/documents", who, files={"file": ("doc", content)}, data={"kind": kind})
    assert r.status_code in (200, 201), r.text


def offer(api: Api, holder: Party, token_id: int, value: int, *, nonce: int, financier: str | None = None) -> int:
    body = api.signed(holder, token_id, value, value * 99 // 100, nonce=nonce, financier=financier)
    r = api.post("/financing-requests", holder, json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.fixture
def tree(api: Api) -> Tree:
    demo, rt = api.demo, api.scf.receivables
    core, t1, t2, t2b, t3 = demo.core, demo.suppliers[0], demo.suppliers[1], demo.suppliers[2], demo.suppliers[3]
    parties = {
        "operator": demo.operator,
        "core": core,
        "tier1": t1,
        "tier2": t2,
        "financier": api.bank,
        "auditor": api.auditor,
    }
    maturity = now(api.scf.w3) + 90 * DAY
    upload(api, core, CONTRACT, "contract")
    upload(api, core, INVOICE, "invoice")
    documents = [sha(CONTRACT), sha(INVOICE)]
    issued = rt.issue(core.account, t1.address, 100_000_00, maturity, combined_hash(documents))
    rt.accept(t1.account, issued.token_id)
    assert api.post(f"/receivables/{issued.slot}/documents", core, json={"documents": documents}).status_code == 200
    upload(api, t1, NOTE_A, "delivery_note")
    upload(api, t1, NOTE_B, "delivery_note")
    memo_a, memo_b = combined_hash([sha(NOTE_A)]), combined_hash([sha(NOTE_B)])
    (f2,) = rt.split(t1.account, issued.token_id, [(t2.address, 40_000_00)], memo_a).new_token_ids
    (f2b,) = rt.split(t1.account, issued.token_id, [(t2b.address, 30_000_00)], memo_b).new_token_ids
    for token_id, note in ((f2, NOTE_A), (f2b, NOTE_B)):
        r = api.post(f"/fragments/{token_id}/documents", t1, json={"documents": [sha(note)]})
        assert r.status_code == 200, r.text
    (f3,) = rt.transfer_value(t2.account, f2, t3.address, 10_000_00).new_token_ids

    # Another debtor's receivable, to Wuchang: no role here but the operator and the auditor takes part in it.
    operator = demo.operator.account
    other_core = new_account(api.scf.w3)
    api.scf.membership.admit(operator, other_core.address, Role.CORE_ENTERPRISE)
    rt.set_credit_line(operator, other_core.address, 1_000_000_00)
    upload(api, demo.operator, OTHER, "contract")
    other = rt.issue(other_core, t2b.address, 20_000_00, maturity, combined_hash([sha(OTHER)]))
    rt.accept(t2b.account, other.token_id)
    r = api.post(f"/receivables/{other.slot}/documents", demo.operator, json={"documents": [sha(OTHER)]})
    assert r.status_code == 200, r.text

    q2 = offer(api, t2, f2, 20_000_00, nonce=101, financier=api.bank.address)
    q3 = offer(api, t3, f3, 10_000_00, nonce=101)
    qb = offer(api, t2b, f2b, 30_000_00, nonce=101, financier=api.bank2.address)
    return Tree(parties, issued.slot, other.slot, issued.token_id, f2, f2b, f3, other.token_id, q2, q3, qb)


def cells(t: Tree) -> list[tuple[str, str, Any, frozenset[str], str]]:
    """(endpoint, object, path or list query, the roles that see it, the 404's error for the others)."""
    fragment_sees = {
        "F1": (t.f1, ALL),
        "F2": (t.f2, ALL),
        "F2b": (t.f2b, SEES_ALL | {"core", "tier1"}),
        "F3": (t.f3, SEES_ALL | {"core", "tier2", "financier"}),
        "Fx": (t.fx, SEES_ALL),
    }
    receivable_sees = {"R": (t.slot, ALL), "Rx": (t.other_slot, SEES_ALL)}
    request_sees = {
        "Q2": (t.q2, SEES_ALL | {"tier2", "financier"}),
        "Q3": (t.q3, SEES_ALL | {"financier"}),
        "Qb": (t.qb, SEES_ALL),
    }
    document_sees = {
        "R's invoice": (sha(INVOICE), ALL),
        "F2's note A": (sha(NOTE_A), ALL),
        "F2b's note B": (sha(NOTE_B), SEES_ALL | {"core", "tier1"}),
        "Rx's contract": (sha(OTHER), SEES_ALL),
    }
    table: list[tuple[str, str, Any, frozenset[str], str]] = []
    for name, (slot, sees) in receivable_sees.items():
        table.append(("GET /receivables/{slot}", name, f"/receivables/{slot}", sees, "NonexistentReceivable"))
        table.append(("GET /receivables", name, ("/receivables", str(slot), "slot"), sees, ""))
        path = f"/receivables/{slot}/documents"
        table.append(("GET /receivables/{slot}/documents", name, path, sees, "NonexistentReceivable"))
    for name, (token_id, sees) in fragment_sees.items():
        table.append(("GET /fragments/{token_id}", name, f"/fragments/{token_id}", sees, "NonexistentToken"))
        if name in ("F2", "F2b", "Fx"):
            path = f"/fragments/{token_id}/documents"
            table.append(("GET /fragments/{token_id}/documents", name, path, sees, "NonexistentToken"))
    for name, (digest, sees) in document_sees.items():
        table.append(("GET /documents/{sha256}", name, f"/documents/{digest}", sees, "UnknownDocument"))
    for name, (request_id, sees) in request_sees.items():
        path = f"/financing-requests/{request_id}"
        table.append(("GET /financing-requests/{id}", name, path, sees, "UnknownFinancingRequest"))
        table.append(("GET /financing-requests", name, ("/financing-requests", request_id, "id"), sees, ""))
    return table


def answer(api: Api, who: Party, target: Any) -> Any:
    """A path's status and error, or (for a listing) whether the object is in the caller's list."""
    if isinstance(target, tuple):
        path, wanted, key = target
        r = api.get(path, who, params={"limit": 500})
        assert r.status_code == 200, (who.name, path, r.text)
        return any(row[key] == wanted for row in r.json()["data"])
    return api.get(target, who)


def test_the_visibility_matrix(api: Api, tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    table = cells(tree)
    checked, wrong = 0, []
    for endpoint, name, target, sees, error in table:
        for role in ROLES:
            who = tree.parties[role]
            got = answer(api, who, target)
            checked += 1
            if isinstance(got, bool):
                if got != (role in sees):
                    wrong.append((endpoint, name, role, f"listed={got}", f"expected listed={role in sees}"))
                continue
            expected = 200 if role in sees else 404
            if got.status_code != expected or (expected == 404 and got.json()["error"] != error):
                wrong.append((endpoint, name, role, got.status_code, got.text[:120]))
    # The reads that name a member: every role reads its own (the default); only the operator and the auditor
    # name another (the second bank, in none of the roles), for everyone else another's is 404.
    another = api.bank2.address
    named = [
        ("GET /portfolio", "/portfolio", "financier", "UnknownPortfolio"),
        ("GET /recourse", "/recourse", "financier", "UnknownRecourse"),
        ("GET /recourse", "/recourse", "seller", "UnknownRecourse"),
        ("GET /credit-line", "/credit-line", "debtor", "UnknownCreditLine"),
    ]
    for endpoint, path, param, error in named:
        for role in ROLES:
            who = tree.parties[role]
            own, other = api.get(path, who), api.get(path, who, params={param: another})
            checked += 2
            if own.status_code != 200:
                wrong.append((endpoint, "own", role, own.status_code, own.text[:120]))
            expected = 200 if role in SEES_ALL else 404
            if other.status_code != expected or (expected == 404 and other.json()["error"] != error):
                wrong.append((endpoint, f"another's ({param})", role, other.status_code, other.text[:120]))
    endpoints = {c[0] for c in table} | {n[0] for n in named}
    with capsys.disabled():
        print(f"\nvisibility matrix: {len(endpoints)} read endpoints x {len(ROLES)} roles, {checked} cells")
    assert wrong == []
    assert (len(endpoints), checked) == (11, 192)


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("operator", {"F1", "F2", "F2b", "F3"}),
        ("auditor", {"F1", "F2", "F2b", "F3"}),
        ("core", {"F1", "F2", "F2b", "F3"}),  # the whole tree of what it owes
        ("tier1", {"F1", "F2", "F2b"}),  # its own, and what it paid with; not what tier 2 paid on with F2
        ("tier2", {"F1", "F2", "F3"}),  # its own, its path, what it paid with; not its sibling F2b
        ("financier", {"F1", "F2", "F3"}),  # offered F2 and F3, and their paths; not F2b, offered elsewhere
    ],
)
def test_a_tree_shows_each_role_its_part_of_it(api: Api, tree: Tree, role: str, shown: set[str]) -> None:
    names = {tree.f1: "F1", tree.f2: "F2", tree.f2b: "F2b", tree.f3: "F3"}
    body = api.get(f"/receivables/{tree.slot}", tree.parties[role]).json()
    assert {names[int(f["token_id"])] for f in body["fragments"]} == shown
    assert body["receivable"]["face_value"] == "100000.00"  # the receivable itself is shown whole
    for fragment in body["fragments"]:  # every fragment shown is readable, with a path that stays in view
        r = api.get(f"/fragments/{fragment['token_id']}", tree.parties[role])
        assert r.status_code == 200
        assert {names[int(h["token_id"])] for h in r.json()["path"]} <= shown


def test_a_supplier_lists_only_receivables_it_takes_part_in(api: Api, tree: Tree) -> None:
    listed = {r["slot"] for r in api.get("/receivables", tree.parties["tier2"], params={"limit": 500}).json()["data"]}
    assert str(tree.slot) in listed
    assert str(tree.other_slot) not in listed
    everything = api.get("/receivables", tree.parties["auditor"], params={"limit": 500}).json()["count"]
    core = api.get("/receivables", tree.parties["core"], params={"limit": 500}).json()
    assert core["count"] == everything - 1  # all but the other debtor's
    assert str(tree.other_slot) not in {r["slot"] for r in core["data"]}


def test_a_fragment_a_supplier_paid_with_is_shown_as_sent(api: Api, tree: Tree) -> None:
    # Tier 1 sent 40,000 to tier 2 (F2), which has paid 10,000 of it on to tier 3 since: tier 1 sees what it
    # sent, the holder and the debtor what F2 holds now.
    def tree_value(role: str) -> str:
        body = api.get(f"/receivables/{tree.slot}", tree.parties[role]).json()
        return next(str(f["value"]) for f in body["fragments"] if int(f["token_id"]) == tree.f2)

    assert [tree_value(role) for role in ("tier1", "tier2", "core")] == ["40000.00", "30000.00", "30000.00"]
    sent = api.get(f"/fragments/{tree.f2}", tree.parties["tier1"]).json()
    assert (sent["value"], sent["created_value"], sent["path"][0]["value"]) == ("40000.00", "40000.00", "40000.00")
    assert api.get(f"/fragments/{tree.f2}", tree.parties["tier2"]).json()["value"] == "30000.00"
