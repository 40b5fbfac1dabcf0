// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Financing desk: a holder sells part of a fragment to a financier, cash against value, atomically
/// @notice The holder signs an EIP-712 `FinancingRequest` off chain, for free; a financier submits it and in one
///         transaction the cash moves to the holder and the value to the financier (融资/贴现), or nothing
///         moves. The chain never computes rates: the request states the price in fen.
interface IFinancingDesk {
    /// @notice Sell `value` fen of fragment `tokenId` for `price` fen of cash, to `financier`
    ///         (or to any active financier when zero), with or without recourse, valid until `deadline`.
    struct FinancingRequest {
        uint256 tokenId;
        uint256 value;
        uint256 price;
        address financier;
        bool recourse;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice The open financing of a fragment: who bought it, how much of it still counts against the
    ///         financier's exposure (and caps any recourse claim), and the recourse agreed. One record per
    ///         financed fragment: when the whole fragment is financed again (resold through the desk) the earlier
    ///         record ends first (its exposure released, its recourse over) and the new one replaces it; every
    ///         financing, ended or not, is in the `Financed` event with the EIP-712 digest that identifies it.
    struct Financing {
        address financier;
        uint48 value; // fen still on the financier's books from this financing: shrinks on resale and release
        bool recourse;
        bool released; // exposure fully released: it happens once
        address seller; // recorded only for financings with recourse
        uint48 recourseClaim; // unpaid value claimed from the seller after the receivable went overdue
        bool recourseSettled; // the seller bought the fragment back: the desk holds it (see `Custody`)
    }

    /// @notice A fragment the seller bought back under recourse, held by the desk so that what the debtor pays
    ///         later reaches the seller on chain: of what the fragment is paid after `paidBefore`, the seller
    ///         gets `sellerShare` out of every `fragmentValue - paidBefore`, the financier the rest (value it had
    ///         merged into the fragment that was never sold with recourse).
    struct Custody {
        uint48 fragmentValue;
        uint48 paidBefore; // what the fragment had been paid (to the financier) when the desk took it
        uint48 sellerShare; // what the seller paid for: the unpaid part of the value sold with recourse
        uint48 distributed; // paid on since, to both
        uint48 paidToSeller;
    }

    /// @notice `requestHash` was funded: `value` of `tokenId` (now `financedTokenId`, held by `financier`)
    ///         for `price` fen paid to `seller`.
    event Financed(
        bytes32 indexed requestHash,
        uint256 indexed tokenId,
        uint256 financedTokenId,
        address indexed seller,
        address financier,
        uint256 value,
        uint256 price,
        bool recourse
    );
    /// @notice `signer` withdrew its request with `nonce`.
    event RequestCancelled(address indexed signer, uint256 indexed nonce);
    /// @notice `financier` will hold at most `limit` fen of value owed by `debtor`.
    event ExposureLimitSet(address indexed financier, address indexed debtor, uint256 limit);
    /// @notice `value` fen of the financing of `financedTokenId` no longer count against `financier`'s exposure.
    event ExposureReleased(uint256 indexed financedTokenId, address indexed financier, address indexed debtor, uint256 value);
    /// @notice `financier` claims `amount` fen from `seller` for the unpaid part of an overdue receivable.
    event RecourseClaimed(uint256 indexed financedTokenId, address indexed seller, address indexed financier, uint256 amount);
    /// @notice `seller` paid the recourse claim in cash.
    event RecourseSettled(uint256 indexed financedTokenId, address indexed seller, address indexed financier, uint256 amount);
    /// @notice Repayments on a fragment in custody were paid on: `toSeller` to the seller, `toFinancier` to the
    ///         financier.
    event RecourseRedeemed(
        uint256 indexed financedTokenId, address indexed seller, uint256 toSeller, address indexed financier, uint256 toFinancier
    );

    /// @notice The signature does not recover to an address.
    error InvalidSignature();
    /// @notice The request was signed by `signer`, but `holder` holds `tokenId`.
    error SignerNotHolder(uint256 tokenId, address signer, address holder);
    /// @notice The request expired at `deadline`; now is `nowTime`.
    error RequestExpired(uint256 deadline, uint256 nowTime);
    /// @notice `signer`'s nonce `nonce` was used or cancelled.
    error NonceAlreadyUsed(address signer, uint256 nonce);
    /// @notice The request names `financier`; `caller` may not fund it.
    error RequestForAnotherFinancier(address financier, address caller);
    /// @notice The value must be at least 1 fen and at most the fragment's `balance`.
    error InvalidFinancingValue(uint256 tokenId, uint256 value, uint256 balance);
    /// @notice The price must be at least 1 fen and at most the value.
    error InvalidPrice(uint256 price, uint256 value);
    /// @notice Funding `value` would take `financier`'s exposure to `debtor` past `limit` (`used` in use).
    error ExposureLimitExceeded(address financier, address debtor, uint256 limit, uint256 used, uint256 value);
    /// @notice No financing of `financedTokenId` is recorded here.
    error UnknownFinancing(uint256 financedTokenId);
    /// @notice The exposure of `financedTokenId` cannot be released yet: the financier still holds it unpaid.
    error ExposureStillOutstanding(uint256 financedTokenId);
    /// @notice `financedTokenId` was financed without recourse.
    error NoRecourse(uint256 financedTokenId);
    /// @notice Only `expected` may do this; `caller` is not it.
    error NotAuthorized(address caller, address expected);
    /// @notice A recourse claim on `financedTokenId` was already made (or settled), or nothing is unpaid.
    error RecourseUnavailable(uint256 financedTokenId);
    /// @notice `account` signed a request and funds it itself: a sale to oneself is refused.
    error SelfFinancing(address account);
    /// @notice The financier sold `financedTokenId` on (now held by `holder`): its recourse right ended with it.
    error RecourseEnded(uint256 financedTokenId, address holder);
    /// @notice The desk holds no bought-back fragment `financedTokenId`.
    error NotInCustody(uint256 financedTokenId);
    /// @notice Nothing was paid on `financedTokenId` since the last distribution.
    error NothingToDistribute(uint256 financedTokenId);

    /// @notice Funds a signed request: cash from the caller (an active financier, via allowance) to the holder,
    ///         value from the holder (who approved this desk) to the caller, in one transaction.
    /// @return financedTokenId The fragment the financier now holds (the same id when all of it was sold).
    function finance(FinancingRequest calldata request, bytes calldata signature)
        external
        returns (uint256 financedTokenId);

    /// @notice The holder withdraws the request it signed with `nonce`.
    function cancel(uint256 nonce) external;

    /// @notice The caller (a financier) caps the value owed by `debtor` that it will hold.
    function setExposureLimit(address debtor, uint256 limit) external;

    /// @notice Releases the exposure of financings whose fragments were paid in full, redeemed or sold on.
    ///         Anyone may call it; each fen of exposure is released once.
    function releaseExposure(uint256[] calldata financedTokenIds) external;

    /// @notice The financier of record, while it still holds the fragment, claims from the seller the unpaid part
    ///         of an overdue receivable: at most the value it bought with recourse and still holds
    ///         (min(record value, fragment value)), less what repayments already cover. One claim per financing.
    ///         Recourse does not follow a resale: the buyer has only what its own request said.
    function claimRecourse(uint256 financedTokenId) external returns (uint256 amount);

    /// @notice The seller buys the fragment back (via cash allowance to this desk): the financier is first paid
    ///         what the fragment is owed so far, then receives the unpaid part of the claimed value (recomputed:
    ///         never more than claimed), and the desk takes the fragment into custody. Later repayments on it are
    ///         paid on by `redeemRecourse`, so the financier is never paid twice for the same value.
    function settleRecourse(uint256 financedTokenId) external;

    /// @notice Pays on what the debtor has paid for a fragment in custody since the last call: the seller's share
    ///         to the seller, the rest to the financier. Anyone (the seller, the financier, a keeper) may call it.
    function redeemRecourse(uint256 financedTokenId) external returns (uint256 toSeller, uint256 toFinancier);

    /// @notice The EIP-712 digest a holder signs for `request`.
    function requestHash(FinancingRequest calldata request) external view returns (bytes32);

    /// @notice True when `signer`'s `nonce` was used or cancelled.
    function nonceUsed(address signer, uint256 nonce) external view returns (bool);

    /// @notice `financier`'s limit and current exposure to `debtor`.
    function exposure(address financier, address debtor) external view returns (uint256 limit, uint256 used);

    /// @notice The record of a financing.
    function financing(uint256 financedTokenId) external view returns (Financing memory);

    /// @notice A bought-back fragment the desk holds (all zero when none).
    function custody(uint256 financedTokenId) external view returns (Custody memory);
}
