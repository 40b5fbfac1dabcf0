// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {IERC3525} from "./interfaces/IERC3525.sol";
import {IERC3525Receiver} from "./interfaces/IERC3525Receiver.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {MemberWord} from "./MemberWord.sol";
import {IReceivableToken} from "./interfaces/IReceivableToken.sol";
import {TokenId, TokenIdLib} from "./types/TokenId.sol";

/// @title ReceivableToken
/// @notice Confirmed payables as ERC-3525 tokens: issue, accept, split down the supply chain, merge, transfer.
/// @dev Storage is laid out for gas (see README, "Storage layout"):
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
contract ReceivableToken is IReceivableToken, IERC721Errors, MemberWord {
    using SafeERC20 for IERC20;

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

    uint8 private constant FROZEN = 1;
    uint8 private constant HAS_APPROVALS = 2;
    uint8 private constant HAS_PAID = 4; // paid in part: what it got is in _paid

    /// @notice The largest value one receivable (and so one fragment) can have: 2^48 - 1 fen, about
    ///         2.8 trillion yuan. Bounded so that a value fits in the packed fragment word.
    uint256 public constant MAX_VALUE = type(uint48).max;
    /// @notice The longest tenor cap an operator can set: ten years.
    uint256 public constant MAX_TENOR_CAP = 3650 days;
    /// @notice The longest grace period an operator can set.
    uint256 public constant MAX_GRACE_PERIOD = 365 days;

    IERC20 private immutable _cash;

    uint32 private _maxTenor;
    uint32 private _gracePeriod = 3 days;
    mapping(uint256 slot => Receivable) private _receivables;
    mapping(uint256 tokenId => Fragment) private _fragments;
    mapping(address owner => mapping(address operator => bool)) private _operatorApprovals;
    mapping(uint256 tokenId => address) private _tokenApprovals;
    mapping(uint256 tokenId => uint256) private _approvalEpochs;
    mapping(uint256 tokenId => mapping(uint256 epoch => mapping(address operator => uint256))) private _allowances;
    mapping(uint256 tokenId => uint256) private _paid;

    /// @param membership_ The consortium's permission list.
    /// @param cash_       The settlement token repayments are made in (this contract must be its escrow).
    /// @param maxTenor_   The longest time from issue to maturity, in seconds (365 days is usual).
    constructor(IMembership membership_, IERC20 cash_, uint32 maxTenor_) MemberWord(membership_) {
        if (maxTenor_ == 0 || maxTenor_ > MAX_TENOR_CAP) revert TenorCapOutOfRange(maxTenor_, MAX_TENOR_CAP);
        _cash = cash_;
        _maxTenor = maxTenor_;
    }

    // ------------------------------------------------------------------------------------------- life cycle

    /// @inheritdoc IReceivableToken
    function issue(address supplier, uint256 faceValue, uint64 maturity, bytes32 documentHash)
        external
        returns (uint256 slot, uint256 tokenId)
    {
        Account storage debtor = _requireActive(msg.sender);
        if (debtor.role != IMembership.Role.CoreEnterprise) {
            revert IMembership.WrongRole(msg.sender, debtor.role, IMembership.Role.CoreEnterprise);
        }
        Account storage holder = _requireActive(supplier);
        if (holder.role != IMembership.Role.Supplier) {
            revert IMembership.WrongRole(supplier, holder.role, IMembership.Role.Supplier);
        }
        if (faceValue == 0 || faceValue > MAX_VALUE) revert FaceValueOutOfRange(faceValue, MAX_VALUE);
        if (maturity <= block.timestamp) revert MaturityNotInFuture(maturity, block.timestamp);
        uint256 latest = block.timestamp + _maxTenor;
        if (maturity > latest) revert TenorExceedsCap(maturity, latest);
        slot = _slotOf(msg.sender, documentHash);
        if (documentHash == 0 || slot == 0) revert InvalidDocumentHash(documentHash);
        Receivable storage r = _receivables[slot];
        if (r.debtor != address(0)) revert DocumentAlreadyIssued(documentHash, slot);
        uint256 used = uint256(debtor.creditUsed) + faceValue;
        if (used > debtor.creditLimit) {
            revert CreditLineExceeded(msg.sender, debtor.creditLimit, debtor.creditUsed, faceValue);
        }
        debtor.creditUsed = uint48(used); // used <= creditLimit < 2^48

        r.debtor = msg.sender;
        r.maturity = uint40(maturity);
        r.state = ReceivableState.Pending;
        r.lastSequence = 1;
        r.faceValue = uint48(faceValue);
        r.issuedAt = uint32(block.timestamp); // exact until 2106 (see the struct)
        r.documentHash = documentHash;

        tokenId = TokenId.unwrap(TokenIdLib.make(slot, 1)); // slot from slotOfHash: below 2^224
        _fragments[tokenId] = Fragment({owner: supplier, value: uint48(faceValue), parentSequence: 0, flags: 0});
        unchecked {
            ++holder.fragments; // bounded by the number of fragments ever created, far below 2^64
        }
        emit Transfer(address(0), supplier, tokenId);
        emit SlotChanged(tokenId, 0, slot);
        emit TransferValue(0, tokenId, faceValue);
        emit ReceivableIssued(slot, msg.sender, supplier, tokenId, faceValue, maturity, documentHash);
    }

    /// @inheritdoc IReceivableToken
    function accept(uint256 tokenId) external {
        (uint256 slot, Receivable storage r) = _requirePendingHolder(tokenId);
        _requireActive(msg.sender);
        r.state = ReceivableState.Active;
        emit ReceivableAccepted(slot, msg.sender);
    }

    /// @inheritdoc IReceivableToken
    function reject(uint256 tokenId) external {
        (uint256 slot, Receivable storage r) = _requirePendingHolder(tokenId);
        r.state = ReceivableState.Rejected;
        _releaseCredit(r);
        _burnPending(tokenId);
        emit ReceivableRejected(slot, msg.sender);
    }

    /// @inheritdoc IReceivableToken
    function cancel(uint256 slot) external {
        Receivable storage r = _requireReceivable(slot);
        if (r.debtor != msg.sender) revert NotDebtor(slot, msg.sender, r.debtor);
        if (r.state != ReceivableState.Pending) revert ReceivableNotPending(slot, _stateOf(r));
        r.state = ReceivableState.Cancelled;
        _releaseCredit(r);
        _burnPending(TokenId.unwrap(TokenIdLib.make(slot, 1))); // a receivable's slot is from slotOfHash
        emit ReceivableCancelled(slot, msg.sender);
    }

    // ------------------------------------------------------------------------------------------- ERC-3525 value moves

    /// @notice Splits: moves `value` out of `fromTokenId` into a new fragment owned by `to`.
    /// @inheritdoc IERC3525
    function transferFrom(uint256 fromTokenId, address to, uint256 value) external returns (uint256 newTokenId) {
        Fragment storage f = _fragments[fromTokenId];
        (address owner, uint256 balance) = (f.owner, f.value);
        _checkValueMove(fromTokenId, owner, balance, f.flags, value);
        TokenId from = TokenId.wrap(fromTokenId);
        uint256 slot = from.slot();
        Receivable storage r = _requireMovable(slot);
        _requireActive(owner);
        Account storage recipient = _requireActive(to);

        uint256 sequence = uint256(r.lastSequence) + 1;
        if (sequence > TokenIdLib.MAX_SEQUENCE) revert TooManyFragments(slot, sequence - 1, 1);
        r.lastSequence = uint32(sequence); // checked just above
        newTokenId = TokenId.unwrap(TokenIdLib.make(slot, sequence)); // a decoded slot, a checked sequence
        unchecked {
            f.value = uint48(balance - value); // value <= balance was checked
            ++recipient.fragments;
        }
        _fragments[newTokenId] = Fragment({owner: to, value: uint48(value), parentSequence: from.sequence(), flags: 0});
        emit Transfer(address(0), to, newTokenId);
        emit SlotChanged(newTokenId, 0, slot);
        emit TransferValue(fromTokenId, newTokenId, value);
        _checkOnERC3525Received(to, fromTokenId, newTokenId, value);
    }

    /// @inheritdoc IReceivableToken
    function split(uint256 fromTokenId, address[] calldata to, uint256[] calldata values, bytes32 memo)
        external
        returns (uint256[] memory newTokenIds)
    {
        uint256 n = to.length;
        if (n != values.length) revert LengthMismatch(n, values.length);
        if (n == 0) revert EmptySplit(fromTokenId);
        Fragment storage f = _fragments[fromTokenId];
        (address owner, uint256 balance) = (f.owner, f.value);
        if (owner == address(0)) revert NonexistentToken(fromTokenId);
        uint256 total;
        for (uint256 i; i < n; ++i) {
            uint256 v = values[i];
            if (v > MAX_VALUE) revert InsufficientValue(fromTokenId, balance, v);
            total += v; // at most n * 2^48: cannot overflow
        }
        // Same checks, in the same order, as a single split: who may move it, how much is there, frozen.
        _checkValueMove(fromTokenId, owner, balance, f.flags, total);
        TokenId from = TokenId.wrap(fromTokenId);
        uint256 slot = from.slot();
        Receivable storage r = _requireMovable(slot);
        _requireActive(owner);

        uint256 last = r.lastSequence;
        if (last + n > TokenIdLib.MAX_SEQUENCE) revert TooManyFragments(slot, last, n);
        r.lastSequence = uint32(last + n); // checked just above
        unchecked {
            f.value = uint48(balance - total); // total <= balance was checked
        }
        newTokenIds = new uint256[](n);
        uint32 parentSequence = from.sequence();
        for (uint256 i; i < n; ++i) {
            uint256 id = TokenId.unwrap(TokenIdLib.make(slot, last + 1 + i)); // a decoded slot; <= last + n, checked
            if (values[i] == 0) revert ZeroValue(fromTokenId);
            newTokenIds[i] = id;
            address holder = to[i];
            _fragments[id] = Fragment({owner: holder, value: uint48(values[i]), parentSequence: parentSequence, flags: 0});
            Account storage recipient = _requireActive(holder);
            unchecked {
                ++recipient.fragments;
            }
            emit Transfer(address(0), holder, id);
            emit SlotChanged(id, 0, slot);
            emit TransferValue(fromTokenId, id, values[i]);
        }
        emit FragmentsSplit(fromTokenId, newTokenIds[0], n, memo);
        // Hooks run only now, after every write: a re-entering receiver sees final state.
        for (uint256 i; i < n; ++i) {
            _checkOnERC3525Received(to[i], fromTokenId, newTokenIds[i], values[i]);
        }
    }

    /// @notice Merges: moves `value` from `fromTokenId` into `toTokenId` of the same receivable.
    /// @inheritdoc IERC3525
    function transferFrom(uint256 fromTokenId, uint256 toTokenId, uint256 value) external {
        if (fromTokenId == toTokenId) revert SelfTransfer(fromTokenId);
        Fragment storage f = _fragments[fromTokenId];
        Fragment storage t = _fragments[toTokenId];
        (address owner, uint256 balance) = (f.owner, f.value);
        _checkValueMove(fromTokenId, owner, balance, f.flags, value);
        address toOwner = t.owner;
        if (toOwner == address(0)) revert NonexistentToken(toTokenId);
        uint256 slot = TokenId.wrap(fromTokenId).slot();
        if (TokenId.wrap(toTokenId).slot() != slot) revert SlotMismatch(fromTokenId, toTokenId);
        if (t.flags & FROZEN != 0) revert FragmentFrozen(toTokenId);
        _requireMovable(slot);
        _requireActive(owner);
        _requireActive(toOwner);
        unchecked {
            f.value = uint48(balance - value); // value <= balance was checked
            t.value += uint48(value); // both are parts of one face value <= MAX_VALUE
        }
        emit TransferValue(fromTokenId, toTokenId, value);
        _checkOnERC3525Received(toOwner, fromTokenId, toTokenId, value);
    }

    /// @inheritdoc IERC3525
    function approve(uint256 tokenId, address operator, uint256 value) external {
        Fragment storage f = _requireFragment(tokenId);
        address owner = f.owner;
        if (!_isOwnerOrApproved(tokenId, owner, f.flags, msg.sender)) revert NotOwnerNorApproved(tokenId, msg.sender);
        // An approval held by an outsider or a suspended member moves nothing, and so cannot be passed on either.
        if (msg.sender != owner) _requireActive(msg.sender);
        f.flags |= HAS_APPROVALS;
        _allowances[tokenId][_approvalEpochs[tokenId]][operator] = value;
        emit ApprovalValue(tokenId, operator, value);
    }

    // ------------------------------------------------------------------------------------------- repayment

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

    // ------------------------------------------------------------------------------------------- ERC-721 moves

    /// @inheritdoc IERC721
    function transferFrom(address from, address to, uint256 tokenId) public {
        _transferToken(from, to, tokenId);
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        _transferToken(from, to, tokenId);
        ERC721Utils.checkOnERC721Received(msg.sender, from, to, tokenId, data);
    }

    /// @inheritdoc IERC721
    function approve(address to, uint256 tokenId) external {
        Fragment storage f = _requireFragment(tokenId);
        address owner = f.owner;
        if (msg.sender != owner) {
            if (!_operatorApprovals[owner][msg.sender]) revert NotOwnerNorApproved(tokenId, msg.sender);
            _requireActive(msg.sender); // as for value approvals: an outsider's approval-for-all passes nothing on
        }
        f.flags |= HAS_APPROVALS;
        _tokenApprovals[tokenId] = to;
        emit Approval(owner, to, tokenId);
    }

    /// @inheritdoc IERC721
    function setApprovalForAll(address operator, bool approved) external {
        if (operator == address(0)) revert InvalidOperator(operator);
        _operatorApprovals[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
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
        _moveToken(tokenId, f, from, msg.sender, flags, _accounts[from], desk);
    }

    // ------------------------------------------------------------------------------------------- operator

    /// @inheritdoc IReceivableToken
    function freeze(uint256 tokenId, bytes32 reason) external {
        _requireRole(msg.sender, IMembership.Role.Operator);
        Fragment storage f = _requireFragment(tokenId);
        f.flags |= FROZEN;
        emit Frozen(tokenId, reason, msg.sender);
    }

    /// @inheritdoc IReceivableToken
    function unfreeze(uint256 tokenId) external {
        _requireRole(msg.sender, IMembership.Role.Operator);
        Fragment storage f = _requireFragment(tokenId);
        uint8 flags = f.flags;
        if (flags & FROZEN == 0) revert FragmentNotFrozen(tokenId);
        f.flags = flags & ~FROZEN;
        emit Unfrozen(tokenId, msg.sender);
    }

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

    // ------------------------------------------------------------------------------------------- views

    /// @notice "Receivable Voucher"-style names for wallets and explorers.
    function name() external pure returns (string memory) {
        return "SCF Receivable";
    }

    /// @notice Short symbol for wallets and explorers.
    function symbol() external pure returns (string memory) {
        return "SCFR";
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IERC721).interfaceId
            || interfaceId == type(IERC3525).interfaceId;
    }

    /// @inheritdoc IERC3525
    function valueDecimals() external pure returns (uint8) {
        return 2;
    }

    /// @inheritdoc IERC3525
    function balanceOf(uint256 tokenId) external view returns (uint256) {
        return _requireFragment(tokenId).value;
    }

    /// @inheritdoc IERC3525
    function slotOf(uint256 tokenId) external view returns (uint256) {
        _requireFragment(tokenId);
        return TokenId.wrap(tokenId).slot();
    }

    /// @inheritdoc IERC3525
    function allowance(uint256 tokenId, address operator) external view returns (uint256) {
        Fragment storage f = _requireFragment(tokenId);
        if (f.flags & HAS_APPROVALS == 0) return 0;
        return _allowances[tokenId][_approvalEpochs[tokenId]][operator];
    }

    /// @inheritdoc IERC721
    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(owner);
        return _accounts[owner].fragments;
    }

    /// @inheritdoc IERC721
    function ownerOf(uint256 tokenId) external view returns (address) {
        return _requireFragment(tokenId).owner;
    }

    /// @inheritdoc IERC721
    function getApproved(uint256 tokenId) external view returns (address) {
        Fragment storage f = _requireFragment(tokenId);
        return f.flags & HAS_APPROVALS == 0 ? address(0) : _tokenApprovals[tokenId];
    }

    /// @inheritdoc IERC721
    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        return _operatorApprovals[owner][operator];
    }

    /// @inheritdoc IReceivableToken
    function receivable(uint256 slot) external view returns (ReceivableInfo memory info) {
        Receivable storage r = _requireReceivable(slot);
        info = ReceivableInfo({
            debtor: r.debtor,
            faceValue: r.faceValue,
            issuedAt: r.issuedAt,
            maturity: r.maturity,
            documentHash: r.documentHash,
            state: _stateOf(r),
            fragmentsCreated: r.lastSequence,
            repaid: r.repaid,
            redeemedValue: r.redeemed,
            paidOut: r.paidOut
        });
    }

    /// @inheritdoc IReceivableToken
    function fragment(uint256 tokenId) external view returns (FragmentInfo memory info) {
        Fragment storage f = _requireFragment(tokenId);
        info = FragmentInfo({
            owner: f.owner,
            value: f.value,
            slot: TokenId.wrap(tokenId).slot(),
            parentId: _parentId(tokenId, f.parentSequence),
            frozen: f.flags & FROZEN != 0
        });
    }

    /// @inheritdoc IReceivableToken
    function fragmentsOf(uint256 slot, uint256 fromSequence, uint256 count)
        external
        view
        returns (FragmentInfo[] memory infos, uint256[] memory claimables, bool[] memory holdersActive)
    {
        Receivable storage r = _requireReceivable(slot);
        uint256 last = r.lastSequence;
        if (fromSequence == 0) fromSequence = 1;
        uint256 n = fromSequence > last ? 0 : last - fromSequence + 1;
        if (count < n) n = count;
        infos = new FragmentInfo[](n);
        claimables = new uint256[](n);
        holdersActive = new bool[](n);
        for (uint256 i; i < n; ++i) {
            // a stored receivable's slot; fromSequence + i <= last, a stored uint32
            uint256 tokenId = TokenId.unwrap(TokenIdLib.make(slot, fromSequence + i));
            Fragment storage f = _fragments[tokenId];
            infos[i] = FragmentInfo({
                owner: f.owner,
                value: f.value,
                slot: slot,
                parentId: _parentId(tokenId, f.parentSequence),
                frozen: f.flags & FROZEN != 0
            });
            if (f.owner != address(0)) {
                claimables[i] = _claimable(tokenId, f, r);
                Account storage a = _accounts[f.owner];
                holdersActive[i] = a.role != IMembership.Role.None && !a.suspended;
            }
        }
    }

    /// @inheritdoc IReceivableToken
    /// @dev Answers for burned fragments too, so a split tree can be walked back after redemption.
    function parentOf(uint256 tokenId) external view returns (uint256) {
        TokenId id = TokenId.wrap(tokenId);
        uint256 sequence = id.sequence();
        if (sequence == 0 || sequence > _receivables[id.slot()].lastSequence) revert NonexistentToken(tokenId);
        return _parentId(tokenId, _fragments[tokenId].parentSequence);
    }

    /// @inheritdoc IReceivableToken
    function slotFor(address debtor, bytes32 documentHash) external pure returns (uint256) {
        return _slotOf(debtor, documentHash);
    }

    /// @inheritdoc IReceivableToken
    function isFrozen(uint256 tokenId) external view returns (bool) {
        return _requireFragment(tokenId).flags & FROZEN != 0;
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

    // ------------------------------------------------------------------------------------------- internals

    /// @dev Holders are paid from maturity on, once the receivable was accepted and while it has not been
    ///      rejected or cancelled. The first call after maturity records it.
    function _requireRedeemable(uint256 slot) private returns (Receivable storage r) {
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

    function _recordMaturity(Receivable storage r, uint256 slot, ReceivableState state) private {
        if (state == ReceivableState.Active && block.timestamp >= r.maturity) {
            r.state = ReceivableState.Matured;
            emit MaturityReached(slot, r.maturity);
        }
    }

    function _releaseCredit(Receivable storage r) private {
        unchecked {
            _accounts[r.debtor].creditUsed -= r.faceValue; // this face value was added when it was issued
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
    ) private returns (uint256 amount, bool burned) {
        uint256 entitled = value * repaid / face; // value, repaid < 2^48: no overflow
        uint256 got = flags & HAS_PAID != 0 ? _paid[tokenId] : 0;
        amount = entitled - got; // repaid never decreases, so entitled >= got
        if (entitled == value) {
            // Paid in full: burn, keeping the parent link for tracing.
            burned = true;
            if (got != 0) delete _paid[tokenId];
            _burn(tokenId, f, owner, value);
        } else if (amount != 0) {
            _paid[tokenId] = entitled;
            if (got == 0) f.flags = flags | HAS_PAID;
        }
        if (amount != 0 || burned) emit FragmentRedeemed(tokenId, owner, amount, burned);
    }

    function _claimable(uint256 tokenId, Fragment storage f, Receivable storage r) private view returns (uint256) {
        ReceivableState state = r.state;
        bool paying = state == ReceivableState.Active || state == ReceivableState.Matured
            || state == ReceivableState.Overdue || state == ReceivableState.Repaid;
        if (!paying || block.timestamp < r.maturity) return 0;
        uint256 entitled = uint256(f.value) * r.repaid / r.faceValue;
        uint256 got = f.flags & HAS_PAID != 0 ? _paid[tokenId] : 0;
        return entitled - got;
    }

    function _requireFragment(uint256 tokenId) private view returns (Fragment storage f) {
        f = _fragments[tokenId];
        if (f.owner == address(0)) revert NonexistentToken(tokenId);
    }

    function _requireReceivable(uint256 slot) private view returns (Receivable storage r) {
        r = _receivables[slot];
        if (r.debtor == address(0)) revert NonexistentReceivable(slot);
    }

    function _stateOf(Receivable storage r) private view returns (ReceivableState state) {
        state = r.state;
        if (state == ReceivableState.Active && block.timestamp >= r.maturity) state = ReceivableState.Matured;
        // (stored Matured is recorded by the first repayment operation after maturity)
    }

    function _slotOf(address debtor, bytes32 documentHash) private pure returns (uint256) {
        return TokenIdLib.slotOfHash(keccak256(abi.encode(debtor, documentHash)));
    }

    function _parentId(uint256 tokenId, uint32 parentSequence) private pure returns (uint256) {
        return parentSequence == 0 ? 0 : TokenId.unwrap(TokenId.wrap(tokenId).withSequence(parentSequence));
    }

    /// @dev The receivable of `slot` must be active and before maturity for any of its value to move.
    function _requireMovable(uint256 slot) private view returns (Receivable storage r) {
        r = _receivables[slot];
        ReceivableState state = r.state;
        if (state != ReceivableState.Active) revert ReceivableNotActive(slot, state);
        uint256 maturity = r.maturity;
        if (block.timestamp >= maturity) revert ReceivableMatured(slot, maturity, block.timestamp);
    }

    /// @dev Checks shared by every value move out of a fragment: it exists, the caller may move `value`
    ///      (spending a value allowance if that is what permits it), the value is there, it is not frozen.
    function _checkValueMove(uint256 tokenId, address owner, uint256 balance, uint8 flags, uint256 value) private {
        if (owner == address(0)) revert NonexistentToken(tokenId);
        if (msg.sender != owner) {
            _requireActive(msg.sender); // an operator acting for the owner must be a member too (or escrow)
            if (!_operatorApprovals[owner][msg.sender]) _spendAllowance(tokenId, flags, value);
        }
        if (value == 0) revert ZeroValue(tokenId);
        if (value > balance) revert InsufficientValue(tokenId, balance, value);
        if (flags & FROZEN != 0) revert FragmentFrozen(tokenId);
    }

    function _spendAllowance(uint256 tokenId, uint8 flags, uint256 value) private {
        if (flags & HAS_APPROVALS == 0) revert NotOwnerNorApproved(tokenId, msg.sender);
        if (_tokenApprovals[tokenId] == msg.sender) return;
        mapping(address => uint256) storage allowances = _allowances[tokenId][_approvalEpochs[tokenId]];
        uint256 allowed = allowances[msg.sender];
        if (allowed == 0) revert NotOwnerNorApproved(tokenId, msg.sender);
        if (allowed < value) revert InsufficientAllowance(tokenId, msg.sender, allowed, value);
        if (allowed != type(uint256).max) {
            unchecked {
                allowances[msg.sender] = allowed - value; // allowed >= value was checked
            }
        }
    }

    function _isOwnerOrApproved(uint256 tokenId, address owner, uint8 flags, address account)
        private
        view
        returns (bool)
    {
        return account == owner || _operatorApprovals[owner][account]
            || (flags & HAS_APPROVALS != 0 && _tokenApprovals[tokenId] == account);
    }

    function _requirePendingHolder(uint256 tokenId) private view returns (uint256 slot, Receivable storage r) {
        address holder = _requireFragment(tokenId).owner;
        if (holder != msg.sender) revert CallerNotHolder(tokenId, msg.sender, holder);
        slot = TokenId.wrap(tokenId).slot();
        r = _receivables[slot];
        if (r.state != ReceivableState.Pending) revert ReceivableNotPending(slot, _stateOf(r));
        uint256 maturity = r.maturity;
        if (block.timestamp >= maturity) revert ReceivableMatured(slot, maturity, block.timestamp);
    }

    function _transferToken(address from, address to, uint256 tokenId) private {
        Fragment storage f = _requireFragment(tokenId);
        address owner = f.owner;
        uint8 flags = f.flags;
        if (owner != from) revert IncorrectOwner(tokenId, from, owner);
        if (!_isOwnerOrApproved(tokenId, owner, flags, msg.sender)) revert NotOwnerNorApproved(tokenId, msg.sender);
        if (msg.sender != owner) _requireActive(msg.sender); // an operator must be a member too (or escrow)
        if (flags & FROZEN != 0) revert FragmentFrozen(tokenId);
        _requireMovable(TokenId.wrap(tokenId).slot());
        _moveToken(tokenId, f, from, to, flags, _requireActive(from), _requireActive(to));
    }

    /// @dev The one place a whole fragment changes owner (ERC-721 transfer, recourse buy-back).
    function _moveToken(
        uint256 tokenId,
        Fragment storage f,
        address from,
        address to,
        uint8 flags,
        Account storage sender,
        Account storage recipient
    ) private {
        f.owner = to;
        if (flags & HAS_APPROVALS != 0) {
            // A new owner starts with no approvals: void the ERC-721 approval and every value allowance at once.
            f.flags = flags & ~HAS_APPROVALS;
            delete _tokenApprovals[tokenId];
            unchecked {
                ++_approvalEpochs[tokenId];
            }
        }
        unchecked {
            --sender.fragments; // from owned tokenId, so its count is at least 1
            ++recipient.fragments;
        }
        emit Transfer(from, to, tokenId);
    }

    /// @dev A rejected or cancelled receivable's only fragment ends; a judicial freeze on it holds the receivable.
    function _burnPending(uint256 tokenId) private {
        Fragment storage f = _fragments[tokenId];
        if (f.flags & FROZEN != 0) revert FragmentFrozen(tokenId);
        _burn(tokenId, f, f.owner, f.value);
    }

    /// @dev The one way a fragment ends (rejected, cancelled, or paid in full); the parent link stays for tracing.
    function _burn(uint256 tokenId, Fragment storage f, address owner, uint256 value) private {
        f.owner = address(0);
        f.value = 0;
        f.flags = 0; // a burned fragment is neither frozen nor approved
        unchecked {
            --_accounts[owner].fragments; // owner held tokenId
        }
        emit Transfer(owner, address(0), tokenId);
        emit TransferValue(tokenId, 0, value); // ERC-3525 asks SlotChanged only when a slot is set or changed
    }

    /// @dev Per ERC-3525: a receiving contract that declares IERC3525Receiver must accept the value. A refusal
    ///      is ERC-6093's ERC721InvalidReceiver, the error OpenZeppelin's ERC-721 hook check raises for
    ///      safeTransferFrom, so a receiver that refuses is named the same way whichever hook it refused.
    function _checkOnERC3525Received(address to, uint256 fromTokenId, uint256 toTokenId, uint256 value) private {
        if (to.code.length == 0) return;
        try IERC165(to).supportsInterface(type(IERC3525Receiver).interfaceId) returns (bool declared) {
            if (!declared) return;
        } catch {
            return;
        }
        try IERC3525Receiver(to).onERC3525Received(msg.sender, fromTokenId, toTokenId, value, "") returns (bytes4 ret) {
            if (ret != IERC3525Receiver.onERC3525Received.selector) revert ERC721InvalidReceiver(to);
        } catch (bytes memory reason) {
            if (reason.length == 0) revert ERC721InvalidReceiver(to);
            assembly ("memory-safe") {
                revert(add(reason, 0x20), mload(reason))
            }
        }
    }
}
