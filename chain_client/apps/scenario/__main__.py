"""`python -m chain_client.apps.scenario FILE [--rpc URL] [--quiet] [--report OUT.html] [--json OUT.json] [--seed N]`"""

import sys

from chain_client.apps.scenario.cli import main

sys.exit(main(prog="python -m chain_client.apps.scenario"))
