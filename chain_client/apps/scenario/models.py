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

from chain_client.apps.scenario.fields import Name, Percent, Probability, Rate, Text, Written, Yuan
from chain_client.pricing import DayCount


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
    """A consortium member, admitted at the start with its role; steps and receivables refer to it by name. A
    supplier has a tier; only a core enterprise has a credit line, only a financier an exposure limit."""

    name: Name = Field(description="unique among members")
    role: MemberRole = Field(description="what it does on chain")
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
    """Confirmed by `debtor` to `holder` at the start; its first fragment is called by the receivable's name. Give
    either tenor_days or maturity."""

    name: Name = Field(description="unique; also the name of its first fragment")
    debtor: Name = Field(description="the core enterprise that confirms and repays it (a member)")
    holder: Name = Field(description="the tier-1 supplier it is confirmed to, who accepts it (a member)")
    face: Yuan = Field(description="face value")
    tenor_days: int | None = Field(default=None, ge=1, le=3650, description="days from the start to maturity")
    maturity: date | None = Field(default=None, description="the due date instead of tenor_days (YYYY-MM-DD)")
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


NameList = Annotated[
    list[Name], BeforeValidator(_names), Field(min_length=1), Written("names", "a name, or a list of names")
]


class AcceptStep(_Step):
    accept: NameList = Field(description="receivables the holder accepts (签收): a name or a list of names")


class RejectStep(_Step):
    reject: NameList = Field(description="receivables the holder rejects: a name or a list of names")


class Payee(_Strict):
    """One payment of a `pay` step: a new fragment split off the fragment paid out of. Give either amount or
    percent."""

    member: Name = Field(description="the supplier paid")
    amount: Yuan | None = Field(default=None, description="value paid (or percent)")
    percent: Percent | None = Field(default=None, description="of the fragment's value before this payment")
    as_: Name | None = Field(default=None, alias="as", description="name for the new fragment")

    @model_validator(mode="after")
    def _one_amount(self) -> Payee:
        if (self.amount is None) == (self.percent is None):
            raise PydanticCustomError("payee_amount", "give either amount or percent")
        return self


class Pay(_Strict):
    """The holder of a fragment pays its own suppliers with pieces of it (拆分/流转), in one transaction."""

    from_: Name = Field(alias="from", description="the fragment paid out of")
    to: list[Payee] = Field(min_length=1, max_length=200, description="the payments, 1 to 200")
    by: Name | None = Field(default=None, description="the payer (checked against the fragment's holder)")
    memo: Text | None = Field(default=None, description="purchase order or invoice reference, hashed on chain")


class PayStep(_Step):
    pay: Pay = Field(description="see `pay` below")


class Transfer(_Strict):
    """A whole fragment changes hands."""

    fragment: Name = Field(description="the fragment moved, whole")
    to: Name = Field(description="the new holder: a supplier or a financier")


class TransferStep(_Step):
    transfer: Transfer = Field(description="see `transfer` below")


class Finance(_Strict):
    """The holder signs a financing request and the financier funds it: cash for value in one transaction, at
    `price = value - value × rate × days / basis` (融资/贴现). Give amount or percent, or neither to sell the whole
    fragment."""

    fragment: Name = Field(description="the fragment sold, whole or in part")
    financier: Name = Field(description="who funds it")
    rate: Rate = Field(description="annual discount rate, quoted: '0.036' or '3.6%' (the same, exactly)")
    amount: Yuan | None = Field(default=None, description="value sold; default: the whole fragment")
    percent: Percent | None = Field(default=None, description="of the fragment's value, instead of amount")
    open_market: bool = Field(default=False, description="the signed request names no financier: any may fund it")
    recourse: bool = Field(
        default=False, description="if the debtor pays late, the financier may claim what is unpaid from the seller"
    )
    day_count: DayCount | None = Field(default=None, description="default: settings.day_count")
    as_: Name | None = Field(
        default=None, alias="as", description="name for the financing and the financier's fragment"
    )

    @model_validator(mode="after")
    def _at_most_one_amount(self) -> Finance:
        if self.amount is not None and self.percent is not None:
            raise PydanticCustomError("finance_amount", "give amount or percent, not both (neither: all of it)")
        return self


class FinanceStep(_Step):
    finance: Finance = Field(description="see `finance` below")


class Freeze(_Strict):
    """The operator freezes a fragment (a dispute, a court order): its value cannot move and settlement skips
    it until it is unfrozen."""

    fragment: Name = Field(description="the fragment frozen")
    reason: Text | None = Field(default=None, description="why, recorded with the freeze")


class FreezeStep(_Step):
    freeze: Annotated[Freeze, _keyed("fragment")] = Field(
        description="a fragment's name, or the mapping below (`freeze: f1` is `freeze: {fragment: f1}`)"
    )


class UnfreezeStep(_Step):
    unfreeze: Name = Field(description="a frozen fragment: it may move again and is paid at the next settlement")


class Advance(_Strict):
    """Move the chain's clock forward (a development chain only). Give either days or to_maturity_of."""

    days: int | None = Field(default=None, ge=1, le=3650, description="this many days (or to_maturity_of)")
    to_maturity_of: Name | None = Field(default=None, description="a receivable: move the clock to its maturity")
    plus_days: int = Field(default=0, ge=0, le=3650, description="with to_maturity_of: this many days after it")

    @model_validator(mode="after")
    def _one_target(self) -> Advance:
        if (self.days is None) == (self.to_maturity_of is None):
            raise PydanticCustomError("advance_target", "give either days or to_maturity_of")
        if self.plus_days and self.to_maturity_of is None:
            raise PydanticCustomError("advance_plus", "plus_days goes with to_maturity_of")
        return self


class AdvanceStep(_Step):
    advance: Advance = Field(description="see `advance` below")


class Repay(_Strict):
    """The debtor pays into the receivable once (到期兑付); with `settle`, every holder's share is pushed to it
    (清分). A partial payment is shared pro rata; what is paid later is shared later. Give amount or percent, or
    neither to pay everything outstanding."""

    receivable: Name = Field(description="the receivable repaid")
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
    repay: Annotated[Repay, _keyed("receivable")] = Field(
        description="a receivable's name (everything outstanding, then settled), or the mapping below"
    )


class SettleStep(_Step):
    settle: Name = Field(description="a matured receivable: push every holder's share of what was repaid")


class MarkOverdueStep(_Step):
    mark_overdue: Name = Field(
        description="a receivable not repaid in full by maturity plus settings.grace_period_days: mark it overdue"
    )


class ClaimRecourseStep(_Step):
    claim_recourse: Name = Field(
        description="a financing's name (its `as`) made with recourse, on an overdue receivable: the financier "
        "claims what is unpaid from the seller"
    )


class SettleRecourseStep(_Step):
    settle_recourse: Name = Field(
        description="a financing whose recourse was claimed: the seller pays what is due and the desk takes the "
        "fragment back"
    )


STEP_MODELS: dict[str, type[_Step]] = {
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
VERBS = tuple(STEP_MODELS)


class _BadStep(_Step):
    """Stands in for a step whose verb cannot be told, so that the error says why precisely."""

    @model_validator(mode="before")
    @classmethod
    def _explain(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise PydanticCustomError("step_shape", "a step is a mapping such as `accept: r1`")
        keys = [k for k in value if k != "note"]
        verbs = [k for k in keys if k in STEP_MODELS]
        if len(verbs) > 1:
            raise PydanticCustomError("step_verbs", "one verb per step, got {verbs}", {"verbs": ", ".join(verbs)})
        unknown = next((str(k) for k in keys if k not in STEP_MODELS), None)
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
        if len(keys) == 1 and keys[0] in STEP_MODELS:
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
    return next(verb for verb, model in STEP_MODELS.items() if isinstance(step, model))


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
    """The generated chain's core enterprise."""

    name: Name = Field(default="Core Enterprise", description="its name")
    cash: Yuan | None = Field(default=None, description="default: the total face value (enough to repay everything)")


class GeneratedFinancier(_Strict):
    """A financier of the generated chain."""

    name: Name = Field(description="its name")
    rate: RateRange = Field(description="the rates it finances at, drawn in whole basis points")
    cash: Yuan | None = Field(default=None, description="default: the total face value")


class Generator(_Strict):
    """A random supply chain: `suppliers_per_tier[0]` tier-1 suppliers, each confirmed `receivables_per_tier1`
    receivables; every holder pays part of what it received to suppliers of the next tier (each of them paid at
    least once); then fragments are financed at random; then every receivable is repaid at maturity. Give
    financing_probability or financings, not both, and core or cores."""

    core: GeneratedCore = Field(default=GeneratedCore(), description="see `generate.core` below")
    cores: list[GeneratedCore] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="several core enterprises instead of `core` (1 to 20): tier-1 suppliers are shared out among "
        "them in turn, each confirming its own suppliers' receivables",
    )
    financiers: list[GeneratedFinancier] = Field(
        min_length=1, max_length=20, description="1 to 20; see `generate.financiers[]` below"
    )
    suppliers_per_tier: list[Annotated[int, Field(ge=1, le=100_000)]] = Field(
        min_length=1, max_length=8, description="how many suppliers in tier 1, tier 2, ... (1 to 8 tiers)"
    )
    receivables_per_tier1: int = Field(default=1, ge=1, le=100, description="confirmed to each tier-1 supplier")
    face: YuanRange = Field(description="face values, drawn in whole thousands of yuan")
    tenor_days: DayRange = Field(description="tenors in days")
    fan_out: CountRange = Field(default=(2, 5), description="how many suppliers of the next tier each holder pays")
    pay_share: PercentRange = Field(default=(Decimal(40), Decimal(80)), description="of a fragment paid down")
    payments_per_holder: int = Field(default=1, ge=1, le=10, description="purchase orders each holder pays in")
    financing_probability: Probability | None = Field(
        default=None, description="each fragment of more than ¥100 is financed with this probability"
    )
    financings: int | None = Field(default=None, ge=0, le=1_000_000, description="exact count; overrides probability")
    financed_share: PercentRange = Field(default=(Decimal(50), Decimal(100)), description="of a fragment sold")
    recourse_probability: Probability = Field(default=Decimal(0), description="a financing is with recourse")
    repayment: Literal["on_time", "partial_then_late"] = Field(
        default="on_time",
        description="`partial_then_late`: 60% at maturity, overdue, recourse claimed, the rest ten days later",
    )

    @model_validator(mode="after")
    def _one_financing_rule(self) -> Generator:
        if self.financing_probability is not None and self.financings is not None:
            raise PydanticCustomError("financing_rule", "give financing_probability or financings, not both")
        return self

    @model_validator(mode="after")
    def _core_or_cores(self) -> Generator:
        if self.cores is not None and "core" in self.model_fields_set:
            raise PydanticCustomError("core_rule", "give core or cores, not both")
        names = [c.name for c in self.debtors]
        if len(set(names)) != len(names):
            raise PydanticCustomError("core_rule", "two cores have the same name")
        both = sorted(set(names) & {f.name for f in self.financiers})
        if both:
            raise PydanticCustomError("core_rule", "{name} is named as a core and as a financier", {"name": both[0]})
        return self

    @property
    def debtors(self) -> list[GeneratedCore]:
        """The core enterprises: `cores`, or the one `core`."""
        return self.cores if self.cores is not None else [self.core]


# ---------------------------------------------------------------------------------------------- the file


class Settings(_Strict):
    """How the chain is set up and how financing is priced."""

    day_count: DayCount = Field(
        default=DayCount.ACT_360, description="the day basis of the discount (ACT/360 as for Chinese bills)"
    )
    tenor_cap_days: int = Field(default=365, ge=1, le=3650, description="the chain's longest tenor (set at deployment)")
    grace_period_days: int = Field(default=3, ge=0, le=365, description="after maturity, before overdue may be marked")
    seed: int = Field(default=0, ge=0, description="for `generate` (the command line's --seed overrides it)")


class Scenario(_Strict):
    """A scenario file: who takes part, what is confirmed at the start, and what happens, step by step. It needs
    receivables, or a generate section. Unknown keys are refused everywhere (a misspelt key would otherwise be
    ignored), and so is a key given twice."""

    name: Text = Field(description="shown in the report")
    description: str = Field(default="", description="what the scenario shows, shown in the report")
    settings: Settings = Field(default=Settings(), description="see `settings` below")
    members: list[Member] = Field(default=[], description="see `members[]` below")
    receivables: list[Receivable] = Field(default=[], description="confirmed at the start; see `receivables[]`")
    generate: Generator | None = Field(
        default=None, description="a random supply chain written after the file's own; see `generate` below"
    )
    steps: list[Step] = Field(default=[], description="in order; each is one verb, see `steps[]` below")

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
