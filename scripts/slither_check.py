"""Fail the build on a Slither finding nobody has looked at.

Reads the JSON that `make slither` writes (Slither's detectors and two `slither-check-erc` runs) and the
committed triage file `contracts/slither-triage.json`. Every High or Medium detector result and every ERC
conformance failure must be listed there with a reason; anything else fails. Findings are identified by
detector and a stable element name (`Contract.function(signature)`, `Contract.function(signature).local`,
`Contract`), never by line numbers, so an edit elsewhere in a file does not invalidate the triage.

    python scripts/slither_check.py              # the paths `make slither` uses
    python scripts/slither_check.py --suggest    # also print triage entries to fill in for new findings

Standard library only: it runs under either virtual environment.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".slither"
DEFAULT_TRIAGE = ROOT / "contracts" / "slither-triage.json"
DEFAULT_ERC = [OUT / "erc-ERC20.json", OUT / "erc-ERC721.json"]
GATED_IMPACTS = ("High", "Medium")
IMPACT_ORDER = ("High", "Medium", "Low", "Informational", "Optimization")


@dataclass(frozen=True)
class Finding:
    detector: str  # Slither's check name, or `erc20:<kind>` / `erc721:<kind>` for conformance
    element: str  # stable identity, e.g. `ReceivableToken.split(uint256,address[],uint256[],bytes32).total`
    impact: str
    where: str  # file#lines, for humans only (not part of the key)
    text: str

    @property
    def key(self) -> str:
        return f"{self.detector}:{self.element}"


def element_id(element: dict[str, Any]) -> str:
    """`Contract`, `Contract.fn(sig)`, `Contract.fn(sig).local`, `Contract.member`: no line numbers."""
    kind = element.get("type", "")
    name = str(element.get("name", ""))
    fields = element.get("type_specific_fields") or {}
    parent = fields.get("parent")
    if kind == "function":
        own = str(fields.get("signature", name))
        return f"{element_id(parent)}.{own}" if parent else own
    if kind == "node":
        # A statement: identify it by its function and its normalised source text.
        base = element_id(parent) if parent else "?"
        return f"{base} `{' '.join(name.split())}`"
    if parent:
        return f"{element_id(parent)}.{name}"
    return name


def _where(element: dict[str, Any]) -> str:
    mapping = element.get("source_mapping") or {}
    lines = mapping.get("lines") or []
    span = f"#{lines[0]}" + (f"-{lines[-1]}" if len(lines) > 1 else "") if lines else ""
    return f"{mapping.get('filename_relative', '?')}{span}"


def _first_line(text: str) -> str:
    """The description's first line; when it only introduces a list ("Reentrancy in f():"), its first item."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].endswith(":"):
        detail = next((line for line in lines[1:] if line.startswith("- ")), "")
        return f"{lines[0]} {detail}".strip()
    return lines[0]


def load_detectors(path: Path) -> list[Finding]:
    data = json.loads(path.read_text())
    if not data.get("success"):
        raise SystemExit(f"slither: the analysis failed ({path}): {data.get('error')}")
    findings = []
    for result in (data.get("results") or {}).get("detectors", []):
        elements = result.get("elements") or [{}]
        first = elements[0]
        findings.append(
            Finding(
                detector=result["check"],
                element=element_id(first),
                impact=result["impact"],
                where=_where(first),
                text=_first_line(result.get("description", "")),
            )
        )
    return findings


def load_erc(path: Path) -> tuple[list[Finding], list[Finding]]:
    """(conformance failures, optional features that are absent) from one `slither-check-erc --json` file."""
    data = json.loads(path.read_text())
    if not data.get("success"):
        raise SystemExit(f"slither-check-erc: the check failed ({path}): {data.get('error')}")
    erc = path.stem.removeprefix("erc-").lower()
    failures: list[Finding] = []
    optional: list[Finding] = []
    for kind, results in ((data.get("results") or {}).get("erc-conformance") or {}).items():
        for result in results:
            elements = result.get("elements") or [{}]
            extra = {k: v for k, v in (result.get("additional_fields") or {}).items() if k != "required"}
            detail = " ".join(str(v) for _, v in sorted(extra.items()))
            finding = Finding(
                detector=f"{erc}:{kind}",
                element=element_id(elements[0]) + (f" {detail}" if detail else ""),
                impact="ERC",
                where=_where(elements[0]),
                text=_first_line(result.get("description", "")).removeprefix("[ ] ").strip(),
            )
            if (result.get("additional_fields") or {}).get("required") is False:
                optional.append(finding)
            else:
                failures.append(finding)
    return failures, optional


def load_triage(path: Path) -> dict[str, str]:
    """`detector:element` -> reason. Every entry needs a real reason."""
    data = json.loads(path.read_text())
    triage: dict[str, str] = {}
    problems = []
    for entry in data.get("findings", []):
        key = f"{entry.get('detector', '')}:{entry.get('element', '')}"
        reason = str(entry.get("reason", "")).strip()
        if not entry.get("detector") or not entry.get("element"):
            problems.append(f"entry without detector or element: {entry}")
        elif len(reason) < 20:
            problems.append(f"{key}: give a specific reason (why it is a false positive or accepted)")
        elif key in triage:
            problems.append(f"{key}: listed twice")
        triage[key] = reason
    if problems:
        raise SystemExit(f"{path}:\n  " + "\n  ".join(problems))
    return triage


def check(
    detectors: list[Finding], erc_failures: list[Finding], erc_optional: list[Finding], triage: dict[str, str]
) -> int:
    gated = [f for f in detectors if f.impact in GATED_IMPACTS] + erc_failures
    new = [f for f in gated if f.key not in triage]
    triaged = len(gated) - len(new)
    counts = Counter(f.impact for f in detectors)
    by_impact = ", ".join(f"{counts.get(i, 0)} {i.lower()}" for i in IMPACT_ORDER)
    print(
        f"slither: {by_impact}; gated (high/medium + ERC conformance {len(erc_failures)}): "
        f"{triaged} triaged, {len(new)} new; ERC optional absent: {len(erc_optional)}"
    )
    for f in sorted(new, key=lambda f: (IMPACT_ORDER.index(f.impact) if f.impact in IMPACT_ORDER else -1, f.key)):
        where = "" if f.where.split("#")[0] in f.text else f" ({f.where})"
        print(f"  NEW {f.impact} {f.key}{where}: {f.text}")
    for f in erc_optional:
        print(f"  note: {f.text} ({f.detector}, optional)")
    found = {f.key for f in gated}
    for key in sorted(set(triage) - found):
        print(f"  note: triage entry no longer reported, remove it: {key}")
    if new:
        print(
            "slither: FAILED: fix each NEW finding, or add it to contracts/slither-triage.json with the reason it is "
            "a false positive or accepted (`python scripts/slither_check.py --suggest` prints entries to fill in)"
        )
        return 1
    return 0


def suggest(findings: list[Finding], triage: dict[str, str]) -> None:
    entries = [
        {"detector": f.detector, "element": f.element, "impact": f.impact, "reason": "TODO"}
        for f in findings
        if f.key not in triage
    ]
    if entries:
        print(json.dumps(entries, indent=2, ensure_ascii=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slither", type=Path, default=OUT / "slither.json", help="slither --json output")
    parser.add_argument("--erc", type=Path, action="append", help="slither-check-erc --json output(s)")
    parser.add_argument("--triage", type=Path, default=DEFAULT_TRIAGE)
    parser.add_argument("--suggest", action="store_true", help="print triage entries for untriaged findings")
    args = parser.parse_args(argv)
    detectors = load_detectors(args.slither)
    erc_failures: list[Finding] = []
    erc_optional: list[Finding] = []
    for path in args.erc or DEFAULT_ERC:
        failures, optional = load_erc(path)
        erc_failures += failures
        erc_optional += optional
    triage = load_triage(args.triage)
    status = check(detectors, erc_failures, erc_optional, triage)
    if args.suggest:
        suggest([f for f in detectors if f.impact in GATED_IMPACTS] + erc_failures, triage)
    return status


if __name__ == "__main__":
    sys.exit(main())
