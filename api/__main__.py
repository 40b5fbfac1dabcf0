"""`python -m api`: serve the lender API (see `api.serve`)."""

from __future__ import annotations

import sys

from api.serve import main

sys.exit(main(prog="python -m api"))
