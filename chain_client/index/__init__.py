"""The event index: every event of a deployment in SQLite, and the questions asked of it answered there.

    index = EventIndex("scf-index.sqlite")            # or ":memory:"
    Indexer(index, w3, contracts).sync()              # incremental: from the last indexed block on
    index.holdings(address)                           # fragments held, with debtor, maturity, tier, state
    index.path_to_root(token_id)                      # each hop back to the confirmed receivable
    index.tree(slot)                                  # the whole split tree (穿透式追溯)
    index.receivables(debtor=..., state=..., min_value=...)
    index.tier_totals(slot)                           # how much value reached tier 1, 2, 3, ...
    index.financings(financier=...)                   # what financiers bought through the FinancingDesk
    reconcile(index, scf)                             # every difference between the index and the chain

Events are the source: every log of the deployment's contracts is stored in `events`, keyed by its place in
the chain and decoded with its contract's ABI; the other tables are a projection that applying the stored
events in chain order yields.

What lives where (each module has one reason to change):

- `schema`: the tables, their version, and how token ids and slots are written into them;
- `results`: the records the queries return (`Holding`, `Hop`, `FragmentInfo`, `ReceivableTree`, ...);
- `store`: `EventIndex`, the SQLite file and its queries; the only holder of the connection;
- `decoding`: logs into `Event`s with the contracts' ABIs;
- `projection`: events into the projected tables, one `@handles(contract, event)` function each; rebuilding;
- `sync`: `Indexer`, reading the chain in block ranges, confirmations, repair after lost rows or a reorg;
- `reconcile`: `reconcile`, every difference between the index and the chain.
"""

from chain_client.index.decoding import Event
from chain_client.index.projection import HANDLERS, Handler, Projector, handled_events, handles
from chain_client.index.reconcile import Difference, reconcile
from chain_client.index.results import (
    Financing,
    FragmentInfo,
    FragmentNode,
    Holding,
    Hop,
    Member,
    ReceivableRow,
    ReceivableTree,
    TierTotal,
)
from chain_client.index.store import EventIndex, IndexMismatch
from chain_client.index.sync import Indexer, SyncReport

__all__ = [
    "HANDLERS",
    "Difference",
    "Event",
    "EventIndex",
    "Financing",
    "FragmentInfo",
    "FragmentNode",
    "Handler",
    "Holding",
    "Hop",
    "IndexMismatch",
    "Indexer",
    "Member",
    "Projector",
    "ReceivableRow",
    "ReceivableTree",
    "SyncReport",
    "TierTotal",
    "handled_events",
    "handles",
    "reconcile",
]
