"""`python -m chain_client.scenario FILE [--rpc URL] [--quiet] [--report OUT.html] [--json OUT.json] [--seed N]`"""

import sys

from chain_client.scenario.cli import main

sys.exit(main(prog="python -m chain_client.scenario"))
