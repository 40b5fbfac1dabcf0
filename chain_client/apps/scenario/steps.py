"""What each step of a scenario means, checked on the model at the point it comes: the operations it turns into,
or the problems that stop it. One function per verb (see models.py for their fields)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from eth_utils.crypto import keccak

from chain_client.apps.scenario import models as m
from chain_client.apps.scenario import ops
from chain_client.apps.scenario.context import Context
from chain_client.apps.scenario.fields import percent_of
from chain_client.apps.scenario.loader import YamlPath
from chain_client.constants import DAY
from chain_client.money import format_fen
from chain_client.pricing import days_between, quote
from chain_client.receivables import ReceivableState

ZERO_MEMO = b"\0" * 32


def accept(c: Context, names: list[str], path: YamlPath) -> list[ops.Op]:
    return _answer(c, names, path, accept=True)


def reject(c: Context, names: list[str], path: YamlPath) -> list[ops.Op]:
    return _answer(c, names, path, accept=False)


def _answer(c: Context, names: list[str], path: YamlPath, *, accept: bool) -> list[ops.Op]:
    out: list[ops.Op] = []
    for j, name in enumerate(names):
        r = c.receivable(name, (*path, j))
        if r is None:
            continue
        if r.state is not ReceivableState.PENDING:
            c.problem((*path, j), f"{name} is {r.state.word}, not pending: it can be answered once")
            continue
        if c.world.matured(r):
            c.problem((*path, j), f"{name} matured on {c.day(r.maturity)} before it was answered")
            continue
        token_id = c.names[name]
        if accept:
            r.state = ReceivableState.ACTIVE
            out.append(ops.Accept(r.holder, token_id))
        else:
            r.state = ReceivableState.REJECTED
            c.world.fragments[token_id].burned = True
            out.append(ops.Reject(r.holder, token_id))
    return out


def pay(c: Context, order: m.Pay, path: YamlPath) -> list[ops.Op]:
    new_names = [p.as_ for p in order.to if p.as_]
    source = c.movable(order.from_, (*path, "from"), order.by, (*path, "by"))
    payees = [c.member(p.member, (*path, "to", k, "member"), m.MemberRole.SUPPLIER) for k, p in enumerate(order.to)]
    names_ok = all([c.claim_name(p.as_, (*path, "to", k, "as")) for k, p in enumerate(order.to) if p.as_])
    if source is None or None in payees or not names_ok:
        c.poisoned.update(new_names)
        return []
    before = len(c.problems)
    values = [p.amount if p.amount is not None else percent_of(source.value, p.percent or Decimal(0)) for p in order.to]
    for k, value in enumerate(values):
        if value == 0:
            c.problem(
                (*path, "to", k, "percent"), f"{order.to[k].percent}% of {format_fen(source.value)} is {format_fen(0)}"
            )
    total = sum(values)
    if total > source.value:
        c.problem(
            (*path, "to"),
            f"pays {format_fen(total)} in all out of {order.from_}, which holds {format_fen(source.value)} "
            "at that point",
        )
    if len(c.problems) > before:
        c.poisoned.update(new_names)
        return []
    payments = tuple((p.member, v) for p, v in zip(order.to, values, strict=True))
    new_ids = tuple(c.world.mint_fragment(source, member, v) for member, v in payments)
    for p, token_id in zip(order.to, new_ids, strict=True):
        if p.as_:
            c.names[p.as_] = token_id
    memo = keccak(text=order.memo) if order.memo else ZERO_MEMO
    return [ops.Split(source.holder, source.token_id, payments, memo, new_ids)]


def transfer(c: Context, t: m.Transfer, path: YamlPath) -> list[ops.Op]:
    source = c.movable(t.fragment, (*path, "fragment"))
    to = c.member(t.to, (*path, "to"), m.MemberRole.SUPPLIER, m.MemberRole.FINANCIER)
    if source is None or to is None:
        return []
    holder, source.holder = source.holder, to
    return [ops.Transfer(holder, to, source.token_id)]


def finance(c: Context, f: m.Finance, path: YamlPath) -> list[ops.Op]:
    source = c.movable(f.fragment, (*path, "fragment"))
    financier = c.member(f.financier, (*path, "financier"), m.MemberRole.FINANCIER)
    name_ok = c.claim_name(f.as_, (*path, "as")) if f.as_ else True
    if source is None or financier is None or not name_ok:
        c.poisoned.update([f.as_] if f.as_ else [])
        return []
    if source.holder == financier:
        c.problem((*path, "financier"), f"{financier} holds {f.fragment}: the desk refuses a sale to oneself")
        return c.poison(f.as_)
    if f.amount is not None:
        value = f.amount
    elif f.percent is not None:
        value = percent_of(source.value, f.percent)
    else:
        value = source.value
    r = c.world.receivable_of(source.token_id)
    field_ = "amount" if f.amount is not None else "percent"
    if not 0 < value <= source.value:
        c.problem(
            (*path, field_),
            f"sells {format_fen(value)} of {f.fragment}, which holds {format_fen(source.value)} at that point",
        )
        return c.poison(f.as_)
    days = days_between(c.world.now, r.maturity)
    try:
        q = quote(value, f.rate, days, f.day_count or c.s.settings.day_count)
    except ValueError as exc:
        c.problem((*path, "rate"), str(exc))
        return c.poison(f.as_)
    cash = c.world.cash.get(financier, 0)
    if cash < q.price:
        c.problem(
            (*path, "financier"),
            f"{financier} has {format_fen(cash)} cash at that point; the price is {format_fen(q.price)}",
        )
        return c.poison(f.as_)
    limit = c.members[financier].exposure_limit
    used = c.world.exposure.get((financier, r.debtor), 0)
    if limit is not None and used + value > limit:
        c.problem(
            (*path, "financier"),
            f"{financier}'s exposure to {r.debtor} would be {format_fen(used + value)}, over its limit of "
            f"{format_fen(limit)}",
        )
        return c.poison(f.as_)
    out: list[ops.Op] = []
    holder = source.holder
    if holder not in c.world.desk_approved:
        c.world.desk_approved.add(holder)
        out.append(ops.ApproveDeskValue(holder))
    nonce = c.world.nonces.get(holder, 0) + 1
    c.world.nonces[holder] = nonce
    token_id = source.token_id
    financed_id = c.world.finance(source, financier, value, q.price, f.recourse)
    if f.as_:
        c.names[f.as_] = financed_id
        c.financings[f.as_] = financed_id
    out.append(
        ops.Finance(holder, financier, token_id, value, q.price, days, f.recourse, f.open_market, nonce, financed_id)
    )
    return out


def freeze(c: Context, f: m.Freeze, path: YamlPath) -> list[ops.Op]:
    fragment = c.fragment(f.fragment, (*path, "fragment"))
    if fragment is None:
        return []
    if fragment.frozen:
        c.problem((*path, "fragment"), f"{f.fragment} is frozen already")
        return []
    fragment.frozen = True
    return [ops.Freeze(fragment.token_id, keccak(text=f.reason) if f.reason else ZERO_MEMO)]


def unfreeze(c: Context, name: str, path: YamlPath) -> list[ops.Op]:
    fragment = c.fragment(name, path)
    if fragment is None:
        return []
    if not fragment.frozen:
        c.problem(path, f"{name} is not frozen")
        return []
    fragment.frozen = False
    return [ops.Unfreeze(fragment.token_id)]


def advance(c: Context, a: m.Advance, path: YamlPath) -> list[ops.Op]:
    if a.days is not None:
        target = c.world.now + a.days * DAY
    else:
        r = c.receivable(a.to_maturity_of or "", (*path, "to_maturity_of"))
        if r is None:
            return []
        target = r.maturity + a.plus_days * DAY
    if target <= c.world.now:
        return []  # already there
    c.world.now = target
    return [ops.Advance(target)]


def repay(c: Context, p: m.Repay, path: YamlPath) -> list[ops.Op]:
    r = c.receivable(p.receivable, (*path, "receivable"))
    payer = c.member(p.by, (*path, "by")) if p.by else (r.debtor if r else None)
    if r is None or payer is None:
        return []
    if r.state not in (ReceivableState.ACTIVE, ReceivableState.OVERDUE):
        c.problem((*path, "receivable"), f"{r.name} is {r.state.word}: there is nothing to repay")
        return []
    if p.amount is not None:
        amount = p.amount
    elif p.percent is not None:
        amount = percent_of(r.face, p.percent)
    else:
        amount = r.outstanding
    if not 0 < amount <= r.outstanding:
        field_ = "amount" if p.amount is not None else "percent"
        c.problem((*path, field_), f"{format_fen(amount)} is not within the {format_fen(r.outstanding)} outstanding")
        return []
    cash = c.world.cash.get(payer, 0)
    if cash < amount:
        c.problem(
            (*path, "by" if p.by else "receivable"),
            f"{payer} has {format_fen(cash)} cash at that point; the repayment is {format_fen(amount)}",
        )
        return []
    if p.settle and not c.world.matured(r):
        c.problem(
            (*path, "settle"),
            f"{r.name} matures on {c.day(r.maturity)}, it is {c.day(c.world.now)}: holders are paid "
            "from maturity on (advance first, or settle: false)",
        )
        return []
    c.world.repay(r, payer, amount)
    if not p.settle:
        return [ops.Repay(payer, r.slot, amount, r.repaid)]
    paid = c.settle(r)
    return [ops.Repay(payer, r.slot, amount, r.repaid, paid), *c.redeem_custody(r)]


def settle(c: Context, name: str, path: YamlPath) -> list[ops.Op]:
    r = c.receivable(name, path)
    if r is None:
        return []
    if r.state in (ReceivableState.PENDING, ReceivableState.REJECTED) or not c.world.matured(r):
        c.problem(path, f"{name} is {r.state.word} and matures on {c.day(r.maturity)}: nothing to settle yet")
        return []
    paid = c.settle(r)
    return [*([ops.Settle(r.slot, paid)] if paid else []), *c.redeem_custody(r)]


def mark_overdue(c: Context, name: str, path: YamlPath) -> list[ops.Op]:
    r = c.receivable(name, path)
    if r is None:
        return []
    if r.state is not ReceivableState.ACTIVE:
        c.problem(path, f"{name} is {r.state.word}: only an accepted, unpaid receivable becomes overdue")
        return []
    overdue_from = r.maturity + c.world.grace_period
    if c.world.now < overdue_from:
        c.problem(
            path,
            f"{name} can be marked overdue from {c.day(overdue_from)} (maturity plus the grace period); "
            f"it is {c.day(c.world.now)}",
        )
        return []
    r.state = ReceivableState.OVERDUE
    return [ops.MarkOverdue(r.slot)]


def claim_recourse(c: Context, name: str, path: YamlPath) -> list[ops.Op]:
    record = c.financing(name, path)
    if record is None:
        return []
    r = c.world.receivable_of(record.financed_id)
    fragment = c.world.fragments[record.financed_id]
    if not record.recourse:
        c.problem(path, f"financing {name} was made without recourse")
    elif r.state is not ReceivableState.OVERDUE:
        c.problem(path, f"{r.name} is {r.state.word}: recourse needs an overdue receivable (mark_overdue first)")
    elif record.claim or record.claim_settled:
        c.problem(path, f"recourse on {name} was claimed already")
    elif fragment.holder != record.financier:
        c.problem(path, f"{record.financier} sold {name} on (to {fragment.holder}): its recourse ended with the sale")
    elif (amount := c.world.recourse_due(record)) == 0:
        c.problem(path, f"nothing of financing {name} is unpaid")
    else:
        record.claim = amount
        return [ops.ClaimRecourse(record.financier, record.financed_id, amount)]
    return []


def settle_recourse(c: Context, name: str, path: YamlPath) -> list[ops.Op]:
    """The seller buys the fragment back: the financier is paid what the fragment is owed now, then the unpaid
    part (recomputed, never more than claimed) by the seller, and the desk takes the fragment into custody."""
    record = c.financing(name, path)
    if record is None:
        return []
    if not record.claim or record.claim_settled:
        c.problem(path, f"there is no open recourse claim on {name} (claim_recourse first)")
        return []
    fragment = c.world.fragments[record.financed_id]
    if fragment.frozen:
        c.problem(path, f"{name} is frozen: the desk can neither settle it nor take it back (unfreeze first)")
        return []
    if fragment.holder != record.financier:
        c.problem(path, f"{record.financier} sold {name} on (to {fragment.holder}): its recourse ended with the sale")
        return []
    due = c.world.recourse_due(record)
    cash = c.world.cash.get(record.seller, 0)
    if cash < due:
        c.problem(
            path,
            f"{record.seller} has {format_fen(cash)} cash at that point; buying {name} back costs {format_fen(due)}",
        )
        return []
    c.world.buy_back(record)
    return [ops.SettleRecourse(record.seller, record.financed_id, due)]


HANDLERS: dict[str, Callable[[Context, Any, YamlPath], list[ops.Op]]] = {
    "accept": accept,
    "reject": reject,
    "pay": pay,
    "transfer": transfer,
    "finance": finance,
    "freeze": freeze,
    "unfreeze": unfreeze,
    "advance": advance,
    "repay": repay,
    "settle": settle,
    "mark_overdue": mark_overdue,
    "claim_recourse": claim_recourse,
    "settle_recourse": settle_recourse,
}


def label(verb: str, args: Any) -> str:
    """A short description of a step for the progress bar."""
    match args:
        case list():
            return f"{verb} {', '.join(args)}"
        case str():
            return f"{verb} {args}"
        case m.Pay():
            return f"{args.from_} pays {len(args.to)} supplier{'s' if len(args.to) > 1 else ''}"
        case m.Finance():
            return f"{args.financier} finances {args.fragment} at {args.rate * 100:.2f}%"
        case m.Transfer():
            return f"transfer {args.fragment} to {args.to}"
        case m.Freeze():
            return f"freeze {args.fragment}"
        case m.Advance():
            return f"advance {args.days} days" if args.days else f"advance to {args.to_maturity_of}'s maturity"
        case m.Repay():
            return f"repay {args.receivable}"
    return verb
