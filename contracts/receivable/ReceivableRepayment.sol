// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IReceivableToken} from "../interfaces/IReceivableToken.sol";
import {TokenId} from "../types/TokenId.sol";
import {ReceivableStorage} from "./ReceivableStorage.sol";

/// @title ReceivableRepayment: repayment into escrow, redemption and settlement, overdue and recourse
/// @notice The debtor pays into this contract (the escrow); each fragment is paid pro rata from maturity on.
abstract contract ReceivableRepayment is ReceivableStorage {
    using SafeERC20 for IERC20;

    /// @inheritdoc IReceivableToken
    function repay(uint256 slot, uint256 amount) external {
        Receivable storage r = _requireReceivable(slot);
        ReceivableState state = r.state;
        if (state != ReceivableState.Active && state != ReceivableState.Matured && state != ReceivableState.Overdue) {
            revert ReceivableNotRepayable(slot, _stateOf(r));
        }
        if (amount == 0) revert ZeroRepayment(slot);
        uint256 face = r.faceValue;
        uint256 repaid = r.repaid;
        uint256 outstanding = face - repaid;
        if (amount > outstanding) revert RepaymentExceedsOutstanding(slot, outstanding, amount);
        _recordMaturity(r, slot, state);
        unchecked {
            repaid += amount; // <= face < 2^48
        }
        r.repaid = uint48(repaid);
        emit RepaymentReceived(slot, msg.sender, amount, repaid);
        if (repaid == face) {
            r.state = ReceivableState.Repaid;
            _releaseCredit(r);
            emit ReceivableRepaid(slot, face);
        }
        _cash.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IReceivableToken
    function redeem(uint256 tokenId) external returns (uint256 paid) {
        Fragment storage f = _requireFragment(tokenId);
        address owner = f.owner;
        uint8 flags = f.flags;
        if (!_isOwnerOrApproved(tokenId, owner, flags, msg.sender)) revert NotOwnerNorApproved(tokenId, msg.sender);
        if (flags & FROZEN != 0) revert FragmentFrozen(tokenId);
        Receivable storage r = _requireRedeemable(TokenId.wrap(tokenId).slot());
        uint256 value = f.value;
        bool burned;
        (paid, burned) = _payFragment(tokenId, f, owner, value, flags, r.faceValue, r.repaid);
        if (paid == 0 && !burned) {
            uint256 got = flags & HAS_PAID != 0 ? _paid[tokenId] : 0;
            revert NothingToRedeem(tokenId, got, got);
        }
        unchecked {
            // both are sums of parts of one face value < 2^48
            r.paidOut += uint48(paid);
            if (burned) r.redeemed += uint48(value);
        }
        if (paid != 0) _cash.safeTransfer(owner, paid);
    }

    /// @inheritdoc IReceivableToken
    function settle(uint256 slot, uint256[] calldata tokenIds) external returns (uint256 paid) {
        Receivable storage r = _requireRedeemable(slot);
        (uint256 face, uint256 repaid, uint256 lastSequence) = (r.faceValue, r.repaid, r.lastSequence);
        uint256 n = tokenIds.length;
        address[] memory payees = new address[](n);
        uint256[] memory amounts = new uint256[](n);
        uint256 redeemedValue;
        for (uint256 i; i < n; ++i) {
            uint256 tokenId = tokenIds[i];
            if (TokenId.wrap(tokenId).slot() != slot) revert TokenNotInSlot(tokenId, slot);
            Fragment storage f = _fragments[tokenId];
            address owner = f.owner;
            if (owner == address(0)) {
                uint256 sequence = TokenId.wrap(tokenId).sequence();
                if (sequence == 0 || sequence > lastSequence) revert NonexistentToken(tokenId);
                continue; // burned: it was paid in full already
            }
            uint8 flags = f.flags;
            if (flags & FROZEN != 0) revert FragmentFrozen(tokenId);
            uint256 value = f.value;
            (uint256 amount, bool burned) = _payFragment(tokenId, f, owner, value, flags, face, repaid);
            payees[i] = owner;
            amounts[i] = amount;
            paid += amount;
            if (burned) redeemedValue += value;
        }
        unchecked {
            // both are sums of parts of one face value < 2^48
            r.paidOut += uint48(paid);
            r.redeemed += uint48(redeemedValue);
        }
        // Cash moves only after every write above.
        for (uint256 i; i < n; ++i) {
            if (amounts[i] != 0) _cash.safeTransfer(payees[i], amounts[i]);
        }
    }

    /// @inheritdoc IReceivableToken
    function markOverdue(uint256 slot) external {
        Receivable storage r = _requireReceivable(slot);
        ReceivableState state = r.state;
        if (state != ReceivableState.Active && state != ReceivableState.Matured) {
            revert ReceivableNotActive(slot, _stateOf(r));
        }
        uint256 overdueFrom = uint256(r.maturity) + _gracePeriod;
        if (block.timestamp < overdueFrom) revert GracePeriodNotOver(slot, overdueFrom, block.timestamp);
        _recordMaturity(r, slot, state);
        r.state = ReceivableState.Overdue;
        emit ReceivableOverdue(slot, r.repaid, r.faceValue);
    }

    /// @inheritdoc IReceivableToken
    function claimable(uint256 tokenId) external view returns (uint256) {
        return _claimable(tokenId, _requireFragment(tokenId), _receivables[TokenId.wrap(tokenId).slot()]);
    }

    /// @inheritdoc IReceivableToken
    /// @dev Only an escrow contract (the financing desk, designated by the operator) may call this, and only
    ///      on an overdue receivable, whose fragments are otherwise frozen in place; what the fragment was paid
    ///      so far stays with it, so nobody is paid twice.
    function recourseTransfer(address from, uint256 tokenId) external {
        Account storage desk = _accounts[msg.sender];
        if (!desk.escrow) revert NotOwnerNorApproved(tokenId, msg.sender);
        Fragment storage f = _requireFragment(tokenId);
        address owner = f.owner;
        uint8 flags = f.flags;
        if (owner != from) revert IncorrectOwner(tokenId, from, owner);
        if (flags & FROZEN != 0) revert FragmentFrozen(tokenId);
        uint256 slot = TokenId.wrap(tokenId).slot();
        ReceivableState state = _receivables[slot].state;
        if (state != ReceivableState.Overdue) revert ReceivableNotOverdue(slot, state);
        _update(tokenId, f, from, msg.sender, flags, 0, 0, _accounts[from], desk);
    }

    // ------------------------------------------------------------------------------------------- internals

    /// @dev Holders are paid from maturity on, once the receivable was accepted and while it has not been
    ///      rejected or cancelled. The first call after maturity records it.
    function _requireRedeemable(uint256 slot) internal returns (Receivable storage r) {
        r = _receivables[slot];
        ReceivableState state = r.state;
        if (
            state != ReceivableState.Active && state != ReceivableState.Matured && state != ReceivableState.Overdue
                && state != ReceivableState.Repaid
        ) revert ReceivableNotActive(slot, state);
        uint256 maturity = r.maturity;
        if (block.timestamp < maturity) revert ReceivableNotMatured(slot, maturity, block.timestamp);
        _recordMaturity(r, slot, state);
    }

    function _recordMaturity(Receivable storage r, uint256 slot, ReceivableState state) internal {
        if (state == ReceivableState.Active && block.timestamp >= r.maturity) {
            r.state = ReceivableState.Matured;
            emit MaturityReached(slot, r.maturity);
        }
    }

    /// @dev Pays fragment `tokenId` up to floor(value * repaid / face). Writes only its own storage: the
    ///      caller adds the totals to the receivable and moves the cash after every write.
    function _payFragment(
        uint256 tokenId,
        Fragment storage f,
        address owner,
        uint256 value,
        uint8 flags,
        uint256 face,
        uint256 repaid
    ) internal returns (uint256 amount, bool burned) {
        uint256 entitled = value * repaid / face; // value, repaid < 2^48: no overflow
        uint256 got = flags & HAS_PAID != 0 ? _paid[tokenId] : 0;
        amount = entitled - got; // repaid never decreases, so entitled >= got
        if (entitled == value) {
            // Paid in full: burn, keeping the parent link for tracing.
            burned = true;
            Account storage holder = _accounts[owner];
            _update(tokenId, f, owner, address(0), flags, value, 0, holder, holder);
        } else if (amount != 0) {
            _paid[tokenId] = entitled;
            if (got == 0) f.flags = flags | HAS_PAID;
        }
        if (amount != 0 || burned) emit FragmentRedeemed(tokenId, owner, amount, burned);
    }
}
