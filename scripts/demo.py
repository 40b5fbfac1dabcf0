"""`make demo`: the whole platform in one run, on one embedded chain.

1. `scripts/scenarios/hubei_auto.yaml`: a carmaker confirms receivables to 3 tier-1 suppliers, who pay 12
   tier-2, who pay 40 tier-3; two banks finance pieces; the carmaker repays at maturity and every holder is
   paid. The summary is printed and the HTML report (one credit tree per receivable) is written.
2. On the same embedded chain, a second and smaller supply chain of its own (another core enterprise, six
   suppliers, two other banks: not the scenario's members) is seeded; its holders put signed financing requests
   on the market, and the lender API starts on a local port over it.
3. A bank's integration (`scripts/lender_demo.py`) talks to the API over real HTTP: it lists the open
   requests, quotes, funds three, moves the chain to maturity, has the debtor repay and redeems.

Ctrl-C stops it with one line and exit code 130.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from chain_client.interrupt import EXIT_INTERRUPTED, exit_with

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scenario", type=Path, default=ROOT / "scripts" / "scenarios" / "hubei_auto.yaml")
    parser.add_argument("--report", type=Path, default=Path("demo-report.html"), help="where the HTML report goes")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:  # Ctrl-C: one line, not a hundred lines of traceback through the chain and the API
        print("demo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def run(args: argparse.Namespace) -> int:
    # Imported here, inside the Ctrl-C guard: loading web3, py-evm and the web stack takes seconds.
    import uvicorn
    from rich.console import Console

    from api.context import ApiContext, Members
    from api.main import create_app
    from api.seed import seed_demo, submit_requests
    from api.store import RequestStore
    from chain_client.apps.scenario.html import write_html
    from chain_client.apps.scenario.report import print_summary
    from chain_client.apps.scenario.session import RunOptions, run_scenario
    from chain_client.index import EventIndex
    from scripts import lender_demo

    out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    started = time.perf_counter()

    out.rule(f"1. Scenario {args.scenario.name}")
    outcome = run_scenario(args.scenario, RunOptions(), console=Console(stderr=True))
    print_summary(out, outcome.summary)
    write_html(outcome.summary, args.report)
    if not outcome.summary.passed:
        out.print("[red]an invariant failed: stopping[/red]")
        return 1

    out.rule("2. The lender API, on the same embedded chain, over a supply chain of its own")
    scf, operator = outcome.scf, outcome.accounts.operator
    start_block = scf.w3.eth.block_number + 1  # the API indexes the lender market, not the whole scenario
    demo = seed_demo(scf, operator)
    banks = " and ".join(b.name for b in demo.banks)
    out.print(
        f"seeded beside the scenario: {demo.core.name} owes {len(demo.suppliers)} suppliers in three tiers; "
        f"{banks} lend (not the scenario's members)",
        markup=False,
    )
    index = EventIndex(":memory:")
    demo.label(index)
    with tempfile.TemporaryDirectory(prefix="scf-demo-") as tmp:
        store = RequestStore(Path(tmp) / "api.sqlite")
        context = ApiContext(scf, index, store, Members(demo.members()), start_block=start_block)
        submitted = submit_requests(context, demo)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, name="lender-api", daemon=True)
        thread.start()
        while not server.started and thread.is_alive():
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        out.print(f"{len(submitted)} signed financing requests open; API at {url} (OpenAPI: {url}/docs)")

        out.rule("3. A bank's integration, over HTTP")
        try:
            code = lender_demo.main(
                ["--api", url, "--key", demo.banks[0].api_key, "--operator-key", demo.operator.api_key]
            )
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            context.close()

    out.rule("Done")
    # The path on a line of its own, never folded by rich: it is what a user copies into a browser.
    out.print("report (open it in a browser: one credit tree per receivable):")
    out.print(f"  {args.report.resolve()}", markup=False, soft_wrap=True)
    out.print(f"{time.perf_counter() - started:.1f} s in all, on the embedded chain")
    return code


if __name__ == "__main__":
    exit_with(main())
