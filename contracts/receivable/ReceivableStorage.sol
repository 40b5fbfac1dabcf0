// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {MemberWord} from "../MemberWord.sol";
import {IReceivableToken} from "../interfaces/IReceivableToken.sol";
import {TokenId, TokenIdLib} from "../types/TokenId.sol";
import {ReceivableStorage} from "./ReceivableStorage.sol";

/// @title ReceivableStorage: the one storage layout of ReceivableToken, and the one path of ownership
/// @notice Every part of ReceivableToken (contracts/receivable/) inherits this contract and declares no
///         state of its own, so the parts share one layout; the helpers more than one part needs live here,
///         `_update` first: every mint, move and burn of a fragment goes through it.
/// @dev Storage is laid out for gas (see docs/performance.md, "Why it is cheap: the storage layout"):
///      - a fragment is ONE word: owner, value, parent sequence and flags;
///      - an account's fragment count shares its word with the membership status Membership pushes here
///        (MemberWord), so checking both parties costs no call and no extra read;
///      - a receivable is two words; the one every split touches holds the state, maturity and the sequence
///        counter for new token ids, so a split reads and writes exactly one receivable word;
///      - the slot is derived from the debtor and the document hash, so "one trade, one receivable" needs no
///        extra mapping, and no other member can take a debtor's slot by issuing on its document hash first;
///      - repayment is pro rata by arithmetic, not by iteration: a fragment of value v is owed
///        floor(v * repaid / face) in total, so `repay` touches two words whatever the number of fragments,
///        and each fragment records what it was paid only if it is paid in part (flag HAS_PAID);
///      - ERC-721 and value approvals are only looked at when the fragment's HAS_APPROVALS flag is set, and a
///        whole transfer voids all of them by bumping an epoch instead of deleting each one.
abstract contract ReceivableStorage is IReceivableToken, IERC721Errors, MemberWord {
    // ------------------------------------------------------------------------------------------- storage

    struct Receivable {
        // word 0: read and written by every split, merge and transfer
        address debtor;
        uint40 maturity;
        ReceivableState state; // never Matured: that is derived from the clock
        uint32 lastSequence; // sequences 1..lastSequence have been used
        // word 1: amounts, written by repayment and redemption
        uint48 faceValue;
        uint48 repaid; // cash paid into escrow so far
        uint48 redeemed; // value of fragments paid in full and burned
        uint48 paidOut; // cash paid out of escrow to holders so far
        uint32 issuedAt; // unix seconds, good until 2106
        // word 2: written once at issue, read by views only
        bytes32 documentHash;
    }

    struct Fragment {
        address owner; // zero: never created or burned
        uint48 value;
        uint32 parentSequence; // 0 for the fragment issued to the supplier
        uint8 flags;
    }

    uint8 internal constant FROZEN = 1;
    uint8 internal constant HAS_APPROVALS = 2;
    uint8 internal constant HAS_PAID = 4; // paid in part: what it got is in _paid

    /// @notice The largest value one receivable (and so one fragment) can have: 2^48 - 1 fen, about
    ///         2.8 trillion yuan. Bounded so that a value fits in the packed fragment word.
    uint256 public constant MAX_VALUE = type(uint48).max;
    /// @notice The longest tenor cap an operator can set: ten years.
    uint256 public constant MAX_TENOR_CAP = 3650 days;
    /// @notice The longest grace period an operator can set.
    uint256 public constant MAX_GRACE_PERIOD = 365 days;

    IERC20 internal immutable _cash;

    uint32 internal _maxTenor;
    uint32 internal _gracePeriod = 3 days;
    mapping(uint256 slot => Receivable) internal _receivables;
    mapping(uint256 tokenId => Fragment) internal _fragments;
    mapping(address owner => mapping(address operator => bool)) internal _operatorApprovals;
    mapping(uint256 tokenId => address) internal _tokenApprovals;
    mapping(uint256 tokenId => uint256) internal _approvalEpochs;
    mapping(uint256 tokenId => mapping(uint256 epoch => mapping(address operator => uint256))) internal _allowances;
    mapping(uint256 tokenId => uint256) internal _paid;

    /// @param membership_ The consortium's permission list.
    /// @param cash_       The settlement token repayments are made in (this contract must be its escrow).
    /// @param maxTenor_   The longest time from issue to maturity, in seconds (365 days is usual).
    constructor(IMembership membership_, IERC20 cash_, uint32 maxTenor_) MemberWord(membership_) {
        if (maxTenor_ == 0 || maxTenor_ > MAX_TENOR_CAP) revert TenorCapOutOfRange(maxTenor_, MAX_TENOR_CAP);
        _cash = cash_;
        _maxTenor = maxTenor_;
    }

    // ------------------------------------------------------------------------------------------- ownership

    /// @dev The one path of every change of owner, like OpenZeppelin 5's ERC721._update: a mint (`from` zero:
    ///      issue, split), a move (ERC-721 transfer, recourse buy-back) or a burn (`to` zero: rejected, cancelled,
    ///      paid in full). Callers have checked who may do it and that both parties may hold value; here the
    ///      fragment's word, both counts and every record that belongs to an owner change together, so that no
    ///      path can leave one behind: a move or a burn voids the ERC-721 approval and every value allowance
    ///      (a move starts a new allowance epoch; a burned id never comes back); a burn also drops what the
    ///      fragment was paid and keeps only the parent link, for tracing. What a fragment was paid stays with it
    ///      through a move (recourse), so nobody is paid twice.
    /// @param f         `_fragments[tokenId]`
    /// @param flags     the fragment's flags before (0 for a mint)
    /// @param value     a mint's value, or the value a burn ends (unused by a move)
    /// @param source    the token a new fragment's value comes from (0 at issue): its parent (unused otherwise)
    /// @param sender    `from`'s account (ignored by a mint)
    /// @param recipient `to`'s account (ignored by a burn)
    function _update(
        uint256 tokenId,
        Fragment storage f,
        address from,
        address to,
        uint8 flags,
        uint256 value,
        uint256 source,
        Account storage sender,
        Account storage recipient
    ) internal {
        if (from != address(0)) {
            // What the old owner granted ends with its ownership.
            if (flags & HAS_APPROVALS != 0) {
                delete _tokenApprovals[tokenId];
                if (to != address(0)) {
                    unchecked {
                        ++_approvalEpochs[tokenId];
                    }
                }
            }
            _addToCount(sender, type(uint256).max); // minus one: `from` owned tokenId, so its count is at least 1
            if (to == address(0)) {
                f.owner = address(0);
                f.value = 0;
                f.flags = 0; // a burned fragment is neither frozen nor approved
                if (flags & HAS_PAID != 0) delete _paid[tokenId];
                emit Transfer(from, address(0), tokenId);
                // ERC-3525 asks SlotChanged only when a slot is set or changed, not at a burn
                emit TransferValue(tokenId, 0, value);
                return;
            }
            f.owner = to;
            if (flags & HAS_APPROVALS != 0) f.flags = flags & ~HAS_APPROVALS;
            _addToCount(recipient, 1);
            emit Transfer(from, to, tokenId);
            return;
        }
        f.owner = to;
        f.value = uint48(value); // a part of one face value <= MAX_VALUE
        f.parentSequence = TokenId.wrap(source).sequence(); // 0 at issue
        _addToCount(recipient, 1);
        emit Transfer(address(0), to, tokenId);
        emit SlotChanged(tokenId, 0, TokenId.wrap(tokenId).slot());
        emit TransferValue(source, tokenId, value);
    }

    /// @dev Adds `delta` (modulo 2^256: type(uint256).max subtracts one) to `a.fragments`, the low 64 bits of the
    ///      account word (MemberWord.Account's first field), with one read and one write of the word: the packed
    ///      field update compiles to two reads inside `_update`. A count never goes below zero (its owner holds the
    ///      fragment) nor reaches 2^64 (fragments ever created), so the sum never carries into the next field.
    function _addToCount(Account storage a, uint256 delta) private {
        assembly ("memory-safe") {
            sstore(a.slot, add(sload(a.slot), delta))
        }
    }

    // ------------------------------------------------------------------------------------------- shared checks

    function _requireFragment(uint256 tokenId) internal view returns (Fragment storage f) {
        f = _fragments[tokenId];
        if (f.owner == address(0)) revert NonexistentToken(tokenId);
    }

    function _requireReceivable(uint256 slot) internal view returns (Receivable storage r) {
        r = _receivables[slot];
        if (r.debtor == address(0)) revert NonexistentReceivable(slot);
    }

    function _stateOf(Receivable storage r) internal view returns (ReceivableState state) {
        state = r.state;
        if (state == ReceivableState.Active && block.timestamp >= r.maturity) state = ReceivableState.Matured;
        // (stored Matured is recorded by the first repayment operation after maturity)
    }

    function _slotOf(address debtor, bytes32 documentHash) internal pure returns (uint256) {
        return TokenIdLib.slotOfHash(keccak256(abi.encode(debtor, documentHash)));
    }

    function _isOwnerOrApproved(uint256 tokenId, address owner, uint8 flags, address account)
        internal
        view
        returns (bool)
    {
        return account == owner || _operatorApprovals[owner][account]
            || (flags & HAS_APPROVALS != 0 && _tokenApprovals[tokenId] == account);
    }

    function _releaseCredit(Receivable storage r) internal {
        unchecked {
            _accounts[r.debtor].creditUsed -= r.faceValue; // this face value was added when it was issued
        }
    }

    function _claimable(uint256 tokenId, Fragment storage f, Receivable storage r) internal view returns (uint256) {
        ReceivableState state = r.state;
        bool paying = state == ReceivableState.Active || state == ReceivableState.Matured
            || state == ReceivableState.Overdue || state == ReceivableState.Repaid;
        if (!paying || block.timestamp < r.maturity) return 0;
        uint256 entitled = uint256(f.value) * r.repaid / r.faceValue;
        uint256 got = f.flags & HAS_PAID != 0 ? _paid[tokenId] : 0;
        return entitled - got;
    }
}
