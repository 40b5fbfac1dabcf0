// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC3525} from "../interfaces/IERC3525.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IReceivableToken} from "../interfaces/IReceivableToken.sol";
import {TokenId, TokenIdLib} from "../types/TokenId.sol";
import {ReceivableStorage} from "./ReceivableStorage.sol";

/// @title ReceivableERC3525: the ERC-721 and ERC-3525 surface (approvals, metadata, balances) and the reads
///        of receivables and fragments
abstract contract ReceivableERC3525 is ReceivableStorage {
    // ------------------------------------------------------------------------------------------- approvals

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

    // ------------------------------------------------------------------------------------------- internals

    function _parentId(uint256 tokenId, uint32 parentSequence) internal pure returns (uint256) {
        return parentSequence == 0 ? 0 : TokenId.unwrap(TokenId.wrap(tokenId).withSequence(parentSequence));
    }
}
