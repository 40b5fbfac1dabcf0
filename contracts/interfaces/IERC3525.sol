// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

/// @title ERC-3525 semi-fungible token (https://eips.ethereum.org/EIPS/eip-3525)
/// @notice Written from the standard text. The standard marks `approve` and `transferFrom` payable; this
///         permissioned chain carries no ether, so they are not. Mutability is not part of the interface id,
///         which stays 0xd5358140.
interface IERC3525 is IERC721 {
    /// @notice `_value` moved from `_fromTokenId` to `_toTokenId`; 0 as either id means mint or burn.
    event TransferValue(uint256 indexed _fromTokenId, uint256 indexed _toTokenId, uint256 _value);
    /// @notice `_operator` may now move up to `_value` out of `_tokenId`.
    event ApprovalValue(uint256 indexed _tokenId, address indexed _operator, uint256 _value);
    /// @notice `_tokenId` moved from slot `_oldSlot` to `_newSlot` (0 means minted or burned).
    event SlotChanged(uint256 indexed _tokenId, uint256 indexed _oldSlot, uint256 indexed _newSlot);

    /// @notice Decimals of token values: 2 here, values are fen.
    function valueDecimals() external view returns (uint8);

    /// @notice The value held by `_tokenId`.
    function balanceOf(uint256 _tokenId) external view returns (uint256);

    /// @notice The slot (receivable) `_tokenId` belongs to.
    function slotOf(uint256 _tokenId) external view returns (uint256);

    /// @notice Lets `_operator` move up to `_value` out of `_tokenId` (never the whole token).
    function approve(uint256 _tokenId, address _operator, uint256 _value) external;

    /// @notice What `_operator` may still move out of `_tokenId`.
    function allowance(uint256 _tokenId, address _operator) external view returns (uint256);

    /// @notice Moves `_value` from `_fromTokenId` into `_toTokenId` of the same slot (a merge).
    function transferFrom(uint256 _fromTokenId, uint256 _toTokenId, uint256 _value) external;

    /// @notice Moves `_value` out of `_fromTokenId` into a new token owned by `_to` (a split).
    function transferFrom(uint256 _fromTokenId, address _to, uint256 _value) external returns (uint256);
}
