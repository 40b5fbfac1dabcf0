"""The dry run: replay a scenario on a model of the chain and turn it into concrete operations, or say, in one
message per problem, why it cannot run (nothing has been sent at that point). This file assembles the plan
(set-up, receivables, then each step through steps.py); context.py holds the model and the lookups.

Checks made at the point of each step: names exist (members, receivables, fragments named with `as`), roles fit
(a payee is a supplier, a funder a financier, a debtor a core enterprise), amounts are within what the payer
holds then (value of a fragment, cash of a member, what is outstanding), the receivable is in a state that
allows the step (accepted, not matured for moving value, matured for settling, past the grace period for
overdue), and maturities are within the tenor cap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from chain_client.apps.scenario import models as m
from chain_client.apps.scenario import ops, steps
from chain_client.apps.scenario.context import Context
from chain_client.apps.scenario.loader import Problem, YamlPath
from chain_client.apps.scenario.world import ReceivableModel, World
from chain_client.constants import DAY
from chain_client.exceptions import ChainError
from chain_client.ids import slot_of_document
from chain_client.membership import Role
from chain_client.money import format_fen

DEFAULT_GRACE_PERIOD = 3 * DAY  # the contract's initial setting
UNLIMITED = 2**127  # an exposure limit no financing reaches
_ROLES = {
    m.MemberRole.CORE: Role.CORE_ENTERPRISE,
    m.MemberRole.SUPPLIER: Role.SUPPLIER,
    m.MemberRole.FINANCIER: Role.FINANCIER,
    m.MemberRole.AUDITOR: Role.AUDITOR,
}


class PlanError(ChainError, ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s)")


@dataclass(frozen=True)
class PlannedStep:
    number: int  # 0: set-up; then the scenario's steps from 1
    verb: str
    label: str
    ops: tuple[ops.Op, ...]


@dataclass(frozen=True)
class Plan:
    scenario: m.Scenario
    t0: int
    steps: tuple[PlannedStep, ...]
    members: dict[str, m.Member]
    receivables: dict[str, int]  # name -> slot
    names: dict[str, int]  # fragment name -> token id
    financings: dict[str, int]  # financing name -> financed token id
    final: World = field(repr=False)

    @property
    def transactions(self) -> int:
        return sum(op.transactions for step in self.steps for op in step.ops)

    @property
    def operations(self) -> int:
        return sum(op.operations for step in self.steps for op in step.ops)

    def count(self, kind: type[ops.Op]) -> int:
        return sum(isinstance(op, kind) for step in self.steps for op in step.ops)


def document_hash(reference: str) -> bytes:
    return keccak(text=reference)


def dry_run_address(name: str) -> str:
    """A stand-in address for member `name` when only the plan's shape matters (checking a file): slots are
    bound to the debtor's address, so the real run plans again with the members' real addresses."""
    return to_checksum_address(keccak(text=f"scf-dry-run|{name}")[-20:])


def build_plan(scenario: m.Scenario, *, t0: int, address_of: Callable[[str], str] = dry_run_address) -> Plan:
    """Replay `scenario` from chain time `t0`; raises `PlanError` with every problem found."""
    planner = _Planner(scenario, t0)
    planner.address_of = address_of
    return planner.plan()


class _Planner(Context):
    address_of: Callable[[str], str] = staticmethod(dry_run_address)

    def plan(self) -> Plan:
        for member in self.s.members:
            if member.cash:
                self.world.mint(member.name, member.cash)
        issues = [op for i, r in enumerate(self.s.receivables) if (op := self.issue(i, r)) is not None]
        planned = [self.step(i, step) for i, step in enumerate(self.s.steps)]
        setup = PlannedStep(
            0, "setup", "admit members, mint cash, confirm receivables", tuple(self.setup(issues, planned))
        )
        if self.problems:
            raise PlanError(self.problems)
        return Plan(
            self.s,
            self.t0,
            (setup, *planned),
            self.members,
            self.receivable_slots,
            self.names,
            self.financings,
            self.world,
        )

    def setup(self, issues: list[ops.Issue], planned: list[PlannedStep]) -> Iterable[ops.Op]:
        sends = Counter(s for step in planned for op in step.ops if (s := ops.sender_of(op)) is not None)
        sends.update(op.debtor for op in issues)
        members = self.s.members
        financiers = [x.name for x in members if x.role is m.MemberRole.FINANCIER]
        sends.update(financiers * (1 + len([x for x in members if x.role is m.MemberRole.CORE])))  # set-up
        grace = self.s.settings.grace_period_days * DAY
        if grace != DEFAULT_GRACE_PERIOD:
            yield ops.SetGracePeriod(grace)
        yield from (ops.FundGas(x.name, sends[x.name]) for x in members if x.name in sends)
        yield from (ops.Admit(x.name, _ROLES[x.role]) for x in members)
        for i, x in enumerate(members):
            if x.role is not m.MemberRole.CORE:
                continue
            confirmed = sum(op.face for op in issues if op.debtor == x.name)
            if x.credit_line is not None and x.credit_line < confirmed:
                self.problem(
                    ("members", i, "credit_line"),
                    f"{format_fen(x.credit_line)} is less than the {format_fen(confirmed)} it confirms",
                )
            limit = x.credit_line if x.credit_line is not None else confirmed
            if limit:
                yield ops.SetCreditLine(x.name, limit)
        supply = 0
        for x in members:
            if x.cash:
                supply += x.cash
                yield ops.Mint(x.name, x.cash, supply)
        cores = [x.name for x in members if x.role is m.MemberRole.CORE]
        for x in members:
            if x.role is m.MemberRole.FINANCIER:
                yield ops.ApproveDeskCash(x.name)
                limit = x.exposure_limit if x.exposure_limit is not None else UNLIMITED
                yield from (ops.SetExposureLimit(x.name, core, limit) for core in cores)
        yield from issues

    # ------------------------------------------------------------------ receivables

    def issue(self, i: int, r: m.Receivable) -> ops.Issue | None:
        path: YamlPath = ("receivables", i)
        ok = self.member(r.debtor, (*path, "debtor"), m.MemberRole.CORE) is not None
        ok &= self.member(r.holder, (*path, "holder"), m.MemberRole.SUPPLIER) is not None
        cap = self.s.settings.tenor_cap_days
        if r.tenor_days is not None:
            maturity = self.t0 + r.tenor_days * DAY
            if r.tenor_days > cap:
                ok = self.problem((*path, "tenor_days"), f"{r.tenor_days} days is beyond the tenor cap of {cap} days")
        else:
            assert r.maturity is not None
            maturity = int(datetime.combine(r.maturity, time(), UTC).timestamp())
            today = datetime.fromtimestamp(self.t0, UTC).date()
            if maturity <= self.t0:
                ok = self.problem((*path, "maturity"), f"{r.maturity} is not after today ({today})")
            elif maturity > self.t0 + cap * DAY:
                away = (r.maturity - today).days
                ok = self.problem(
                    (*path, "maturity"),
                    f"{r.maturity} is {away} days from today ({today}), beyond the tenor cap of {cap} days",
                )
        if not self.claim_name(r.name, (*path, "name")) or not ok:
            self.poisoned.add(r.name)
            return None
        doc = document_hash(r.document)
        model = ReceivableModel(
            r.name, slot_of_document(self.address_of(r.debtor), doc), r.debtor, r.holder, r.face, maturity
        )
        token_id = self.world.issue(model)
        self.receivable_slots[r.name] = model.slot
        self.names[r.name] = token_id
        return ops.Issue(r.name, r.debtor, r.holder, r.face, maturity, doc, token_id)

    # ------------------------------------------------------------------ steps

    def step(self, i: int, step: Any) -> PlannedStep:
        verb = m.verb_of(step)
        before = len(self.problems)
        planned = steps.HANDLERS[verb](self, getattr(step, verb), ("steps", i, verb))
        if len(self.problems) > before:
            planned = []
        label = step.note or steps.label(verb, getattr(step, verb))
        return PlannedStep(i + 1, verb, label, tuple(planned))
