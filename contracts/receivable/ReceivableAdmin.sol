// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IMembership} from "../interfaces/IMembership.sol";
import {IReceivableToken} from "../interfaces/IReceivableToken.sol";
import {ReceivableStorage} from "./ReceivableStorage.sol";

/// @title ReceivableAdmin: the operator's settings (credit lines, grace period, tenor cap) and their reads
abstract contract ReceivableAdmin is ReceivableStorage {
    /// @inheritdoc IReceivableToken
    function setCreditLine(address debtor, uint256 limit) external {
        _requireRole(msg.sender, IMembership.Role.Operator);
        Account storage a = _accounts[debtor];
        if (a.role != IMembership.Role.CoreEnterprise) {
            revert IMembership.WrongRole(debtor, a.role, IMembership.Role.CoreEnterprise);
        }
        if (limit > MAX_VALUE) revert CreditLimitOutOfRange(limit, MAX_VALUE);
        emit CreditLineChanged(debtor, a.creditLimit, limit, msg.sender);
        a.creditLimit = uint48(limit);
    }

    /// @inheritdoc IReceivableToken
    function setGracePeriod(uint32 seconds_) external {
        _requireRole(msg.sender, IMembership.Role.Operator);
        if (seconds_ > MAX_GRACE_PERIOD) revert GracePeriodOutOfRange(seconds_, MAX_GRACE_PERIOD);
        emit GracePeriodChanged(_gracePeriod, seconds_, msg.sender);
        _gracePeriod = seconds_;
    }

    /// @inheritdoc IReceivableToken
    function setMaxTenor(uint32 seconds_) external {
        _requireRole(msg.sender, IMembership.Role.Operator);
        if (seconds_ == 0 || seconds_ > MAX_TENOR_CAP) revert TenorCapOutOfRange(seconds_, MAX_TENOR_CAP);
        emit MaxTenorChanged(_maxTenor, seconds_, msg.sender);
        _maxTenor = seconds_;
    }

    /// @inheritdoc IReceivableToken
    function maxTenor() external view returns (uint256) {
        return _maxTenor;
    }

    /// @inheritdoc IReceivableToken
    function gracePeriod() external view returns (uint256) {
        return _gracePeriod;
    }

    /// @inheritdoc IReceivableToken
    function creditLine(address debtor) external view returns (uint256 limit, uint256 used) {
        Account storage a = _accounts[debtor];
        return (a.creditLimit, a.creditUsed);
    }

    /// @inheritdoc IReceivableToken
    function cash() external view returns (address) {
        return address(_cash);
    }
}
