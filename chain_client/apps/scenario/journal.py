"""The journal of a run against a node: which chain, which deployment, which scenario, how far it got.

Running the same command again resumes where the journal says the run stopped, without repeating a step: the
plan is rebuilt from the same start time and seed, so every operation and token id is the same again; the steps
the journal records as done are skipped, and in the one step that may have been under way, each operation first
asks the chain whether it already happened (a nonce used, a fragment minted, a repayment recorded). A finished
run sends nothing and reports again.

A journal written for another chain (chain id and genesis block), for a deployment that is gone (the node was
restarted), for a different scenario text or seed, or by another operator key is refused with a message saying
so; nothing is sent.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError
from web3 import Web3

from chain_client.exceptions import ChainError


class JournalRefused(ChainError):
    """The journal does not belong to this chain, deployment or scenario."""


class JournalData(BaseModel):
    format: Literal[1] = 1
    scenario: str
    scenario_sha256: str
    seed: int
    chain_id: int
    genesis_hash: str
    run_id: str  # with the operator's key, it derives the members' keys (accounts.py)
    operator: str
    t0: int
    start_block: int
    steps_total: int
    steps_done: int = 0  # steps finished; step 0 is the set-up
    # Pipelined sending: steps up to this one may have been under way when the run stopped (a window of
    # transactions spans several steps): on resuming, each of their operations asks the chain first.
    in_flight_to: int | None = None
    deployment: dict[str, str] | None = None
    deployed_block: int | None = None  # the last block of the deployment: the run's own transactions come after it

    @property
    def finished(self) -> bool:
        return self.steps_done >= self.steps_total


def chain_identity(w3: Web3) -> tuple[int, str]:
    return int(w3.eth.chain_id), Web3.to_hex(w3.eth.get_block(0)["hash"])


class Journal:
    """A journal file (or, with `path` None, the same bookkeeping kept in memory only)."""

    def __init__(self, path: Path | None, data: JournalData) -> None:
        self.path = path
        self.data = data

    @classmethod
    def start(
        cls,
        path: Path | None,
        w3: Web3,
        *,
        scenario: str,
        sha256: str,
        seed: int,
        steps: int,
        t0: int,
        operator: str,
    ) -> Journal:
        chain_id, genesis = chain_identity(w3)
        data = JournalData(
            scenario=scenario,
            scenario_sha256=sha256,
            seed=seed,
            chain_id=chain_id,
            genesis_hash=genesis,
            run_id=secrets.token_hex(8),
            operator=operator,
            t0=t0,
            start_block=int(w3.eth.block_number) + 1,
            steps_total=steps,
        )
        journal = cls(path, data)
        journal.save()
        return journal

    @classmethod
    def resume(cls, path: Path, w3: Web3, *, sha256: str, seed: int, operator: str) -> Journal | None:
        """The journal at `path` if there is one, checked against the chain and the scenario."""
        if not path.exists():
            return None
        try:
            data = JournalData.model_validate(json.loads(path.read_text()))
        except (OSError, ValueError, ValidationError) as exc:
            raise JournalRefused(f"{path} is not a scenario journal ({type(exc).__name__}); move it away") from None
        chain_id, genesis = chain_identity(w3)
        again = f"move {path} away (or give --journal NEW) to run the scenario afresh"
        if (data.chain_id, data.genesis_hash) != (chain_id, genesis):
            raise JournalRefused(f"{path} records a run on another chain (chain id {data.chain_id}); {again}")
        if data.scenario_sha256 != sha256 or data.seed != seed:
            raise JournalRefused(
                f"{path} records a run of another version of {data.scenario} (the file or the seed changed since); "
                f"its steps would not line up: {again}"
            )
        if data.operator != operator:
            raise JournalRefused(
                f"{path} records a run by operator {data.operator}; this key is {operator}'s, and the members' keys "
                f"derive from it: use the same key, or {again}"
            )
        gone = [n for n, a in (data.deployment or {}).items() if not w3.eth.get_code(Web3.to_checksum_address(a))]
        if gone:
            raise JournalRefused(f"{path}: the deployment it records is not on this chain ({gone[0]}); {again}")
        return cls(path, data)

    def deployed(self, addresses: dict[str, str], block: int | None = None) -> None:
        self.data = self.data.model_copy(update={"deployment": addresses, "deployed_block": block})
        self.save()

    def step_done(self, number: int) -> None:
        self.data = self.data.model_copy(update={"steps_done": number + 1})
        self.save()

    def in_flight(self, number: int | None) -> None:
        """Steps up to `number` are about to be under way (None: nothing beyond `steps_done`)."""
        if self.data.in_flight_to != number:
            self.data = self.data.model_copy(update={"in_flight_to": number})
            self.save()

    def save(self) -> None:
        """Write atomically: a crash leaves the old journal or the new one, never half of one."""
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w") as out:
            out.write(self.data.model_dump_json(indent=2) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
