import sys

from chain_client.build.compiler import main

raise SystemExit(main(sys.argv[1:]))
