// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IFinancingDesk} from "./interfaces/IFinancingDesk.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IReceivableToken} from "./interfaces/IReceivableToken.sol";
import {MembershipCache} from "./MembershipCache.sol";

/// @title FinancingDesk
/// @notice Delivery versus payment for receivable fragments: a holder's EIP-712 signed request, funded by a
///         financier, moves cash and value in one transaction or not at all (rule 6).
/// @dev The desk is an escrow (system) account in both tokens: it moves the holder's value under the
///      holder's `setApprovalForAll`, and the financier's cash under the financier's ERC-20 allowance. The
///      tokens still check every party's membership, the fragment's state, freeze and maturity.
///      Nonces are a bitmap (256 per storage word), so a holder signing with consecutive nonces pays for a new
///      word once every 256 requests.
contract FinancingDesk is IFinancingDesk, EIP712, MembershipCache {
    using SafeERC20 for IERC20;

    bytes32 public constant FINANCING_REQUEST_TYPEHASH = keccak256(
        "FinancingRequest(uint256 tokenId,uint256 value,uint256 price,address financier,bool recourse,uint256 nonce,uint256 deadline)"
    );

    IReceivableToken public immutable receivables;
    IERC20 public immutable cash;

    struct Exposure {
        uint128 limit;
        uint128 used;
    }

    mapping(address financier => mapping(address debtor => Exposure)) private _exposures;
    mapping(address signer => mapping(uint256 word => uint256 bits)) private _nonces;
    mapping(uint256 financedTokenId => Financing) private _financings;

    constructor(IMembership membership_, IReceivableToken receivables_, IERC20 cash_)
        EIP712("SCF FinancingDesk", "1")
        MembershipCache(membership_)
    {
        receivables = receivables_;
        cash = cash_;
    }

    // ------------------------------------------------------------------------------------------- financing

    /// @inheritdoc IFinancingDesk
    function finance(FinancingRequest calldata request, bytes calldata signature)
        external
        returns (uint256 financedTokenId)
    {
        _requireRole(msg.sender, IMembership.Role.Financier);
        if (block.timestamp > request.deadline) revert RequestExpired(request.deadline, block.timestamp);
        if (request.financier != address(0) && request.financier != msg.sender) {
            revert RequestForAnotherFinancier(request.financier, msg.sender);
        }
        bytes32 digest = _digest(request);
        (address signer, ECDSA.RecoverError recoverError,) = ECDSA.tryRecover(digest, signature);
        if (recoverError != ECDSA.RecoverError.NoError) revert InvalidSignature();

        uint256 tokenId = request.tokenId;
        IReceivableToken.FragmentInfo memory f = receivables.fragment(tokenId); // reverts NonexistentToken
        if (f.owner != signer) revert SignerNotHolder(tokenId, signer, f.owner);
        _useNonce(signer, request.nonce);
        uint256 value = request.value;
        if (value == 0 || value > f.value) revert InvalidFinancingValue(tokenId, value, f.value);
        if (request.price == 0 || request.price > value) revert InvalidPrice(request.price, value);

        address debtor = receivables.receivable(f.slot).debtor;
        Exposure storage e = _exposures[msg.sender][debtor];
        (uint256 limit, uint256 used) = (e.limit, e.used);
        if (used + value > limit) revert ExposureLimitExceeded(msg.sender, debtor, limit, used, value);
        e.used = uint128(used + value); // <= limit < 2^128

        // Value first (the token checks state, freeze, maturity and both parties), then cash.
        if (value == f.value) {
            receivables.transferFrom(signer, msg.sender, tokenId);
            financedTokenId = tokenId;
        } else {
            financedTokenId = receivables.transferFrom(tokenId, msg.sender, value);
        }
        Financing storage record = _financings[financedTokenId];
        record.financier = msg.sender;
        record.value = uint48(value); // <= a fragment's value < 2^48
        record.released = false;
        if (request.recourse) {
            record.recourse = true;
            record.seller = signer;
        }
        cash.safeTransferFrom(msg.sender, signer, request.price);
        emit Financed(digest, tokenId, financedTokenId, signer, msg.sender, value, request.price, request.recourse);
    }

    /// @inheritdoc IFinancingDesk
    function cancel(uint256 nonce) external {
        _useNonce(msg.sender, nonce);
        emit RequestCancelled(msg.sender, nonce);
    }

    /// @inheritdoc IFinancingDesk
    function setExposureLimit(address debtor, uint256 limit) external {
        _requireRole(msg.sender, IMembership.Role.Financier);
        _exposures[msg.sender][debtor].limit = uint128(limit > type(uint128).max ? type(uint128).max : limit);
        emit ExposureLimitSet(msg.sender, debtor, limit);
    }

    /// @inheritdoc IFinancingDesk
    function releaseExposure(uint256[] calldata financedTokenIds) external {
        for (uint256 i; i < financedTokenIds.length; ++i) {
            uint256 tokenId = financedTokenIds[i];
            Financing storage record = _financings[tokenId];
            address financier = record.financier;
            if (financier == address(0)) revert UnknownFinancing(tokenId);
            if (record.released) continue;
            IReceivableToken.ReceivableInfo memory info = receivables.receivable(tokenId >> 32);
            bool done = info.state == IReceivableToken.ReceivableState.Repaid;
            if (!done) {
                try receivables.ownerOf(tokenId) returns (address owner) {
                    done = owner != financier; // sold on
                } catch {
                    done = true; // burned: paid in full
                }
            }
            if (!done) revert ExposureStillOutstanding(tokenId);
            record.released = true;
            uint256 value = record.value;
            unchecked {
                _exposures[financier][info.debtor].used -= uint128(value); // added when financed
            }
            emit ExposureReleased(tokenId, financier, info.debtor, value);
        }
    }

    // ------------------------------------------------------------------------------------------- recourse

    /// @inheritdoc IFinancingDesk
    function claimRecourse(uint256 financedTokenId) external returns (uint256 amount) {
        Financing storage record = _financings[financedTokenId];
        if (record.financier == address(0)) revert UnknownFinancing(financedTokenId);
        if (!record.recourse) revert NoRecourse(financedTokenId);
        if (msg.sender != record.financier) revert NotAuthorized(msg.sender, record.financier);
        if (record.recourseClaim != 0 || record.recourseSettled) revert RecourseUnavailable(financedTokenId);
        uint256 slot = financedTokenId >> 32;
        IReceivableToken.ReceivableInfo memory info = receivables.receivable(slot);
        if (info.state != IReceivableToken.ReceivableState.Overdue) revert ReceivableNotOverdue(slot, uint8(info.state));
        uint256 value = record.value;
        amount = value - value * info.repaid / info.faceValue; // the part repayments have not covered yet
        if (amount == 0) revert RecourseUnavailable(financedTokenId);
        record.recourseClaim = uint48(amount);
        emit RecourseClaimed(financedTokenId, record.seller, msg.sender, amount);
    }

    /// @inheritdoc IFinancingDesk
    function settleRecourse(uint256 financedTokenId) external {
        Financing storage record = _financings[financedTokenId];
        uint256 amount = record.recourseClaim;
        if (amount == 0 || record.recourseSettled) revert RecourseUnavailable(financedTokenId);
        if (msg.sender != record.seller) revert NotAuthorized(msg.sender, record.seller);
        record.recourseSettled = true;
        cash.safeTransferFrom(msg.sender, record.financier, amount);
        emit RecourseSettled(financedTokenId, msg.sender, record.financier, amount);
    }

    // ------------------------------------------------------------------------------------------- views

    /// @inheritdoc IFinancingDesk
    function requestHash(FinancingRequest calldata request) external view returns (bytes32) {
        return _digest(request);
    }

    /// @inheritdoc IFinancingDesk
    function nonceUsed(address signer, uint256 nonce) external view returns (bool) {
        return _nonces[signer][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IFinancingDesk
    function exposure(address financier, address debtor) external view returns (uint256 limit, uint256 used) {
        Exposure storage e = _exposures[financier][debtor];
        return (e.limit, e.used);
    }

    /// @inheritdoc IFinancingDesk
    function financing(uint256 financedTokenId) external view returns (Financing memory) {
        return _financings[financedTokenId];
    }

    // ------------------------------------------------------------------------------------------- internals

    function _digest(FinancingRequest calldata r) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    FINANCING_REQUEST_TYPEHASH,
                    r.tokenId,
                    r.value,
                    r.price,
                    r.financier,
                    r.recourse,
                    r.nonce,
                    r.deadline
                )
            )
        );
    }

    function _useNonce(address signer, uint256 nonce) private {
        mapping(uint256 => uint256) storage words = _nonces[signer];
        uint256 bit = 1 << (nonce & 0xff);
        uint256 word = words[nonce >> 8];
        if (word & bit != 0) revert NonceAlreadyUsed(signer, nonce);
        words[nonce >> 8] = word | bit;
    }
}
