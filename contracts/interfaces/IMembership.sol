// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IMembershipSubscriber} from "./IMembershipSubscriber.sol";

/// @title The consortium's permission list
/// @notice Every account that may hold or move value is admitted here by an operator, with one role.
///         Every change is pushed to the value-moving contracts (see MemberWord), which check their copy and
///         refuse with the errors below, so a client sees the same named error whichever contract it called.
interface IMembership {
    enum Role {
        None,
        Operator,
        CoreEnterprise,
        Supplier,
        Financier,
        Auditor
    }

    /// @notice `account` was admitted with `role`; `kycHash` is the hash of its off-chain KYC file.
    event MemberAdmitted(address indexed account, Role indexed role, bytes32 kycHash, address indexed operator);
    /// @notice `account` can no longer send or receive value until reinstated.
    event MemberSuspended(address indexed account, address indexed operator);
    /// @notice `account` may send and receive value again.
    event MemberReinstated(address indexed account, address indexed operator);

    /// @notice `subscriber` will be told of every admission, suspension and reinstatement from now on.
    event SubscriberAdded(address indexed subscriber, address indexed operator);
    /// @notice `subscriber` no longer receives membership changes (removed by `operator`).
    event SubscriberRemoved(address indexed subscriber, address indexed operator);

    /// @notice `account` was never admitted.
    error NotMember(address account);
    /// @notice `account` is admitted but currently suspended.
    error AccountSuspended(address account);
    /// @notice `account` has `role` (and is active) but the operation needs `required`.
    error WrongRole(address account, Role role, Role required);
    /// @notice `account` is already a member with `role`; roles are not changed by re-admission.
    error AlreadyMember(address account, Role role);
    /// @notice Admission needs a real role; `Role.None` means "not a member".
    error NoRoleGiven(address account);
    /// @notice `suspend` of an account that is already suspended.
    error AlreadySuspended(address account);
    /// @notice `reinstate` of an account that is not suspended.
    error NotSuspended(address account);
    /// @notice `subscriber` is already subscribed.
    error AlreadySubscribed(address subscriber);
    /// @notice At most `max` subscribers: each one adds a call to every admission and suspension.
    error TooManySubscribers(uint256 max);
    /// @notice `subscriber` is not subscribed.
    error NotSubscribed(address subscriber);
    /// @notice Suspending `account` would leave no active operator to reinstate anybody.
    error LastActiveOperator(address account);

    /// @notice Admits `account` with `role`. Operator only.
    function admit(address account, Role role, bytes32 kycHash) external;

    /// @notice Suspends `account`: it can neither send nor receive value. Operator only; the last active
    ///         operator cannot be suspended (nobody could reinstate anybody after that).
    function suspend(address account) external;

    /// @notice Lifts a suspension. Operator only.
    function reinstate(address account) external;

    /// @notice Subscribes `subscriber` to membership changes and pushes the current status of
    ///         `existingMembers` to it (the members admitted before it existed). Operator only.
    function addSubscriber(IMembershipSubscriber subscriber, address[] calldata existingMembers) external;

    /// @notice Stops pushing changes to `subscriber`: the way out when a subscriber reverts and so blocks every
    ///         admission and suspension. Operator only.
    function removeSubscriber(IMembershipSubscriber subscriber) external;

    /// @notice Pushes the current status of `accounts` to `subscriber` again (repairs a late subscription).
    ///         Operator only.
    function resync(IMembershipSubscriber subscriber, address[] calldata accounts) external;

    /// @notice The subscribed contracts.
    function subscribers() external view returns (IMembershipSubscriber[] memory);

    /// @notice The role `account` was admitted with (`None` if never admitted), suspended or not.
    function roleOf(address account) external view returns (Role);

    /// @notice True when `account` is admitted and not suspended.
    function isActive(address account) external view returns (bool);

    /// @notice The KYC file hash `account` was admitted with.
    function kycHashOf(address account) external view returns (bytes32);
}
