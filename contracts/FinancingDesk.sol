// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IFinancingDesk} from "./interfaces/IFinancingDesk.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IReceivableToken} from "./interfaces/IReceivableToken.sol";
import {MemberWord} from "./MemberWord.sol";
import {TokenId} from "./types/TokenId.sol";

/// @title FinancingDesk
/// @notice Delivery versus payment for receivable fragments: a holder's EIP-712 signed request, funded by a
///         financier, moves cash and value in one transaction or not at all (rule 6).
/// @dev The desk is an escrow (system) account in both tokens: it moves the holder's value under the
///      holder's `setApprovalForAll`, and the financier's cash under the financier's ERC-20 allowance. The
///      tokens still check every party's membership, the fragment's state, freeze and maturity.
///      Nonces are a bitmap (256 per storage word), so a holder signing with consecutive nonces pays for a new
///      word once every 256 requests.
///      Every state-changing function is `nonReentrant`: a financier that is a contract receives the ERC-3525
///      hook in the middle of `finance` (a partial sale mints it a new fragment) and must not re-enter the desk
///      before the financing is recorded. The guard is a storage word (about 2,300 gas net per call, after the
///      refund for restoring it), not transient storage: the contracts target the `paris` EVM, which has no
///      EIP-1153, so that they run on consortium chains that lag the public forks (Clique, many Besu networks).
contract FinancingDesk is IFinancingDesk, EIP712, MemberWord, ReentrancyGuard {
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
    mapping(uint256 financedTokenId => Custody) private _custody;

    constructor(IMembership membership_, IReceivableToken receivables_, IERC20 cash_)
        EIP712("SCF FinancingDesk", "1")
        MemberWord(membership_)
    {
        receivables = receivables_;
        cash = cash_;
    }

    // ------------------------------------------------------------------------------------------- financing

    /// @inheritdoc IFinancingDesk
    function finance(FinancingRequest calldata request, bytes calldata signature)
        external
        nonReentrant
        returns (uint256 financedTokenId)
    {
        _requireRole(msg.sender, IMembership.Role.Financier);
        if (block.timestamp > request.deadline) revert RequestExpired(request.deadline, block.timestamp);
        if (request.financier != address(0) && request.financier != msg.sender) {
            revert RequestForAnotherFinancier(request.financier, msg.sender);
        }
        bytes32 digest = _digest(request);
        // tryRecover refuses malleable (high-s) signatures; the third return (the raw error argument) adds nothing.
        (address signer, ECDSA.RecoverError recoverError,) = ECDSA.tryRecover(digest, signature);
        if (recoverError != ECDSA.RecoverError.NoError) revert InvalidSignature();
        // Buying from oneself moves nothing but would rewrite the financing record (and so the recourse) of it.
        if (signer == msg.sender) revert SelfFinancing(signer);

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
        Financing storage earlier = _financings[tokenId];
        if (value == f.value) {
            receivables.transferFrom(signer, msg.sender, tokenId);
            financedTokenId = tokenId;
            // The whole fragment changes hands under the same id: whatever financing of it was open ends here
            // (its financier no longer holds it: exposure released, recourse ended), and this one replaces it.
            if (earlier.financier != address(0) && !earlier.released) _release(tokenId, earlier, debtor, earlier.value);
            _financings[tokenId] = Financing({
                financier: msg.sender,
                value: uint48(value), // <= a fragment's value < 2^48
                recourse: request.recourse,
                released: false,
                seller: request.recourse ? signer : address(0),
                recourseClaim: 0,
                recourseSettled: false
            });
        } else {
            financedTokenId = receivables.transferFrom(tokenId, msg.sender, value);
            // A financier selling part of what it bought: that much leaves its books and its recourse claim.
            if (earlier.financier == signer && !earlier.released) {
                uint256 recorded = earlier.value;
                _release(tokenId, earlier, debtor, value < recorded ? value : recorded);
            }
            Financing storage record = _financings[financedTokenId]; // a new id: nothing recorded yet
            record.financier = msg.sender;
            record.value = uint48(value); // < a fragment's value < 2^48
            if (request.recourse) {
                record.recourse = true;
                record.seller = signer;
            }
        }
        cash.safeTransferFrom(msg.sender, signer, request.price);
        emit Financed(digest, tokenId, financedTokenId, signer, msg.sender, value, request.price, request.recourse);
    }

    /// @inheritdoc IFinancingDesk
    function cancel(uint256 nonce) external nonReentrant {
        _useNonce(msg.sender, nonce);
        emit RequestCancelled(msg.sender, nonce);
    }

    /// @inheritdoc IFinancingDesk
    function setExposureLimit(address debtor, uint256 limit) external nonReentrant {
        _requireRole(msg.sender, IMembership.Role.Financier);
        _exposures[msg.sender][debtor].limit = uint128(limit > type(uint128).max ? type(uint128).max : limit);
        emit ExposureLimitSet(msg.sender, debtor, limit);
    }

    /// @inheritdoc IFinancingDesk
    function releaseExposure(uint256[] calldata financedTokenIds) external nonReentrant {
        for (uint256 i; i < financedTokenIds.length; ++i) {
            uint256 tokenId = financedTokenIds[i];
            Financing storage record = _financings[tokenId];
            address financier = record.financier;
            if (financier == address(0)) revert UnknownFinancing(tokenId);
            if (record.released) continue;
            IReceivableToken.ReceivableInfo memory info = receivables.receivable(TokenId.wrap(tokenId).slot());
            bool done = info.state == IReceivableToken.ReceivableState.Repaid;
            if (!done) {
                try receivables.ownerOf(tokenId) returns (address owner) {
                    done = owner != financier; // sold on, or taken back under recourse
                } catch {
                    done = true; // burned: paid in full
                }
            }
            if (!done) revert ExposureStillOutstanding(tokenId);
            _release(tokenId, record, info.debtor, record.value);
        }
    }

    // ------------------------------------------------------------------------------------------- recourse

    /// @inheritdoc IFinancingDesk
    function claimRecourse(uint256 financedTokenId) external nonReentrant returns (uint256 amount) {
        Financing storage record = _requireRecourse(financedTokenId);
        if (msg.sender != record.financier) revert NotAuthorized(msg.sender, record.financier);
        if (record.recourseClaim != 0) revert RecourseUnavailable(financedTokenId);
        (amount,,) = _recourseDue(financedTokenId, record);
        if (amount == 0) revert RecourseUnavailable(financedTokenId);
        record.recourseClaim = uint48(amount); // <= the recorded value < 2^48
        emit RecourseClaimed(financedTokenId, record.seller, msg.sender, amount);
    }

    /// @inheritdoc IFinancingDesk
    function settleRecourse(uint256 financedTokenId) external nonReentrant {
        Financing storage record = _requireRecourse(financedTokenId);
        address seller = record.seller;
        if (record.recourseClaim == 0) revert RecourseUnavailable(financedTokenId);
        if (msg.sender != seller) revert NotAuthorized(msg.sender, seller);
        address financier = record.financier;
        uint256 slot = TokenId.wrap(financedTokenId).slot();

        // First pay the financier everything the fragment is owed so far, so that what comes later is shared
        // from a clean start; then price the buy-back on the unpaid part of the value sold with recourse.
        uint256[] memory ids = new uint256[](1);
        ids[0] = financedTokenId;
        receivables.settle(slot, ids);
        (uint256 due, uint256 fragmentValue, uint256 paidBefore) = _recourseDue(financedTokenId, record);

        record.recourseSettled = true;
        _custody[financedTokenId] = Custody({
            fragmentValue: uint48(fragmentValue), // a fragment's value < 2^48
            paidBefore: uint48(paidBefore), // <= fragmentValue
            sellerShare: uint48(due), // <= fragmentValue
            distributed: 0,
            paidToSeller: 0
        });
        if (!record.released) _release(financedTokenId, record, receivables.receivable(slot).debtor, record.value);
        receivables.recourseTransfer(financier, financedTokenId);
        cash.safeTransferFrom(seller, financier, due);
        emit RecourseSettled(financedTokenId, seller, financier, due);
    }

    /// @inheritdoc IFinancingDesk
    function redeemRecourse(uint256 financedTokenId) external nonReentrant returns (uint256 toSeller, uint256 toFinancier) {
        Custody storage c = _custody[financedTokenId];
        uint256 fragmentValue = c.fragmentValue;
        if (fragmentValue == 0) revert NotInCustody(financedTokenId);
        uint256 slot = TokenId.wrap(financedTokenId).slot();
        uint256[] memory ids = new uint256[](1);
        ids[0] = financedTokenId;
        receivables.settle(slot, ids); // pays this desk what is claimable (nothing if a keeper already did)

        // What the fragment has been paid since the desk took it, shared pro rata between the seller (the value
        // it bought back) and the financier (any other value merged into the fragment). Cumulative, so the
        // rounding never drifts: when the debtor has paid in full, both have exactly their share.
        IReceivableToken.ReceivableInfo memory info = receivables.receivable(slot);
        uint256 paidBefore = c.paidBefore;
        uint256 received = fragmentValue * info.repaid / info.faceValue - paidBefore; // paid since custody
        uint256 distributed = c.distributed;
        if (received == distributed) revert NothingToDistribute(financedTokenId);
        // fragmentValue > paidBefore: the receivable was overdue (not fully repaid) when the desk took it.
        uint256 sellerTotal = received * c.sellerShare / (fragmentValue - paidBefore);
        toSeller = sellerTotal - c.paidToSeller;
        toFinancier = received - distributed - toSeller; // sellerShare <= fragmentValue - paidBefore
        c.distributed = uint48(received);
        c.paidToSeller = uint48(sellerTotal);

        Financing storage record = _financings[financedTokenId];
        (address seller, address financier) = (record.seller, record.financier);
        if (toSeller != 0) cash.safeTransfer(seller, toSeller);
        if (toFinancier != 0) cash.safeTransfer(financier, toFinancier);
        emit RecourseRedeemed(financedTokenId, seller, toSeller, financier, toFinancier);
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

    /// @inheritdoc IFinancingDesk
    function custody(uint256 financedTokenId) external view returns (Custody memory) {
        return _custody[financedTokenId];
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

    /// @dev Ends `amount` of `record`'s exposure, once: the record is released when nothing is left of it.
    function _release(uint256 financedTokenId, Financing storage record, address debtor, uint256 amount) private {
        address financier = record.financier;
        uint256 remaining = record.value - amount; // amount <= record.value
        record.value = uint48(remaining);
        if (remaining == 0) record.released = true;
        unchecked {
            _exposures[financier][debtor].used -= uint128(amount); // the record's value was added when financed
        }
        emit ExposureReleased(financedTokenId, financier, debtor, amount);
    }

    /// @dev The record of a financing with recourse whose receivable is overdue.
    function _requireRecourse(uint256 financedTokenId) private view returns (Financing storage record) {
        record = _financings[financedTokenId];
        if (record.financier == address(0)) revert UnknownFinancing(financedTokenId);
        if (!record.recourse) revert NoRecourse(financedTokenId);
        if (record.recourseSettled) revert RecourseUnavailable(financedTokenId);
    }

    /// @dev What the seller owes under recourse now: the part of the value it sold with recourse that the
    ///      financier still holds and repayments have not covered. Only while the receivable is overdue and the
    ///      financier holds the fragment (sold on, the right ended with the sale).
    function _recourseDue(uint256 financedTokenId, Financing storage record)
        private
        view
        returns (uint256 due, uint256 fragmentValue, uint256 paidSoFar)
    {
        uint256 slot = TokenId.wrap(financedTokenId).slot();
        IReceivableToken.ReceivableInfo memory info = receivables.receivable(slot);
        if (info.state != IReceivableToken.ReceivableState.Overdue) {
            revert IReceivableToken.ReceivableNotOverdue(slot, info.state);
        }
        IReceivableToken.FragmentInfo memory f = receivables.fragment(financedTokenId);
        if (f.owner != record.financier) revert RecourseEnded(financedTokenId, f.owner);
        fragmentValue = f.value;
        uint256 capped = record.value < fragmentValue ? record.value : fragmentValue;
        due = capped - capped * info.repaid / info.faceValue;
        paidSoFar = fragmentValue * info.repaid / info.faceValue;
    }

    function _useNonce(address signer, uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 word = _nonces[signer][nonce >> 8];
        if (word & bit != 0) revert NonceAlreadyUsed(signer, nonce);
        _nonces[signer][nonce >> 8] = word | bit;
    }
}
