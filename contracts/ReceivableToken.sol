// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {ReceivableStorage} from "./receivable/ReceivableStorage.sol";
import {ReceivableERC3525} from "./receivable/ReceivableERC3525.sol";
import {ReceivableLifecycle} from "./receivable/ReceivableLifecycle.sol";
import {ReceivableRepayment} from "./receivable/ReceivableRepayment.sol";
import {ReceivableAdmin} from "./receivable/ReceivableAdmin.sol";

/// @title ReceivableToken
/// @notice Confirmed payables as ERC-3525 tokens: issue, accept, split down the supply chain, merge, transfer.
/// @dev The parts, by concern, in contracts/receivable/; they share one storage layout (ReceivableStorage, which
///      also holds `_update`, the one path of every mint, move and burn) and declare no state of their own:
///      - ReceivableERC3525: the ERC-721/ERC-3525 surface (approvals, metadata, balances) and the reads;
///      - ReceivableLifecycle: issue, accept, reject, cancel, split, merge, transfer, freeze;
///      - ReceivableRepayment: repay into escrow, redeem, settle, overdue, recourse;
///      - ReceivableAdmin: the operator's settings.
contract ReceivableToken is ReceivableERC3525, ReceivableLifecycle, ReceivableRepayment, ReceivableAdmin {
    /// @param membership_ The consortium's permission list.
    /// @param cash_       The settlement token repayments are made in (this contract must be its escrow).
    /// @param maxTenor_   The longest time from issue to maturity, in seconds (365 days is usual).
    constructor(IMembership membership_, IERC20 cash_, uint32 maxTenor_)
        ReceivableStorage(membership_, cash_, maxTenor_)
    {}
}
