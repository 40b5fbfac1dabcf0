"""What a bank's integration does with the lender API, over real HTTP.

    python scripts/lender_demo.py --api http://127.0.0.1:8000 --key BANK_KEY [--operator-key OPERATOR_KEY]

Lists the open financing requests, quotes them at the bank's own rate, funds three (each with an
Idempotency-Key, and one call repeated to show that a retry sends nothing twice), shows the portfolio. On a
development chain, with the operator's key, it then moves the clock to maturity, has the debtor repay,
redeems every financed fragment and prints the realised yields.

Shown as `scf` shows them: a receivable as 0x-hex (`0x5d3a8b9c12ab…`), a fragment as receivable#sequence,
amounts as ¥1,234.50 and times as UTC dates.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from chain_client.display import short_slot
from chain_client.exceptions import ChainError
from chain_client.ids import sequence_of, slot_of
from chain_client.interrupt import EXIT_INTERRUPTED, exit_with
from chain_client.money import format_yuan

DAY = 86_400


class ApiFailure(ChainError):
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        super().__init__(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )


def call(http: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    response = http.request(method, path, **kwargs)
    if response.status_code >= 400:
        raise ApiFailure(response)
    return response.json()


def pct(rate: str | None) -> str:
    return "-" if rate is None else f"{Decimal(rate) * 100:.3f}%"


def as_id(value: str | int) -> int:
    """An id from the API: a string (JSON numbers would lose digits in JavaScript), decimal or 0x-hex."""
    if isinstance(value, int):
        return value
    return int(value, 16) if value.lower().startswith("0x") else int(value)


def receivable(slot: str | int) -> str:
    """A receivable as `scf` shows it: 0x-hex, shortened."""
    return short_slot(as_id(slot))


def fragment(token_id: str | int) -> str:
    """A fragment as `scf` shows it: its receivable, then #sequence (`scf path` takes the full form)."""
    tid = as_id(token_id)
    return f"{short_slot(slot_of(tid))}#{sequence_of(tid)}"


def day(ts: int | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def when(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def show_market(console: Console, requests: list[dict[str, Any]], me: str) -> None:
    table = Table(title=f"Open financing requests ({len(requests)})")
    for column in ("id", "fragment", "value", "price", "matures", "days", "implied rate", "recourse", "for"):
        table.add_column(column, justify="right" if column in ("value", "price", "days") else "left")
    for r in requests:
        table.add_row(
            str(r["id"]),
            fragment(r["token_id"]),
            format_yuan(r["value"]),
            format_yuan(r["price"]),
            day(r["maturity"]),
            str(r["days"]),
            pct(r["implied_rate"]),
            "yes" if r["recourse"] else "no",
            "any bank" if r["financier"] is None else "us" if r["financier"] == me else r["financier"][:10] + "…",
        )
    console.print(table)


def show_portfolio(console: Console, title: str, positions: list[dict[str, Any]]) -> None:
    table = Table(title=title)
    columns = ("fragment", "state", "cost", "face", "repaid", "matures", "days", "expected yield", "realised yield")
    for column in columns:
        table.add_column(column, justify="left" if column in ("fragment", "state", "matures") else "right")
    for p in positions:
        table.add_row(
            fragment(p["financed_token_id"]),
            p["state"],
            format_yuan(p["cost"]),
            format_yuan(p["face_value"]),
            format_yuan(p["repaid"]),
            day(p["maturity"]),
            str(p["days"]),
            pct(p["expected_yield"]),
            pct(p["realised_yield"]),
        )
    console.print(table)


def fund_some(
    console: Console, http: httpx.Client, me: dict[str, Any], market: list[dict[str, Any]], count: int, rate: str
) -> list[str]:
    """Quote and fund the `count` best-paying requests this bank may fund; returns the financed token ids."""
    mine = [r for r in market if r["financier"] in (None, me["address"])]
    mine.sort(key=lambda r: Decimal(r["implied_rate"] or 0), reverse=True)
    financed: list[str] = []
    for r in mine[:count]:
        q = call(http, "POST", "/quotes", json={"token_id": r["token_id"], "value": r["value"], "annual_rate": rate})
        console.print(
            f"request {r['id']}: {format_yuan(r['value'])} due in {q['days']} days; at {pct(rate)} we would pay "
            f"{format_yuan(q['price'])}, the holder asks {format_yuan(r['price'])} ({pct(r['implied_rate'])})"
        )
        key = str(uuid.uuid4())
        body = {"price": r["price"]}  # refuse to fund if the request's price is not what we saw
        funded = call(http, "POST", f"/financing-requests/{r['id']}/fund", json=body, headers={"Idempotency-Key": key})
        tx = funded["funding"]["tx_hash"]
        console.print(f"  funded in block {funded['funding']['block_number']} (tx {tx[:18]}…)")
        if not financed:  # a network retry of the same call: answered from the store, nothing sent again
            again = http.post(f"/financing-requests/{r['id']}/fund", json=body, headers={"Idempotency-Key": key})
            replayed = again.headers.get("Idempotent-Replayed") == "true" and again.json() == funded
            console.print(f"  retried with the same Idempotency-Key: {again.status_code}, replayed={replayed}")
            if not replayed:
                raise ApiFailure(again)
        financed.append(funded["funding"]["financed_token_id"])
    return financed


def run_to_maturity(console: Console, http: httpx.Client, operator: httpx.Client, financed: list[str]) -> None:
    positions = [p for p in call(http, "GET", "/portfolio")["data"] if p["financed_token_id"] in financed]
    chain_time = call(http, "GET", "/health")["chain_time"]
    latest = max(p["maturity"] for p in positions)
    if latest > chain_time:
        moved = call(operator, "POST", "/dev/advance-time", json={"seconds": latest - chain_time})
        console.print(
            f"development chain: clock moved {(latest - chain_time) / DAY:.1f} days, from {when(chain_time)} "
            f"to maturity, {when(moved['chain_time'])}"
        )
    for slot in sorted({p["slot"] for p in positions}, key=as_id):
        response = operator.post(f"/dev/repay/{slot}")
        if response.status_code == 409 and response.json().get("error") == "NothingOutstanding":
            continue  # repaid already (an earlier run)
        if response.status_code >= 400:
            raise ApiFailure(response)
        console.print(f"debtor repaid {format_yuan(response.json()['paid'])} on receivable {receivable(slot)}")
    for token_id in financed:
        redeemed = call(http, "POST", f"/fragments/{token_id}/redeem")
        console.print(
            f"redeemed {fragment(token_id)}: {format_yuan(redeemed['paid'])} paid, burned={redeemed['burned']}, "
            f"exposure released={redeemed['exposure_released']}"
        )
    settled = [p for p in call(http, "GET", "/portfolio")["data"] if p["financed_token_id"] in financed]
    show_portfolio(console, "Realised yields (ACT/365)", settled)
    for p in settled:
        console.print(f"realised yield {fragment(p['financed_token_id'])}: {pct(p['realised_yield'])}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--api", required=True, help="the API's base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--key", required=True, help="the bank's API key")
    parser.add_argument("--operator-key", help="the operator's API key: run to maturity on a development chain")
    parser.add_argument("--count", type=int, default=3, help="how many requests to fund (default 3)")
    parser.add_argument("--rate", default="0.040", help="the bank's own annual rate for quotes (default 0.040)")
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 160, highlight=False)

    def client(key: str) -> httpx.Client:
        return httpx.Client(base_url=args.api, headers={"Authorization": f"Bearer {key}"}, timeout=120)

    try:
        with client(args.key) as http:
            health = call(http, "GET", "/health")
            me = call(http, "GET", "/me")
            console.print(f"{me['name']} ({me['address']}), cash {format_yuan(me['cash'])}; chain {health['chain_id']}")
            market = call(http, "GET", "/financing-requests", params={"status": "open", "limit": 500})["data"]
            show_market(console, market, me["address"])
            financed = fund_some(console, http, me, market, args.count, args.rate)
            if not financed:
                console.print("nothing this bank may fund is open")
                return 1
            positions = [p for p in call(http, "GET", "/portfolio")["data"] if p["financed_token_id"] in financed]
            show_portfolio(console, "Portfolio: funded just now", positions)
            if not health["development"] or not args.operator_key:
                console.print("not a development chain (or no --operator-key): stopping before maturity")
                return 0
            with client(args.operator_key) as operator:
                run_to_maturity(console, http, operator, financed)
    except ApiFailure as exc:
        console.print(f"[red]API refused:[/red] {exc}")
        return 1
    except httpx.HTTPError as exc:
        console.print(f"[red]cannot reach the API at {args.api}:[/red] {exc}")
        return 1
    return 0


def _run_alone() -> int:
    try:
        return main()
    except KeyboardInterrupt:  # here, not in main(): `make demo` calls main() and handles Ctrl-C itself
        print("lender demo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    exit_with(_run_alone())
