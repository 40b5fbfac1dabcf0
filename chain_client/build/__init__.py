"""Build-time tools: compile the Solidity sources into committed artifacts.

Nothing here is imported when the client runs; running the client needs no compiler.
"""
