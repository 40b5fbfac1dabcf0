// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @notice A fragment's token id: `slot << 32 | sequence`. The slot (the receivable) is the top 224 bits and the
///         sequence (the fragment's number within it, 1 for the one issued to the supplier) the low 32, so a
///         fragment's receivable is read from its id with no storage lookup. The external ABI (ERC-721,
///         ERC-3525) stays `uint256`: contracts wrap an id where they take it apart or build one.
///         chain_client/ids.py is the same codec in Python; tests/test_ids.py checks that they agree.
type TokenId is uint256;

using TokenIdLib for TokenId global;

/// @notice Builds and takes apart token ids. Every shift by 32 and every narrowing of an id is here.
library TokenIdLib {
    /// @notice Bits of an id that hold the sequence.
    uint256 internal constant SEQUENCE_BITS = 32;
    /// @notice The highest sequence an id can hold: a receivable has at most this many fragments.
    uint256 internal constant MAX_SEQUENCE = type(uint32).max;

    /// @notice The id of fragment `sequence` of receivable `slot`.
    /// @dev Unchecked, for the hot paths (a split builds one per new fragment). The caller shows that
    ///      `slot < 2^224` (a slot from `slotOfHash` or from a decoded id, or one a stored receivable has) and
    ///      that `sequence <= MAX_SEQUENCE` (checked against `TooManyFragments`, or at most a stored uint32);
    ///      otherwise bits would be lost or the sequence would spill into the slot.
    function make(uint256 slot_, uint256 sequence_) internal pure returns (TokenId) {
        return TokenId.wrap((slot_ << SEQUENCE_BITS) | sequence_);
    }

    /// @notice The receivable the fragment belongs to: the id's top 224 bits.
    function slot(TokenId id) internal pure returns (uint256) {
        return TokenId.unwrap(id) >> SEQUENCE_BITS;
    }

    /// @notice The fragment's number within its receivable: the id's low 32 bits, exactly (not a truncation of
    ///         a larger number: the sequence is defined as those bits).
    function sequence(TokenId id) internal pure returns (uint32) {
        return uint32(TokenId.unwrap(id));
    }

    /// @notice Fragment `sequence_` of the same receivable as `id` (its parent, its siblings).
    /// @dev `sequence_` is a uint32, and `id`'s slot is below 2^224 by construction: nothing is lost.
    function withSequence(TokenId id, uint32 sequence_) internal pure returns (TokenId) {
        return TokenId.wrap(((TokenId.unwrap(id) >> SEQUENCE_BITS) << SEQUENCE_BITS) | sequence_);
    }

    /// @notice A slot from a 256-bit hash: its top 224 bits, so that any sequence fits beside it in an id.
    function slotOfHash(bytes32 hash) internal pure returns (uint256) {
        return uint256(hash) >> SEQUENCE_BITS;
    }
}
