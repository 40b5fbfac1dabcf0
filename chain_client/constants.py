"""The project's constants, in one place: time, the zero values, and the gas limit sent with each write.

A leaf: imports nothing of the project. Gas limits are measured use (`make gas`, scripts/bench.py gas) plus
headroom for receiver hooks and subscriber pushes; a limit only caps a transaction, it is not what it costs."""

from __future__ import annotations

DAY = 86_400  # seconds
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_HASH = b"\0" * 32

# Membership. Admission and suspension also push the change to each subscribed token (about 30,000 each).
GAS_ADMIT = 250_000
GAS_SUSPEND = 150_000
GAS_RESYNC_PER_ACCOUNT = 40_000
GAS_REMOVE_SUBSCRIBER = 80_000

# SettlementToken (the cash token).
GAS_CASH_TRANSFER = 90_000  # transfer and approve
GAS_MINT = 100_000

# ReceivableToken.
GAS_ISSUE = 250_000
GAS_ACCEPT = 80_000
GAS_SPLIT = 200_000
GAS_SPLIT_BASE = 80_000
GAS_SPLIT_PER_RECIPIENT = 90_000
GAS_MERGE = 150_000
GAS_TOKEN_TRANSFER = 150_000  # a whole fragment, with the receiver hook
GAS_TOKEN_SMALL = 80_000  # one-word writes: approvals, freeze, overdue, the operator's settings
GAS_REPAY = 150_000
GAS_REDEEM = 150_000
GAS_SETTLE_BASE = 60_000
GAS_SETTLE_PER_FRAGMENT = 60_000  # worst case per fragment: burn, events, cash to a holder new to cash

# FinancingDesk.
GAS_FINANCE = 350_000
GAS_DESK_SMALL = 100_000  # cancel a request, exposure limit, claim recourse, the base of a release
GAS_RELEASE_PER_TOKEN = 40_000
GAS_SETTLE_RECOURSE = 300_000
GAS_REDEEM_RECOURSE = 200_000

GAS_DEPLOY = 6_000_000  # each contract
