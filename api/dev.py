"""Development-chain helpers behind the `/dev` routes: move the clock, have a debtor repay. Refused on any
real network (NotADevelopmentChain, 403): there time is real and debtors pay from their own systems."""

from __future__ import annotations

from dataclasses import asdict

from api.context import ApiContext, Member
from api.errors import ApiProblem
from api.schemas import ChainTimePublic, RepaymentPublic
from chain_client.devchain import advance_time, now
from chain_client.exceptions import NotADevelopmentChain


def _require_development(context: ApiContext) -> None:
    if not context.development:
        raise NotADevelopmentChain(f"chain {context.scf.w3.eth.chain_id} is not a development chain")


def advance(context: ApiContext, seconds: int) -> ChainTimePublic:
    _require_development(context)
    # advance_time drives eth-tester directly, around the provider: hold the chain lock ourselves.
    with context.chain_lock:
        advance_time(context.scf.w3, seconds)
        return ChainTimePublic(chain_time=now(context.scf.w3), block=context.scf.w3.eth.block_number)


def repay(context: ApiContext, operator: Member, slot: int, amount: int | None) -> RepaymentPublic:
    """The debtor pays `amount` (default: all outstanding) into escrow; the operator mints it the cash first
    if it has too little (cash in, as a bank deposit would be)."""
    _require_development(context)
    scf = context.scf
    info = scf.receivables.receivable(slot)  # NonexistentReceivable (404) for an unknown slot
    debtor = context.members.signer_for(info.debtor)
    if debtor is None:
        raise ApiProblem(409, "DebtorKeyUnavailable", {"debtor": info.debtor, "detail": "no signing key configured"})
    to_pay = info.outstanding if amount is None else amount
    if to_pay == 0:
        raise ApiProblem(409, "NothingOutstanding", {"slot": slot})
    balance = scf.cash.balance_of(info.debtor)
    if balance < to_pay:
        scf.cash.mint(operator.signer(), info.debtor, to_pay - balance)
    if scf.cash.allowance(info.debtor, scf.receivables.address) < to_pay:
        scf.cash.approve(debtor, scf.receivables.address, to_pay)
    done = scf.receivables.repay(debtor, slot, to_pay)
    after = scf.receivables.receivable(slot)
    found = {**asdict(after), "outstanding": after.outstanding, "paid": to_pay, "tx_hash": done.tx_hash}
    return RepaymentPublic.model_validate(found)
