// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC3525Receiver} from "../interfaces/IERC3525Receiver.sol";
import {IFinancingDesk} from "../interfaces/IFinancingDesk.sol";

/// @notice Test-only: a financier that is a contract and, from the ERC-3525 hook it receives in the middle of
///         `finance`, tries to fund a second request before the desk has recorded the first. Tests assert the
///         desk refuses the re-entry. Not deployed outside tests.
contract HostileFinancier is IERC3525Receiver {
    IFinancingDesk public immutable desk;
    IFinancingDesk.FinancingRequest private _inner;
    bytes private _innerSignature;
    bool private _armed;
    bytes public reentryError; // what the re-entering call reverted with (empty: it succeeded or never ran)
    bool public reentered;

    constructor(IFinancingDesk desk_, IERC20 cash) {
        desk = desk_;
        cash.approve(address(desk_), type(uint256).max);
    }

    function setExposureLimit(address debtor, uint256 limit) external {
        desk.setExposureLimit(debtor, limit);
    }

    /// @notice Funds `outer`; the hook then tries `inner`.
    function fundTwice(
        IFinancingDesk.FinancingRequest calldata outer,
        bytes calldata outerSignature,
        IFinancingDesk.FinancingRequest calldata inner,
        bytes calldata innerSignature
    ) external {
        _inner = inner;
        _innerSignature = innerSignature;
        _armed = true;
        desk.finance(outer, outerSignature);
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC3525Receiver).interfaceId || interfaceId == 0x01ffc9a7;
    }

    function onERC3525Received(address, uint256, uint256, uint256, bytes calldata) external returns (bytes4) {
        if (_armed) {
            _armed = false;
            reentered = true;
            try desk.finance(_inner, _innerSignature) returns (uint256) {}
            catch (bytes memory reason) {
                reentryError = reason;
            }
        }
        return IERC3525Receiver.onERC3525Received.selector;
    }
}
