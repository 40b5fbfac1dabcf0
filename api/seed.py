"""A demo supply chain on a fresh deployment, for `python -m api` on the embedded chain and for the tests.

One core enterprise (with a credit line), six suppliers in three tiers holding pieces of two receivables, two
banks with cash, desk allowances and exposure limits, every supplier's approval of the desk, and signed
financing requests ready to submit. Every account is new and every API key random: nothing is fixed in code.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from pydantic import SecretStr

from api.context import ApiContext
from api.fields import yuan_text
from api.financing import submit
from api.schemas import FinancingRequestCreate, FinancingRequestPublic
from api.settings import MemberConfig
from chain_client import fanout
from chain_client.chain import new_account
from chain_client.client import ScfClient
from chain_client.constants import DAY, ZERO_ADDRESS
from chain_client.devchain import now
from chain_client.financing import FinancingRequest
from chain_client.index import EventIndex
from chain_client.membership import Role
from chain_client.pricing import days_between, quote

BANK_CASH = 10_000_000_00
CREDIT_LINE = 50_000_000_00
LARGE_FACE = 40_000_000_00  # the large receivable's (`seed_fragments`), within the credit line beside the demo's
LARGE_HOLDERS = 50
MAX_SEED_FRAGMENTS = 1_000_000  # `seed_fragments`' bound: hours of splitting already, and shares stay >= 4,000 fen


@dataclass(frozen=True)
class Party:
    name: str
    role: Role
    account: LocalAccount
    # A fixed prefix: a key starting with "-" (one in 64 of token_urlsafe's) reads as an option on a command line.
    api_key: str = field(default_factory=lambda: "scf_" + secrets.token_urlsafe(24), repr=False)

    @property
    def address(self) -> str:
        return self.account.address

    def config(self) -> MemberConfig:
        return MemberConfig(
            name=self.name,
            role=self.role,
            api_key=SecretStr(self.api_key),
            address=self.address,
            private_key=SecretStr("0x" + bytes(self.account.key).hex()),
        )


@dataclass(frozen=True)
class SignedRequest:
    holder: Party
    request: FinancingRequest
    signature: bytes


@dataclass
class DemoChain:
    operator: Party
    core: Party
    suppliers: list[Party]  # tier 1, tier 2 (two), tier 3 (three)
    banks: list[Party]
    slots: list[int]
    requests: list[SignedRequest]
    holders: list[Party] = field(default_factory=list)  # of the large receivable (`seed_fragments`), if any

    @property
    def parties(self) -> list[Party]:
        return [self.operator, self.core, *self.suppliers, *self.banks, *self.holders]

    def members(self) -> list[MemberConfig]:
        return [p.config() for p in self.parties]

    def label(self, index: EventIndex) -> None:
        for p in self.parties:
            index.set_label(p.address, p.name)


def seed_demo(scf: ScfClient, operator: LocalAccount) -> DemoChain:
    w3 = scf.w3
    gas_money = scf.tx.funding_for(1_000)  # at the node's fee cap; 0 on a free-gas chain

    def party(name: str, role: Role) -> Party:
        return Party(name, role, new_account(w3, fund_wei=gas_money, funder=operator))

    core = party("Huazhong Heavy Industry", Role.CORE_ENTERPRISE)
    t1 = party("Jiangcheng Steel", Role.SUPPLIER)
    t2a, t2b = party("Hanyang Castings", Role.SUPPLIER), party("Wuchang Bearings", Role.SUPPLIER)
    t3 = [party(n, Role.SUPPLIER) for n in ("Qingshan Fasteners", "Hongshan Paints", "Jiangxia Packaging")]
    banks = [party("Bank of Hankou", Role.FINANCIER), party("Jianghan Factoring", Role.FINANCIER)]
    suppliers = [t1, t2a, t2b, *t3]
    for p in (core, *suppliers, *banks):
        scf.membership.admit(operator, p.address, p.role)
    scf.receivables.set_credit_line(operator, core.address, CREDIT_LINE)

    rt, desk = scf.receivables, scf.financing
    # A lasting chain refuses the same documents twice: make each run's unique.
    run = os.urandom(8).hex()
    start = now(w3)
    r1 = rt.issue(core.account, t1.address, 1_000_000_00, start + 120 * DAY, keccak(text=f"HZ-2026-0815 {run}"))
    rt.accept(t1.account, r1.token_id)
    to_t2a, to_t2b = rt.split(
        t1.account, r1.token_id, [(t2a.address, 300_000_00), (t2b.address, 200_000_00)], keccak(text="PO JC-031/032")
    ).new_token_ids
    t3a_id, t3b_id = rt.split(
        t2a.account, to_t2a, [(t3[0].address, 120_000_00), (t3[1].address, 45_678_90)], keccak(text="PO HY-117")
    ).new_token_ids
    (t3c_id,) = rt.transfer_value(t2b.account, to_t2b, t3[2].address, 50_000_00).new_token_ids
    r2 = rt.issue(core.account, t1.address, 600_000_00, start + 75 * DAY, keccak(text=f"HZ-2026-0907 {run}"))
    rt.accept(t1.account, r2.token_id)
    (r2_t2b,) = rt.transfer_value(t1.account, r2.token_id, t2b.address, 250_000_00).new_token_ids

    for bank, limit in zip(banks, (2_000_000_00, 1_000_000_00), strict=True):
        scf.cash.mint(operator, bank.address, BANK_CASH)
        scf.cash.approve(bank.account, desk.address, BANK_CASH)
        desk.set_exposure_limit(bank.account, core.address, limit)
    for s in suppliers:
        rt.set_approval_for_all(s.account, desk.address, True)

    nonces: dict[str, int] = {}

    def sign(holder: Party, token_id: int, maturity: int, value: int, rate: str, **kw: object) -> SignedRequest:
        nonces[holder.address] = nonces.get(holder.address, 0) + 1
        return _signed(scf, holder, token_id, maturity, value, rate, nonces[holder.address], **kw)

    m1, m2 = start + 120 * DAY, start + 75 * DAY
    requests = [
        sign(t3[0], t3a_id, m1, 120_000_00, "0.035"),  # a whole fragment, to any bank
        sign(t3[1], t3b_id, m1, 45_678_90, "0.042"),
        sign(t3[2], t3c_id, m1, 30_000_00, "0.039"),  # part of a fragment: the desk splits it
        sign(t2a, to_t2a, m1, 100_000_00, "0.036", recourse=True),
        sign(t1, r2.token_id, m2, 200_000_00, "0.032", financier=banks[0].address),  # for one bank only
        sign(t2b, r2_t2b, m2, 250_000_00, "0.038", financier=banks[1].address),
    ]
    operator_party = Party("Platform operator", Role.OPERATOR, operator)
    return DemoChain(operator_party, core, suppliers, banks, [r1.slot, r2.slot], requests)


def _signed(
    scf: ScfClient, holder: Party, token_id: int, maturity: int, value: int, rate: str, nonce: int, **kw: object
) -> SignedRequest:
    """A financing request of `value` off `token_id` priced at `rate`, signed by `holder`, good for 14 days."""
    w3 = scf.w3
    price = quote(value, Decimal(rate), days_between(now(w3), maturity)).price
    request = FinancingRequest(
        token_id=token_id,
        value=value,
        price=price,
        financier=str(kw.get("financier", ZERO_ADDRESS)),
        recourse=bool(kw.get("recourse", False)),
        nonce=nonce,
        deadline=now(w3) + 14 * DAY,
    )
    return SignedRequest(holder, request, scf.financing.sign(holder.account, request))


@dataclass(frozen=True)
class LargeSeed:
    slot: int
    fragments: int  # the first one included
    transactions: int  # split transactions
    seconds: float


def seed_fragments(scf: ScfClient, demo: DemoChain, fragments: int) -> LargeSeed:
    """Development only (`python -m api --seed-fragments N`, for `bench.py api`): a third receivable of the demo's
    debtor to its tier-1 supplier, split into `fragments` fragments (the first included) held by
    `LARGE_HOLDERS` new suppliers, by pipelined batch splits (`chain_client.fanout`); two of its fragments are
    offered for financing (to the market, and to the first bank), added to `demo.requests`."""
    started = time.perf_counter()
    w3, rt, operator = scf.w3, scf.receivables, demo.operator.account
    first = demo.suppliers[0]
    gas_money = scf.tx.funding_for(fragments // fanout.BATCH + 20)
    demo.holders = [
        Party(f"Holder {i:02}", Role.SUPPLIER, new_account(w3, fund_wei=gas_money, funder=operator))
        for i in range(1, LARGE_HOLDERS + 1)
    ]
    scf.tx.transact_many([scf.membership.admit_call(operator, h.address, h.role) for h in demo.holders])
    desk = scf.financing.address
    scf.tx.transact_many([rt.set_approval_for_all_call(h.account, desk, True) for h in demo.holders])
    maturity = now(w3) + 90 * DAY
    r = rt.issue(demo.core.account, first.address, LARGE_FACE, maturity, keccak(text=f"HZ-LARGE {os.urandom(8).hex()}"))
    rt.accept(first.account, r.token_id)
    grown = fanout.grow(scf, first.account, r.token_id, [h.account for h in demo.holders], fragments)
    by_address = {h.address: h for h in demo.holders}
    deepest, middle = grown.deepest, grown.token_ids[len(grown.token_ids) // 2]
    offered = [(deepest, "0.037", {}), (middle, "0.036", {"financier": demo.banks[0].address})]
    for token_id, rate, kw in offered:
        holder = by_address[rt.owner_of(token_id)]
        value = rt.balance_of(token_id)
        # A holder's nonces start at 1; two offers by one holder (possible: holders are reused) take 1 and 2.
        nonce = 1 + sum(s.holder is holder for s in demo.requests)
        demo.requests.append(_signed(scf, holder, token_id, maturity, value, rate, nonce, **kw))
    demo.slots.append(r.slot)
    return LargeSeed(r.slot, 1 + len(grown.token_ids), grown.transactions, time.perf_counter() - started)


def submit_requests(context: ApiContext, demo: DemoChain) -> list[FinancingRequestPublic]:
    """Put the demo's signed requests on the market through the same checks as `POST /financing-requests`."""
    out = []
    for signed in demo.requests:
        member = context.members.by_key(signed.holder.api_key)
        assert member is not None, f"{signed.holder.name} has no API key in this context"
        r = signed.request
        body = FinancingRequestCreate.model_validate(
            {
                "token_id": str(r.token_id),  # as a client sends it: ids are decimal strings
                "value": yuan_text(r.value),
                "price": yuan_text(r.price),
                "financier": None if r.financier == ZERO_ADDRESS else r.financier,
                "recourse": r.recourse,
                "nonce": str(r.nonce),
                "deadline": r.deadline,
                "signature": "0x" + signed.signature.hex(),
            }
        )
        out.append(submit(context, member, body))
    return out
