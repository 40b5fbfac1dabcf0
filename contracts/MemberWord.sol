// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IMembership} from "./interfaces/IMembership.sol";
import {IMembershipSubscriber} from "./interfaces/IMembershipSubscriber.sol";

/// @title MemberWord: the one storage word per account that a token shares with its membership status
/// @notice Membership pushes every admission, suspension and reinstatement here. The copy lives in the
///         same storage word as the account's ERC-721 fragment count, which every transfer writes anyway, so
///         the permission check costs no external call and no extra storage read; and a member's first
///         fragment does not pay for a new storage word, because admission already wrote it.
/// @dev Refusals use Membership's own errors, so a client sees the same `NotMember` from either contract.
abstract contract MemberWord is IMembershipSubscriber {
    /// @dev One word per account, holding everything a transfer touches for it.
    struct Account {
        uint64 fragments; // ReceivableToken: live fragments held (ERC-721 balanceOf); unused by the cash token
        IMembership.Role role;
        bool suspended;
        bool escrow; // a system contract that holds value for members (no role of its own)
        uint48 creditLimit; // ReceivableToken: a core enterprise's issuance limit (授信额度), fen
        uint48 creditUsed; // ReceivableToken: face value of its receivables not yet repaid
        uint72 cash; // SettlementToken: the ERC-20 balance, fen (up to 4.7e21)
    }

    /// @notice Only Membership may push changes; `caller` is not it.
    error NotMembershipContract(address caller);

    /// @notice `account`, a system contract (the repayment escrow, the financing desk), may now hold or move
    ///         value on members' behalf without a role of its own; or no longer may.
    event EscrowChanged(address indexed account, bool isEscrow, address indexed operator);

    IMembership public immutable membership;
    mapping(address account => Account) internal _accounts;

    constructor(IMembership membership_) {
        membership = membership_;
    }

    /// @inheritdoc IMembershipSubscriber
    function membershipChanged(address account, IMembership.Role role, bool suspended) external {
        if (msg.sender != address(membership)) revert NotMembershipContract(msg.sender);
        Account storage a = _accounts[account];
        a.role = role;
        a.suspended = suspended;
    }

    /// @notice Lets a system contract hold or move value for members (its counterparties are still checked).
    ///         Operator only.
    function setEscrow(address account, bool isEscrow_) external {
        _requireRole(msg.sender, IMembership.Role.Operator);
        _accounts[account].escrow = isEscrow_;
        emit EscrowChanged(account, isEscrow_, msg.sender);
    }

    /// @notice True when `account` is an escrow (system) contract here.
    function isEscrow(address account) external view returns (bool) {
        return _accounts[account].escrow;
    }

    /// @dev Reverts unless `account` is an admitted, unsuspended member; returns its record for updating.
    function _requireActive(address account) internal view returns (Account storage a) {
        a = _accounts[account];
        if (a.role == IMembership.Role.None) {
            if (a.escrow) return a;
            revert IMembership.NotMember(account);
        }
        if (a.suspended) revert IMembership.AccountSuspended(account);
    }

    /// @dev Reverts unless `account` is active and has `required`.
    function _requireRole(address account, IMembership.Role required) internal view {
        IMembership.Role role = _requireActive(account).role;
        if (role != required) revert IMembership.WrongRole(account, role, required);
    }
}
