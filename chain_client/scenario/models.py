"""The schema of a scenario file (pydantic v2): members, receivables, steps in order, optional generator.

Everything here is about one field at a time or one item at a time (its shape, its numbers, which fields go
together). Whether a step makes sense *at that point* of the story (who holds what, what time it is) is
`plan.py`'s job, which replays the steps on a model before anything is sent.

    members:      - {name: Dongfeng Motor, role: core, cash: "90,000,000", credit_line: "100,000,000"}
    receivables:  - {name: r1, debtor: Dongfeng Motor, holder: Jiangcheng Steel, face: "12,000,000",
                     tenor_days: 120, document: "Invoice DF-0001"}
    steps:        - accept: r1
                  - pay: {from: r1, to: [{member: Hanyang Castings, amount: "3,000,000", as: r1_hy}]}
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from difflib import get_close_matches
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from chain_client.pricing import DayCount
from chain_client.scenario.fields import Name, Percent, Probability, Rate, Text, Yuan


class _Strict(BaseModel):
    """Unknown keys are errors (a typo must not be silently ignored); models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# ---------------------------------------------------------------------------------------------- members


class MemberRole(StrEnum):
    CORE = "core"
    SUPPLIER = "supplier"
    FINANCIER = "financier"
    AUDITOR = "auditor"


class Member(_Strict):
    name: Name
    role: MemberRole
    tier: int | None = Field(default=None, ge=1, le=20, description="suppliers only: 1 is paid by the core enterprise")
    cash: Yuan | None = Field(default=None, description="settlement cash minted to it at the start")
    credit_line: Yuan | None = Field(default=None, description="core only; default: its receivables' total face value")
    exposure_limit: Yuan | None = Field(default=None, description="financiers only, per debtor; default: no limit")

    @model_validator(mode="after")
    def _fields_fit_the_role(self) -> Member:
        if self.role is MemberRole.SUPPLIER and self.tier is None:
            raise PydanticCustomError("tier_missing", "a supplier needs a tier (1 is paid by the core enterprise)")
        if self.role is not MemberRole.SUPPLIER and self.tier is not None:
            raise PydanticCustomError("tier_extra", "only suppliers have a tier")
        if self.credit_line is not None and self.role is not MemberRole.CORE:
            raise PydanticCustomError("credit_line_extra", "only a core enterprise has a credit line")
        if self.exposure_limit is not None and self.role is not MemberRole.FINANCIER:
            raise PydanticCustomError("exposure_extra", "only a financier has an exposure limit")
        return self


# ---------------------------------------------------------------------------------------------- receivables


class Receivable(_Strict):
    """Confirmed by `debtor` to `holder` at the start; its first fragment is called by the receivable's name."""

    name: Name
    debtor: Name
    holder: Name
    face: Yuan
    tenor_days: int | None = Field(default=None, ge=1, le=3650)
    maturity: date | None = None
    document: Text = Field(description="the trade documents' reference; its keccak-256 hash goes on chain")

    @model_validator(mode="after")
    def _one_due_date(self) -> Receivable:
        if (self.tenor_days is None) == (self.maturity is None):
            raise PydanticCustomError("due_date", "give either tenor_days or maturity (YYYY-MM-DD), not both")
        return self


# ---------------------------------------------------------------------------------------------- steps


class _Step(_Strict):
    note: Text | None = Field(default=None, description="what the step means, shown in progress and report")


def _names(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _keyed(key: str) -> Any:
    """Let `verb: name` stand for `verb: {key: name}`."""
    return BeforeValidator(lambda value: {key: value} if isinstance(value, str) else value)


NameList = Annotated[list[Name], BeforeValidator(_names), Field(min_length=1)]


class AcceptStep(_Step):
    accept: NameList


class RejectStep(_Step):
    reject: NameList


class Payee(_Strict):
    member: Name
    amount: Yuan | None = None
    percent: Percent | None = Field(default=None, description="of the fragment's value before this payment")
    as_: Name | None = Field(default=None, alias="as", description="name for the new fragment")

    @model_validator(mode="after")
    def _one_amount(self) -> Payee:
        if (self.amount is None) == (self.percent is None):
            raise PydanticCustomError("payee_amount", "give either amount or percent")
        return self


class Pay(_Strict):
    from_: Name = Field(alias="from", description="the fragment paid out of")
    to: list[Payee] = Field(min_length=1, max_length=200)
    by: Name | None = Field(default=None, description="the payer (checked against the fragment's holder)")
    memo: Text | None = Field(default=None, description="purchase order or invoice reference, hashed on chain")


class PayStep(_Step):
    pay: Pay


class Transfer(_Strict):
    fragment: Name
    to: Name


class TransferStep(_Step):
    transfer: Transfer


class Finance(_Strict):
    fragment: Name
    financier: Name = Field(description="who funds it")
    rate: Rate = Field(description="annual discount rate, quoted: '0.036' or '3.6%' (the same, exactly)")
    amount: Yuan | None = Field(default=None, description="value sold; default: the whole fragment")
    percent: Percent | None = None
    open_market: bool = Field(default=False, description="the signed request names no financier: any may fund it")
    recourse: bool = False
    day_count: DayCount | None = None
    as_: Name | None = Field(
        default=None, alias="as", description="name for the financing and the financier's fragment"
    )

    @model_validator(mode="after")
    def _at_most_one_amount(self) -> Finance:
        if self.amount is not None and self.percent is not None:
            raise PydanticCustomError("finance_amount", "give amount or percent, not both (neither: all of it)")
        return self


class FinanceStep(_Step):
    finance: Finance


class Freeze(_Strict):
    fragment: Name
    reason: Text | None = None


class FreezeStep(_Step):
    freeze: Annotated[Freeze, _keyed("fragment")]


class UnfreezeStep(_Step):
    unfreeze: Name


class Advance(_Strict):
    days: int | None = Field(default=None, ge=1, le=3650)
    to_maturity_of: Name | None = Field(default=None, description="a receivable: move the clock to its maturity")
    plus_days: int = Field(default=0, ge=0, le=3650)

    @model_validator(mode="after")
    def _one_target(self) -> Advance:
        if (self.days is None) == (self.to_maturity_of is None):
            raise PydanticCustomError("advance_target", "give either days or to_maturity_of")
        if self.plus_days and self.to_maturity_of is None:
            raise PydanticCustomError("advance_plus", "plus_days goes with to_maturity_of")
        return self


class AdvanceStep(_Step):
    advance: Advance


class Repay(_Strict):
    receivable: Name
    amount: Yuan | None = Field(default=None, description="default: everything outstanding")
    percent: Percent | None = Field(default=None, description="of the face value")
    by: Name | None = Field(default=None, description="the payer; default: the debtor")
    settle: bool = Field(default=True, description="then push every holder's share (needs maturity)")

    @model_validator(mode="after")
    def _at_most_one_amount(self) -> Repay:
        if self.amount is not None and self.percent is not None:
            raise PydanticCustomError("repay_amount", "give amount or percent, not both (neither: all outstanding)")
        return self


class RepayStep(_Step):
    repay: Annotated[Repay, _keyed("receivable")]


class SettleStep(_Step):
    settle: Name


class MarkOverdueStep(_Step):
    mark_overdue: Name


class ClaimRecourseStep(_Step):
    claim_recourse: Name = Field(description="a financing's name (its `as`)")


class SettleRecourseStep(_Step):
    settle_recourse: Name


_STEP_MODELS: dict[str, type[_Step]] = {
    "accept": AcceptStep,
    "reject": RejectStep,
    "pay": PayStep,
    "transfer": TransferStep,
    "finance": FinanceStep,
    "freeze": FreezeStep,
    "unfreeze": UnfreezeStep,
    "advance": AdvanceStep,
    "repay": RepayStep,
    "settle": SettleStep,
    "mark_overdue": MarkOverdueStep,
    "claim_recourse": ClaimRecourseStep,
    "settle_recourse": SettleRecourseStep,
}
VERBS = tuple(_STEP_MODELS)


class _BadStep(_Step):
    """Stands in for a step whose verb cannot be told, so that the error says why precisely."""

    @model_validator(mode="before")
    @classmethod
    def _explain(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise PydanticCustomError("step_shape", "a step is a mapping such as `accept: r1`")
        keys = [k for k in value if k != "note"]
        verbs = [k for k in keys if k in _STEP_MODELS]
        if len(verbs) > 1:
            raise PydanticCustomError("step_verbs", "one verb per step, got {verbs}", {"verbs": ", ".join(verbs)})
        unknown = next((str(k) for k in keys if k not in _STEP_MODELS), None)
        hint = ""
        if unknown is not None:
            close = get_close_matches(unknown, VERBS, n=1)
            hint = f"unknown step {unknown!r}" + (f" (did you mean {close[0]!r}?)" if close else "") + "; "
        raise PydanticCustomError(
            "step_verb", "{hint}a step is one of: {verbs}", {"hint": hint, "verbs": ", ".join(VERBS)}
        )


def _verb_of(value: Any) -> str:
    if isinstance(value, dict):
        keys = [k for k in value if k != "note"]
        if len(keys) == 1 and keys[0] in _STEP_MODELS:
            return str(keys[0])
    elif isinstance(value, _Step):
        return verb_of(value)
    return "invalid"


Step = Annotated[
    Annotated[AcceptStep, Tag("accept")]
    | Annotated[RejectStep, Tag("reject")]
    | Annotated[PayStep, Tag("pay")]
    | Annotated[TransferStep, Tag("transfer")]
    | Annotated[FinanceStep, Tag("finance")]
    | Annotated[FreezeStep, Tag("freeze")]
    | Annotated[UnfreezeStep, Tag("unfreeze")]
    | Annotated[AdvanceStep, Tag("advance")]
    | Annotated[RepayStep, Tag("repay")]
    | Annotated[SettleStep, Tag("settle")]
    | Annotated[MarkOverdueStep, Tag("mark_overdue")]
    | Annotated[ClaimRecourseStep, Tag("claim_recourse")]
    | Annotated[SettleRecourseStep, Tag("settle_recourse")]
    | Annotated[_BadStep, Tag("invalid")],
    Discriminator(_verb_of),
]


def verb_of(step: _Step) -> str:
    return next(verb for verb, model in _STEP_MODELS.items() if isinstance(step, model))


# ---------------------------------------------------------------------------------------------- generator


def _pair(value: Any) -> Any:
    """A range is `[low, high]`; a single value means both."""
    return value if isinstance(value, list) else [value, value]


def _ordered(value: tuple[Any, Any]) -> tuple[Any, Any]:
    if value[0] > value[1]:
        raise PydanticCustomError("range_order", "a range is [low, high]")
    return value


Days = Annotated[int, Field(ge=1, le=3650)]
Count = Annotated[int, Field(ge=1, le=200)]
YuanRange = Annotated[tuple[Yuan, Yuan], BeforeValidator(_pair), AfterValidator(_ordered)]
DayRange = Annotated[tuple[Days, Days], BeforeValidator(_pair), AfterValidator(_ordered)]
CountRange = Annotated[tuple[Count, Count], BeforeValidator(_pair), AfterValidator(_ordered)]
PercentRange = Annotated[tuple[Percent, Percent], BeforeValidator(_pair), AfterValidator(_ordered)]
RateRange = Annotated[tuple[Rate, Rate], BeforeValidator(_pair), AfterValidator(_ordered)]


class GeneratedCore(_Strict):
    name: Name = "Core Enterprise"
    cash: Yuan | None = Field(default=None, description="default: the total face value (enough to repay everything)")


class GeneratedFinancier(_Strict):
    name: Name
    rate: RateRange
    cash: Yuan | None = Field(default=None, description="default: the total face value")


class Generator(_Strict):
    """A random supply chain: `suppliers_per_tier[0]` tier-1 suppliers, each confirmed `receivables_per_tier1`
    receivables; every holder pays part of what it received to suppliers of the next tier (each of them paid at
    least once); then fragments are financed at random; then every receivable is repaid at maturity."""

    core: GeneratedCore = GeneratedCore()
    financiers: list[GeneratedFinancier] = Field(min_length=1, max_length=20)
    suppliers_per_tier: list[Annotated[int, Field(ge=1, le=100_000)]] = Field(min_length=1, max_length=8)
    receivables_per_tier1: int = Field(default=1, ge=1, le=100)
    face: YuanRange
    tenor_days: DayRange
    fan_out: CountRange = (2, 5)
    pay_share: PercentRange = Field(default=(Decimal(40), Decimal(80)), description="of a fragment paid down")
    payments_per_holder: int = Field(default=1, ge=1, le=10, description="purchase orders each holder pays in")
    financing_probability: Probability | None = None
    financings: int | None = Field(default=None, ge=0, le=1_000_000, description="exact count; overrides probability")
    financed_share: PercentRange = Field(default=(Decimal(50), Decimal(100)), description="of a fragment sold")
    recourse_probability: Probability = Decimal(0)
    repayment: Literal["on_time", "partial_then_late"] = "on_time"

    @model_validator(mode="after")
    def _one_financing_rule(self) -> Generator:
        if self.financing_probability is not None and self.financings is not None:
            raise PydanticCustomError("financing_rule", "give financing_probability or financings, not both")
        return self


# ---------------------------------------------------------------------------------------------- the file


class Settings(_Strict):
    day_count: DayCount = DayCount.ACT_360
    tenor_cap_days: int = Field(default=365, ge=1, le=3650, description="the chain's longest tenor (set at deployment)")
    grace_period_days: int = Field(default=3, ge=0, le=365, description="after maturity, before overdue may be marked")
    seed: int = Field(default=0, ge=0, description="for `generate` (the command line's --seed overrides it)")


class Scenario(_Strict):
    name: Text
    description: str = ""
    settings: Settings = Settings()
    members: list[Member] = []
    receivables: list[Receivable] = []
    generate: Generator | None = None
    steps: list[Step] = []

    @field_validator("members")
    @classmethod
    def _unique_members(cls, members: list[Member]) -> list[Member]:
        _unique([m.name for m in members], "member")
        return members

    @field_validator("receivables")
    @classmethod
    def _unique_receivables(cls, receivables: list[Receivable]) -> list[Receivable]:
        _unique([r.name for r in receivables], "receivable")
        _unique([r.document for r in receivables], "document reference (one trade, one receivable)")
        return receivables

    @model_validator(mode="after")
    def _something_to_do(self) -> Scenario:
        if not self.receivables and self.generate is None:
            raise PydanticCustomError("empty", "a scenario needs receivables (or a generate: section)")
        return self


def _unique(names: list[str], what: str) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise PydanticCustomError(
                "duplicate",
                "{what} '{name}' appears twice (items {a} and {b})",
                {"what": what, "name": name, "a": seen[name] + 1, "b": i + 1},
            )
        seen[name] = i
