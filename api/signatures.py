"""EIP-712 financing requests, checked off chain: the digest the desk signs over and who signed it.

The API refuses a bad signature when the request is submitted, instead of when a financier pays gas to
fund it. The digest is the desk's `requestHash` (a test checks it against the contract)."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils.crypto import keccak

from chain_client.exceptions import ChainError
from chain_client.financing import FINANCING_REQUEST_TYPES, FinancingDesk, FinancingRequest


class BadSignature(ChainError, ValueError):
    """The signature does not recover to any address."""


def _signable(desk: FinancingDesk, request: FinancingRequest) -> SignableMessage:
    return encode_typed_data(desk.domain(), FINANCING_REQUEST_TYPES, request.as_message())


def request_hash(desk: FinancingDesk, request: FinancingRequest) -> str:
    """The EIP-712 digest of `request` for this desk: 0x-hex, as the desk's `Financed` event names it."""
    signable = _signable(desk, request)
    return "0x" + keccak(b"\x19" + signable.version + signable.header + signable.body).hex()


def signer_of(desk: FinancingDesk, request: FinancingRequest, signature: bytes) -> str:
    """The account that signed `request` (checksummed)."""
    try:
        return str(Account.recover_message(_signable(desk, request), signature=signature))
    except Exception as exc:  # eth-keys raises several types for an unrecoverable signature
        raise BadSignature(str(exc)) from None
