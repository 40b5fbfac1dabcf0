"""Scripted multi-tier supply chains: a YAML scenario language, a dry run that checks it before anything is
sent, a runner with progress and a journal, invariant checks and reports (terminal, JSON, HTML with SVG trees).

    from chain_client.apps.scenario import RunOptions, main, run_scenario
    main(["scripts/scenarios/hubei_auto.yaml", "--report", "hubei.html"])      # what `scf scenario` calls
    outcome = run_scenario("scripts/scenarios/hubei_auto.yaml")               # the same, as a library

Files: models.py (the schema), loader.py (YAML, messages), generate.py (random chains), world.py + plan.py (the
dry run), ops.py (operations), executor.py + runner.py + journal.py (sending), ledger.py (the chain's record),
checks.py (invariants), summary.py (numbers), report.py / html.py / svg.py (layout), session.py, cli.py.
"""

from chain_client.apps.scenario.cli import main
from chain_client.apps.scenario.loader import ScenarioError
from chain_client.apps.scenario.runner import StepFailed
from chain_client.apps.scenario.session import Outcome, RunOptions, run_scenario

__all__ = ["Outcome", "RunOptions", "ScenarioError", "StepFailed", "main", "run_scenario"]
