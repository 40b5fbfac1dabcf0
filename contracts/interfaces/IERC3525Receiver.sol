// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title ERC-3525 receiver hook, called on a contract that receives value and declares this interface.
interface IERC3525Receiver {
    /// @return `IERC3525Receiver.onERC3525Received.selector` to accept the value.
    function onERC3525Received(
        address _operator,
        uint256 _fromTokenId,
        uint256 _toTokenId,
        uint256 _value,
        bytes calldata _data
    ) external returns (bytes4);
}
