// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {IERC3525} from "../interfaces/IERC3525.sol";
import {IERC3525Receiver} from "../interfaces/IERC3525Receiver.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IReceivableToken} from "../interfaces/IReceivableToken.sol";
import {TokenId, TokenIdLib} from "../types/TokenId.sol";
import {ReceivableStorage} from "./ReceivableStorage.sol";

/// @title ReceivableLifecycle: issue, accept, reject, cancel, split, merge, transfer, freeze
/// @notice How a receivable comes to be and how its value moves down the supply chain before maturity.
abstract contract ReceivableLifecycle is ReceivableStorage {
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
        _update(tokenId, _fragments[tokenId], address(0), supplier, 0, faceValue, 0, holder, holder);
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
        }
        _update(newTokenId, _fragments[newTokenId], address(0), to, 0, value, fromTokenId, recipient, recipient);
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
        for (uint256 i; i < n; ++i) {
            uint256 id = TokenId.unwrap(TokenIdLib.make(slot, last + 1 + i)); // a decoded slot; <= last + n, checked
            if (values[i] == 0) revert ZeroValue(fromTokenId);
            newTokenIds[i] = id;
            address holder = to[i];
            Account storage recipient = _requireActive(holder);
            _update(id, _fragments[id], address(0), holder, 0, values[i], fromTokenId, recipient, recipient);
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

    // ------------------------------------------------------------------------------------------- judicial freeze

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

    // ------------------------------------------------------------------------------------------- internals

    function _requirePendingHolder(uint256 tokenId) internal view returns (uint256 slot, Receivable storage r) {
        address holder = _requireFragment(tokenId).owner;
        if (holder != msg.sender) revert CallerNotHolder(tokenId, msg.sender, holder);
        slot = TokenId.wrap(tokenId).slot();
        r = _receivables[slot];
        if (r.state != ReceivableState.Pending) revert ReceivableNotPending(slot, _stateOf(r));
        uint256 maturity = r.maturity;
        if (block.timestamp >= maturity) revert ReceivableMatured(slot, maturity, block.timestamp);
    }

    /// @dev The receivable of `slot` must be active and before maturity for any of its value to move.
    function _requireMovable(uint256 slot) internal view returns (Receivable storage r) {
        r = _receivables[slot];
        ReceivableState state = r.state;
        if (state != ReceivableState.Active) revert ReceivableNotActive(slot, state);
        uint256 maturity = r.maturity;
        if (block.timestamp >= maturity) revert ReceivableMatured(slot, maturity, block.timestamp);
    }

    /// @dev Checks shared by every value move out of a fragment: it exists, the caller may move `value`
    ///      (spending a value allowance if that is what permits it), the value is there, it is not frozen.
    function _checkValueMove(uint256 tokenId, address owner, uint256 balance, uint8 flags, uint256 value) internal {
        if (owner == address(0)) revert NonexistentToken(tokenId);
        if (msg.sender != owner) {
            _requireActive(msg.sender); // an operator acting for the owner must be a member too (or escrow)
            if (!_operatorApprovals[owner][msg.sender]) _spendAllowance(tokenId, flags, value);
        }
        if (value == 0) revert ZeroValue(tokenId);
        if (value > balance) revert InsufficientValue(tokenId, balance, value);
        if (flags & FROZEN != 0) revert FragmentFrozen(tokenId);
    }

    function _spendAllowance(uint256 tokenId, uint8 flags, uint256 value) internal {
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

    function _transferToken(address from, address to, uint256 tokenId) internal {
        Fragment storage f = _requireFragment(tokenId);
        address owner = f.owner;
        uint8 flags = f.flags;
        if (owner != from) revert IncorrectOwner(tokenId, from, owner);
        if (!_isOwnerOrApproved(tokenId, owner, flags, msg.sender)) revert NotOwnerNorApproved(tokenId, msg.sender);
        if (msg.sender != owner) _requireActive(msg.sender); // an operator must be a member too (or escrow)
        if (flags & FROZEN != 0) revert FragmentFrozen(tokenId);
        _requireMovable(TokenId.wrap(tokenId).slot());
        _update(tokenId, f, from, to, flags, 0, 0, _requireActive(from), _requireActive(to));
    }

    /// @dev A rejected or cancelled receivable's only fragment ends; a judicial freeze on it holds the receivable.
    function _burnPending(uint256 tokenId) internal {
        Fragment storage f = _fragments[tokenId];
        uint8 flags = f.flags;
        if (flags & FROZEN != 0) revert FragmentFrozen(tokenId);
        address owner = f.owner;
        Account storage holder = _accounts[owner];
        _update(tokenId, f, owner, address(0), flags, f.value, 0, holder, holder);
    }

    /// @dev Per ERC-3525: a receiving contract that declares IERC3525Receiver must accept the value. A refusal
    ///      is ERC-6093's ERC721InvalidReceiver, the error OpenZeppelin's ERC-721 hook check raises for
    ///      safeTransferFrom, so a receiver that refuses is named the same way whichever hook it refused.
    function _checkOnERC3525Received(address to, uint256 fromTokenId, uint256 toTokenId, uint256 value) internal {
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
