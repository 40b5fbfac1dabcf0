"""Moved to the package `chain_client.index` (this module goes once every importer uses the package)."""

from chain_client.index import *  # noqa: F403
from chain_client.index import __all__  # noqa: F401
