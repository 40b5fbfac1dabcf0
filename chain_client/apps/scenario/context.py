"""The dry run's state and its lookups: the model world, the names given so far, and the problems found.

Each lookup that fails records one problem at the place in the file that named the missing thing and returns
None; a name whose own step failed is "poisoned", so that using it later is not reported a second time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from difflib import get_close_matches

from chain_client.apps.scenario import models as m
from chain_client.apps.scenario import ops
from chain_client.apps.scenario.loader import Problem, YamlPath
from chain_client.apps.scenario.world import FinancingModel, FragmentModel, ReceivableModel, World
from chain_client.constants import DAY
from chain_client.ids import slot_of
from chain_client.receivables import ReceivableState


class Context:
    def __init__(self, scenario: m.Scenario, t0: int) -> None:
        self.s = scenario
        self.t0 = t0
        self.world = World(t0, scenario.settings.grace_period_days * DAY)
        self.problems: list[Problem] = []
        self.members = {member.name: member for member in scenario.members}
        self.receivable_slots: dict[str, int] = {}
        self.names: dict[str, int] = {}
        self.financings: dict[str, int] = {}
        self.poisoned: set[str] = set()  # names whose step failed: later uses are not reported again

    def settle(self, r: ReceivableModel) -> tuple[int, ...]:
        """Settle `r` in the model; the token ids paid, in order (as repay_and_settle finds them on chain)."""
        settlement = self.world.settlement(r)
        self.world.settle(r, settlement)
        return tuple(token_id for token_id, _ in settlement.paid)

    def redeem_custody(self, r: ReceivableModel) -> list[ops.Op]:
        """After a settlement: pass on what each fragment of `r` the desk holds was paid, so that the seller
        has its share on chain and the desk no cash left at the end of the step."""
        out: list[ops.Op] = []
        for financed_id in sorted(self.world.custody):
            if slot_of(financed_id) != r.slot:
                continue
            done = self.world.redeem_recourse(financed_id)
            if done is not None:
                out.append(ops.RedeemRecourse(financed_id, done.to_seller, done.to_financier, done.distributed))
        return out

    def problem(self, path: YamlPath, message: str) -> bool:
        self.problems.append(Problem(path, message))
        return False

    def poison(self, name: str | None) -> list[ops.Op]:
        if name:
            self.poisoned.add(name)
        return []

    def day(self, t: int) -> str:
        """'day 120 (2026-09-30)': days since the scenario started, and the date."""
        return f"day {(t - self.t0) // DAY} ({datetime.fromtimestamp(t, UTC).date()})"

    def member(self, name: str, path: YamlPath, *roles: m.MemberRole) -> str | None:
        member = self.members.get(name)
        if member is None:
            self.problem(path, _unknown("member", name, self.members))
            return None
        if roles and member.role not in roles:
            wanted = " or ".join(r.value for r in roles)
            self.problem(path, f"{name} is a {member.role.value}; this needs a {wanted}")
            return None
        return name

    def claim_name(self, name: str | None, path: YamlPath) -> bool:
        if name is None:
            return True
        if name in self.names or name in self.poisoned or name in self.receivable_slots:
            return self.problem(path, f"the name {name!r} is taken already")
        return True

    def receivable(self, name: str, path: YamlPath) -> ReceivableModel | None:
        slot = self.receivable_slots.get(name)
        if slot is None:
            if name not in self.poisoned:
                self.problem(path, _unknown("receivable", name, self.receivable_slots))
            return None
        return self.world.receivables[slot]

    def fragment(self, name: str, path: YamlPath) -> FragmentModel | None:
        token_id = self.names.get(name)
        if token_id is None:
            if name not in self.poisoned:
                self.problem(path, _unknown("fragment", name, self.names) + " (name fragments with `as:`)")
            return None
        fragment = self.world.fragments[token_id]
        if fragment.burned:
            self.problem(path, f"{name} no longer exists (rejected, or paid in full and burned)")
            return None
        return fragment

    def financing(self, name: str, path: YamlPath) -> FinancingModel | None:
        financed_id = self.financings.get(name)
        if financed_id is None:
            if name not in self.poisoned:
                self.problem(path, _unknown("financing", name, self.financings) + " (name financings with `as:`)")
            return None
        return self.world.financings[financed_id]

    def movable(self, name: str, path: YamlPath, by: str | None = None, by_path: YamlPath = ()) -> FragmentModel | None:
        """The fragment `name` if its value may move now: accepted, before maturity, not frozen."""
        fragment = self.fragment(name, path)
        if fragment is None:
            return None
        r = self.world.receivable_of(fragment.token_id)
        if r.state is not ReceivableState.ACTIVE:
            self.problem(path, f"{r.name} is {r.state.word}: value moves only once it is accepted and until repaid")
        elif self.world.matured(r):
            self.problem(path, f"{r.name} matured on {self.day(r.maturity)}; it is {self.day(self.world.now)}")
        elif fragment.frozen:
            self.problem(path, f"{name} is frozen")
        elif by is not None and by != fragment.holder:
            self.problem(by_path, f"{name} is held by {fragment.holder}, not {by}")
        else:
            return fragment
        return None


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    close = get_close_matches(name, list(known), n=1)
    return f"unknown {kind} {name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
