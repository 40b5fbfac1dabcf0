"""Applications on top of the library: the `scf` command (`cli.py`) and the scenario engine (`scenario/`).

The layers, each importing only the ones below it (tests/test_layers.py checks this):
  api/                     the HTTP API, an application of its own
  chain_client/apps/       these applications
  chain_client/            the library: chain, transactions, clients, rules, ids, money, the event index
A program that only needs the library (an ERP integration, a bank's script) imports `chain_client` and never
loads these modules, FastAPI or the scenario engine.
"""
