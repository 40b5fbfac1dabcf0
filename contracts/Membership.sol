// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IMembership} from "./interfaces/IMembership.sol";
import {IMembershipSubscriber} from "./interfaces/IMembershipSubscriber.sol";

/// @title Membership
/// @notice The consortium's permission list: operators admit, suspend and reinstate accounts.
/// @dev One storage word per member holds everything a value movement checks (role and suspension),
///      so each check costs one cold SLOAD. The KYC hash lives apart because nothing hot reads it.
///      Every change is also pushed to the subscribed token contracts, which keep a copy beside their own
///      per-account data and so check both parties of a transfer without calling here.
contract Membership is IMembership {
    /// @notice The most subscribers allowed: each adds one call to every admission and suspension.
    uint256 public constant MAX_SUBSCRIBERS = 8;

    struct Member {
        Role role;
        bool suspended;
        uint40 admittedAt;
    }

    mapping(address account => Member) private _members;
    mapping(address account => bytes32) private _kycHashes;
    IMembershipSubscriber[] private _subscribers;
    uint256 private _activeOperators; // admitted, unsuspended operators: never suspended below one

    /// @param operator The first operator; it admits everybody else (including further operators).
    /// @param kycHash  The hash of the operator's own KYC file.
    constructor(address operator, bytes32 kycHash) {
        _admit(operator, Role.Operator, kycHash, msg.sender);
    }

    // ---------------------------------------------------------------- operator actions

    /// @inheritdoc IMembership
    function admit(address account, Role role, bytes32 kycHash) external {
        _requireRole(msg.sender, Role.Operator);
        _admit(account, role, kycHash, msg.sender);
    }

    /// @inheritdoc IMembership
    function suspend(address account) external {
        _requireRole(msg.sender, Role.Operator);
        Member storage m = _members[account];
        if (m.role == Role.None) revert NotMember(account);
        if (m.suspended) revert AlreadySuspended(account);
        if (m.role == Role.Operator) {
            if (_activeOperators == 1) revert LastActiveOperator(account);
            --_activeOperators; // >= 2 here
        }
        m.suspended = true;
        _notify(account, m.role, true);
        emit MemberSuspended(account, msg.sender);
    }

    /// @inheritdoc IMembership
    function reinstate(address account) external {
        _requireRole(msg.sender, Role.Operator);
        Member storage m = _members[account];
        if (m.role == Role.None) revert NotMember(account);
        if (!m.suspended) revert NotSuspended(account);
        if (m.role == Role.Operator) ++_activeOperators;
        m.suspended = false;
        _notify(account, m.role, false);
        emit MemberReinstated(account, msg.sender);
    }

    /// @inheritdoc IMembership
    function addSubscriber(IMembershipSubscriber subscriber, address[] calldata existingMembers) external {
        _requireRole(msg.sender, Role.Operator);
        uint256 n = _subscribers.length;
        if (n >= MAX_SUBSCRIBERS) revert TooManySubscribers(MAX_SUBSCRIBERS);
        for (uint256 i; i < n; ++i) {
            if (_subscribers[i] == subscriber) revert AlreadySubscribed(address(subscriber));
        }
        _subscribers.push(subscriber);
        emit SubscriberAdded(address(subscriber), msg.sender);
        _push(subscriber, existingMembers);
    }

    /// @inheritdoc IMembership
    function removeSubscriber(IMembershipSubscriber subscriber) external {
        _requireRole(msg.sender, Role.Operator);
        uint256 n = _subscribers.length;
        for (uint256 i; i < n; ++i) {
            if (_subscribers[i] == subscriber) {
                _subscribers[i] = _subscribers[n - 1]; // order does not matter: each gets every change
                _subscribers.pop();
                emit SubscriberRemoved(address(subscriber), msg.sender);
                return;
            }
        }
        revert NotSubscribed(address(subscriber));
    }

    /// @inheritdoc IMembership
    function resync(IMembershipSubscriber subscriber, address[] calldata accounts) external {
        _requireRole(msg.sender, Role.Operator);
        _push(subscriber, accounts);
    }

    /// @inheritdoc IMembership
    function subscribers() external view returns (IMembershipSubscriber[] memory) {
        return _subscribers;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IMembership
    function roleOf(address account) external view returns (Role) {
        return _members[account].role;
    }

    /// @inheritdoc IMembership
    function isActive(address account) external view returns (bool) {
        Member storage m = _members[account];
        return m.role != Role.None && !m.suspended;
    }

    /// @inheritdoc IMembership
    function kycHashOf(address account) external view returns (bytes32) {
        return _kycHashes[account];
    }

    // ---------------------------------------------------------------- internals

    function _admit(address account, Role role, bytes32 kycHash, address operator) private {
        if (role == Role.None) revert NoRoleGiven(account);
        Member storage m = _members[account];
        if (m.role != Role.None) revert AlreadyMember(account, m.role);
        m.role = role;
        m.admittedAt = uint40(block.timestamp);
        if (role == Role.Operator) ++_activeOperators;
        _kycHashes[account] = kycHash;
        _notify(account, role, false);
        emit MemberAdmitted(account, role, kycHash, operator);
    }

    function _notify(address account, Role role, bool suspended) private {
        uint256 n = _subscribers.length;
        for (uint256 i; i < n; ++i) {
            _subscribers[i].membershipChanged(account, role, suspended);
        }
    }

    function _push(IMembershipSubscriber subscriber, address[] calldata accounts) private {
        for (uint256 i; i < accounts.length; ++i) {
            Member storage m = _members[accounts[i]];
            subscriber.membershipChanged(accounts[i], m.role, m.suspended);
        }
    }

    function _requireActive(address account) private view returns (Role role) {
        Member storage m = _members[account];
        role = m.role;
        if (role == Role.None) revert NotMember(account);
        if (m.suspended) revert AccountSuspended(account);
    }

    function _requireRole(address account, Role required) private view {
        Role role = _requireActive(account);
        if (role != required) revert WrongRole(account, role, required);
    }
}
