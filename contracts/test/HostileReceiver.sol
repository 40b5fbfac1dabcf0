// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IERC3525Receiver} from "../interfaces/IERC3525Receiver.sol";
import {IReceivableToken} from "../interfaces/IReceivableToken.sol";

/// @notice Test-only: a member contract that re-enters the token from its receiver hooks, trying to move the
///         same value twice. Tests assert it gains nothing. Not deployed outside tests.
contract HostileReceiver is IERC3525Receiver, IERC721Receiver {
    IReceivableToken public immutable token;
    uint256 public reentries;
    uint256 public reentriesSucceeded;
    bool public rejectAll;

    constructor(IReceivableToken token_) {
        token = token_;
    }

    function setRejectAll(bool reject) external {
        rejectAll = reject;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC3525Receiver).interfaceId || interfaceId == 0x01ffc9a7;
    }

    function onERC3525Received(address, uint256 fromTokenId, uint256 toTokenId, uint256 value, bytes calldata)
        external
        returns (bytes4)
    {
        if (rejectAll) return 0xdeadbeef;
        if (reentries < 3) {
            ++reentries;
            // Try to pull the same value out of the source a second time.
            try token.transferFrom(fromTokenId, address(this), value) returns (uint256) {
                ++reentriesSucceeded;
            } catch {}
            // Try to split what was just received while the outer call is still running.
            try token.transferFrom(toTokenId, address(this), value) returns (uint256) {
                ++reentriesSucceeded;
            } catch {}
        }
        return IERC3525Receiver.onERC3525Received.selector;
    }

    function onERC721Received(address, address from, uint256 tokenId, bytes calldata) external returns (bytes4) {
        if (rejectAll) return 0xdeadbeef;
        if (reentries < 3) {
            ++reentries;
            // Try to hand the token back and keep it at the same time.
            try token.transferFrom(address(this), from, tokenId) {
                ++reentriesSucceeded;
            } catch {}
        }
        return IERC721Receiver.onERC721Received.selector;
    }

    /// @notice Lets the test drive the contract as a holder (e.g. approve the test account).
    function approveAll(address operator) external {
        token.setApprovalForAll(operator, true);
    }
}
