"""The lender HTTP API (FastAPI) over `chain_client`: `create_app(context)`; `python -m api` serves it."""
