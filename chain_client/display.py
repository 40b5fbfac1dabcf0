"""How values and mistakes are shown to a person at a terminal, the same in every program on the library (`scf`,
`scf serve`, the scripts): a receivable's short id, a bad argument in one line."""

from __future__ import annotations

import argparse
from typing import NoReturn


def short_slot(slot: int) -> str:
    """A receivable's id as every terminal view shows it: 0x-hex, the first 12 of its 56 digits."""
    return f"{slot:#058x}"[:14] + "…"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (not usage plus message): `scf`, `scf serve`, `scf scenario`."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")
