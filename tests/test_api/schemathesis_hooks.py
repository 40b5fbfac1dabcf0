"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by test_schemathesis.py): the string formats of the
API's schema that a regular expression cannot say. An `eth-address` in mixed case must carry its EIP-55
checksum; generated ones do, so a schema-valid request is a valid one."""

from __future__ import annotations

from typing import Any

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


# An upload's type is read from its bytes (`api.documents`: a PDF, PNG, JPEG or XML file by its first bytes),
# and an empty file is refused: no JSON Schema can say "starts with %PDF-", so schema-valid random bytes are
# refused by design. Those named refusals are the documented answers (415, 422), not violations.
DOCUMENT_REFUSALS = frozenset({"EmptyDocument", "UnsupportedDocumentType"})


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    if case.operation.path != "/documents" or case.method.upper() != "POST" or response.status_code not in (415, 422):
        return True
    try:
        error = response.json().get("error")
    except ValueError:
        return True
    return error not in DOCUMENT_REFUSALS
