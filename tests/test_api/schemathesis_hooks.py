"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by test_schemathesis.py): the string formats of the
API's schema that a regular expression cannot say. An `eth-address` in mixed case must carry its EIP-55
checksum; generated ones do, so a schema-valid request is a valid one."""

from __future__ import annotations

import schemathesis
from eth_utils.address import to_checksum_address
from hypothesis import strategies as st

schemathesis.openapi.format(
    "eth-address",
    st.one_of(
        st.binary(min_size=20, max_size=20).map(to_checksum_address),
        st.binary(min_size=20, max_size=20).map(lambda raw: "0x" + raw.hex()),
    ),
)
