// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {TokenId, TokenIdLib} from "../types/TokenId.sol";

/// @notice Test-only: exposes contracts/types/TokenId.sol, so tests/test_ids.py can check that the Solidity codec
///         and chain_client/ids.py agree on any id, not only on the ids a receivable reaches. Not deployed outside tests.
contract TokenIdHarness {
    function make(uint256 slot, uint256 sequence) external pure returns (uint256) {
        return TokenId.unwrap(TokenIdLib.make(slot, sequence));
    }

    function slotOf(uint256 tokenId) external pure returns (uint256) {
        return TokenId.wrap(tokenId).slot();
    }

    function sequenceOf(uint256 tokenId) external pure returns (uint32) {
        return TokenId.wrap(tokenId).sequence();
    }

    function withSequence(uint256 tokenId, uint32 sequence) external pure returns (uint256) {
        return TokenId.unwrap(TokenId.wrap(tokenId).withSequence(sequence));
    }

    function slotOfHash(bytes32 hash) external pure returns (uint256) {
        return TokenIdLib.slotOfHash(hash);
    }
}
