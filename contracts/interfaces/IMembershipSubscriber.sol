// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IMembership} from "./IMembership.sol";

/// @title A contract that keeps a copy of members' status, pushed to it by Membership
/// @notice Value-moving contracts subscribe so that checking both parties costs no external call: the copy
///         sits in the same storage word as data they write anyway (see MemberWord).
interface IMembershipSubscriber {
    /// @notice Membership tells the subscriber that `account` now has `role` and is (or is not) suspended.
    function membershipChanged(address account, IMembership.Role role, bool suspended) external;
}
