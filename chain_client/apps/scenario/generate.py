"""Random supply chains from a few lines (`generate:` in a scenario file), reproducible from a seed.

The generator writes an ordinary scenario — members, receivables and steps as a person would — and validates it
with the same schema, so the dry run, the runner and the report treat it like any other. All amounts are
integers in fen; randomness only chooses who pays whom, shares and rates.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chain_client.apps.scenario.models import Generator, Scenario

YUAN_STEP = 1_000_00  # face values are whole thousands of yuan
DAYS_BETWEEN_TIERS = 2
FINANCING_WAVES = 5
DAYS_BETWEEN_WAVES = 4


def expand(scenario: Scenario) -> Scenario:
    """`scenario` with its `generate:` section written out after what the file lists itself. Raises
    `ValueError` when a generated member's name is one the file uses already."""
    g = scenario.generate
    if g is None:
        return scenario
    written = _Writer(g, random.Random(scenario.settings.seed)).write()
    part = Scenario.model_validate(
        {"name": scenario.name, "members": written.members, "receivables": written.receivables, "steps": written.steps}
    )
    clash = {x.name for x in scenario.members} & {x.name for x in part.members}
    if clash:
        raise ValueError(f"generated member names are taken in members: {', '.join(sorted(clash))}")
    return scenario.model_copy(
        update={
            "members": [*scenario.members, *part.members],
            "receivables": [*scenario.receivables, *part.receivables],
            "steps": [*scenario.steps, *part.steps],
        }
    )


@dataclass
class _Written:
    members: list[dict[str, Any]]
    receivables: list[dict[str, Any]]
    steps: list[dict[str, Any]]


@dataclass
class _Held:
    name: str
    holder: str
    receivable: str
    value: int  # fen, as the generator tracks it


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


class _Writer:
    def __init__(self, g: Generator, rng: random.Random) -> None:
        self.g = g
        self.rng = rng
        self.steps: list[dict[str, Any]] = []
        self.counter = 0

    def write(self) -> _Written:
        g = self.g
        tiers = [[f"S{t}-{i:0{len(str(n))}d}" for i in range(1, n + 1)] for t, n in enumerate(g.suppliers_per_tier, 1)]
        receivables, held = self.receivables(tiers[0])
        total = sum(h.value for h in held)
        owed = {c.name: 0 for c in g.debtors}
        for r, h in zip(receivables, held, strict=True):
            owed[r["debtor"]] += h.value
        members: list[dict[str, Any]] = [
            *({"name": c.name, "role": "core", "cash": _yuan(c.cash or owed[c.name])} for c in g.debtors),
            *({"name": f.name, "role": "financier", "cash": _yuan(f.cash or total)} for f in g.financiers),
            *({"name": s, "role": "supplier", "tier": t} for t, names in enumerate(tiers, 1) for s in names),
        ]
        self.steps.append({"accept": [r["name"] for r in receivables], "note": "tier 1 accepts every receivable"})
        holdings = list(held)
        level = held
        for t in range(1, len(tiers)):
            self.steps.append({"advance": {"days": DAYS_BETWEEN_TIERS}})
            level = self.pay_down(level, tiers[t], t)
            holdings += level
        recourse = self.finance(holdings)
        self.repay(receivables, recourse)
        return _Written(members, receivables, self.steps)

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def receivables(self, tier1: list[str]) -> tuple[list[dict[str, Any]], list[_Held]]:
        g, rng = self.g, self.rng
        out: list[dict[str, Any]] = []
        held: list[_Held] = []
        lo, hi = -(-g.face[0] // YUAN_STEP), g.face[1] // YUAN_STEP
        cores = g.debtors
        for i, supplier in enumerate(tier1):
            debtor = cores[i % len(cores)].name  # tier-1 suppliers shared out among the cores in turn
            for _ in range(g.receivables_per_tier1):
                n = len(out) + 1
                face = rng.randint(lo, max(lo, hi)) * YUAN_STEP if hi >= lo else g.face[0]
                name = f"R{n:03d}"
                out.append(
                    {
                        "name": name,
                        "debtor": debtor,
                        "holder": supplier,
                        "face": _yuan(face),
                        "tenor_days": rng.randint(*g.tenor_days),
                        "document": f"{debtor} purchase invoice INV-{n:05d} / delivery note DN-{n:05d}",
                    }
                )
                held.append(_Held(name, supplier, name, face))
        return out, held

    def pay_down(self, level: list[_Held], payees: list[str], tier: int) -> list[_Held]:
        """Each fragment of `level` pays a share to suppliers of the next tier, every one of whom is paid."""
        g, rng = self.g, self.rng
        counts = [rng.randint(*g.fan_out) for _ in level]
        i = 0
        while sum(counts) < len(payees):  # raise fan-outs until the next tier is covered
            counts[i % len(counts)] += 1
            i += 1
        order = list(payees)
        rng.shuffle(order)
        cycle = _cycle(order, rng)
        received: list[_Held] = []
        for source, count in zip(level, counts, strict=True):
            chosen = list(dict.fromkeys(next(cycle) for _ in range(min(count, len(payees)))))
            share = source.value * rng.randint(int(g.pay_share[0]), int(g.pay_share[1])) // 100
            weights = [rng.randint(1, 100) for _ in chosen]
            amounts = [share * w // sum(weights) for w in weights]
            orders = _chunks(list(zip(chosen, amounts, strict=True)), g.payments_per_holder)
            for po, chunk in enumerate(orders, 1):
                to = []
                for payee, amount in chunk:
                    if amount <= 0:
                        continue
                    name = self.name("g")
                    to.append({"member": payee, "amount": _yuan(amount), "as": name})
                    received.append(_Held(name, payee, source.receivable, amount))
                    source.value -= amount
                if to:
                    memo = f"PO {source.holder}-{source.receivable}-{po}"
                    self.steps.append({"pay": {"from": source.name, "to": to, "memo": memo}})
        return received

    def finance(self, holdings: list[_Held]) -> dict[str, list[str]]:
        """Financings in waves a few days apart; returns the recourse financings' names per receivable."""
        g, rng = self.g, self.rng
        candidates = [h for h in holdings if h.value > 100_00]
        if g.financings is not None:
            chosen = rng.sample(candidates, min(g.financings, len(candidates)))
        else:
            p = float(g.financing_probability or 0)
            chosen = [h for h in candidates if rng.random() < p]
        rng.shuffle(chosen)
        recourse: dict[str, list[str]] = {}
        wave = max(1, -(-len(chosen) // FINANCING_WAVES))
        for i, h in enumerate(chosen):
            if i % wave == 0:
                self.steps.append({"advance": {"days": DAYS_BETWEEN_WAVES}})
            financier = rng.choice(g.financiers)
            lo, hi = (int(r * 10_000) for r in financier.rate)  # basis points
            rate = Decimal(rng.randint(lo, hi)) / 10_000
            share = rng.randint(int(g.financed_share[0]), int(g.financed_share[1]))
            name = self.name("fin")
            with_recourse = rng.random() < float(g.recourse_probability)
            self.steps.append(
                {
                    "finance": {
                        "fragment": h.name,
                        "financier": financier.name,
                        "rate": str(rate),
                        "percent": share,
                        "recourse": with_recourse,
                        "as": name,
                    }
                }
            )
            if with_recourse:
                recourse.setdefault(h.receivable, []).append(name)
        return recourse

    def repay(self, receivables: list[dict[str, Any]], recourse: dict[str, list[str]]) -> None:
        """Every receivable at its maturity, in order of maturity: in full, or (partial_then_late) 60% at
        maturity, overdue after the grace period, recourse claimed, the rest ten days later."""
        for r in sorted(receivables, key=lambda r: (r["tenor_days"], r["name"])):
            name = r["name"]
            self.steps.append({"advance": {"to_maturity_of": name}})
            if self.g.repayment == "on_time":
                self.steps.append({"repay": name})
                continue
            self.steps.append({"repay": {"receivable": name, "percent": 60}})
        if self.g.repayment == "partial_then_late":
            last = max(receivables, key=lambda r: r["tenor_days"])["name"]
            self.steps.append({"advance": {"to_maturity_of": last, "plus_days": 4}})
            for r in receivables:
                self.steps.append({"mark_overdue": r["name"]})
                self.steps += [{"claim_recourse": f} for f in recourse.get(r["name"], [])]
            self.steps.append({"advance": {"days": 10}})
            self.steps += [{"repay": r["name"]} for r in receivables]


def _cycle(items: list[str], rng: random.Random) -> Iterator[str]:
    """Every item once, then again in a new random order, and so on."""
    while True:
        yield from items
        items = list(items)
        rng.shuffle(items)


def _chunks(items: list[Any], n: int) -> list[list[Any]]:
    size = max(1, -(-len(items) // n))
    return [items[i : i + size] for i in range(0, len(items), size)]
