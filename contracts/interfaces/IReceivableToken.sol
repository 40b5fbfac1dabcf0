// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC3525} from "./IERC3525.sol";

/// @title Receivables as ERC-3525 tokens
/// @notice A slot is one receivable (数字债权凭证): the debt a core enterprise confirmed to a supplier. A token is
///         one fragment of it, held by one member, with a value in fen and the fragment it was split from.
///         Slot ids are the top 224 bits of keccak256(abi.encode(debtor, documentHash)), so a debtor can confirm
///         one set of trade documents once only, by construction, and no other member can take that slot first
///         (a slot bound to the hash alone could be squatted by anyone who saw the hash). Token ids are
///         `slot << 32 | sequence` (contracts/types/TokenId.sol); sequence 1 is the fragment issued to the supplier.
interface IReceivableToken is IERC3525 {
    /// @notice Life cycle. `Matured` is never stored: an `Active` receivable reads as `Matured` from its
    ///         maturity on.
    enum ReceivableState {
        None,
        Pending,
        Active,
        Matured,
        Repaid,
        Overdue,
        Rejected,
        Cancelled
    }

    /// @notice Everything about one receivable, as `receivable(slot)` returns it.
    struct ReceivableInfo {
        address debtor;
        uint256 faceValue;
        uint64 issuedAt;
        uint64 maturity;
        bytes32 documentHash;
        ReceivableState state;
        uint32 fragmentsCreated;
        uint256 repaid; // cash paid in by the debtor (or anyone) so far, fen
        uint256 redeemedValue; // value of fragments fully paid out and burned
        uint256 paidOut; // cash paid out of escrow to holders so far, fen
    }

    /// @notice Everything about one fragment, as `fragment(tokenId)` returns it.
    struct FragmentInfo {
        address owner;
        uint256 value;
        uint256 slot;
        uint256 parentId;
        bool frozen;
    }

    // ------------------------------------------------------------------------------------------- events

    /// @notice `debtor` confirmed a payable of `faceValue` fen to `supplier`, due at `maturity`.
    event ReceivableIssued(
        uint256 indexed slot,
        address indexed debtor,
        address indexed supplier,
        uint256 tokenId,
        uint256 faceValue,
        uint64 maturity,
        bytes32 documentHash
    );
    /// @notice The supplier accepted (签收) the receivable; it is now active.
    event ReceivableAccepted(uint256 indexed slot, address indexed supplier);
    /// @notice The supplier refused the receivable; its fragment is burned.
    event ReceivableRejected(uint256 indexed slot, address indexed supplier);
    /// @notice The debtor withdrew the receivable before acceptance; its fragment is burned.
    event ReceivableCancelled(uint256 indexed slot, address indexed debtor);
    /// @notice A batch split of `fromTokenId` created `count` fragments with consecutive ids from `firstTokenId`,
    ///         paying for the trade whose documents hash to `memo`.
    event FragmentsSplit(uint256 indexed fromTokenId, uint256 firstTokenId, uint256 count, bytes32 indexed memo);
    /// @notice An operator froze `tokenId` (judicial or dispute freeze).
    event Frozen(uint256 indexed tokenId, bytes32 reason, address indexed operator);
    /// @notice An operator lifted the freeze on `tokenId`.
    event Unfrozen(uint256 indexed tokenId, address indexed operator);
    /// @notice The longest allowed time from issue to maturity changed.
    event MaxTenorChanged(uint256 oldSeconds, uint256 newSeconds, address indexed operator);
    /// @notice `payer` paid `amount` fen into escrow for the receivable; `totalRepaid` have been paid so far.
    event RepaymentReceived(uint256 indexed slot, address indexed payer, uint256 amount, uint256 totalRepaid);
    /// @notice The receivable reached its maturity date (recorded by the first repayment operation after it).
    event MaturityReached(uint256 indexed slot, uint256 maturity);
    /// @notice The face value has been paid in full; the debtor's credit line is restored.
    event ReceivableRepaid(uint256 indexed slot, uint256 faceValue);
    /// @notice Maturity plus the grace period passed with only `repaid` of `faceValue` paid.
    event ReceivableOverdue(uint256 indexed slot, uint256 repaid, uint256 faceValue);
    /// @notice `holder` received `amount` fen for fragment `tokenId`; `burned` when the fragment is now fully
    ///         paid (its value then counts as redeemed).
    event FragmentRedeemed(uint256 indexed tokenId, address indexed holder, uint256 amount, bool burned);
    /// @notice The operator set `debtor`'s issuance limit (授信额度) from `oldLimit` to `newLimit` fen.
    event CreditLineChanged(address indexed debtor, uint256 oldLimit, uint256 newLimit, address indexed operator);
    /// @notice The time after maturity before a receivable can be marked overdue changed.
    event GracePeriodChanged(uint256 oldSeconds, uint256 newSeconds, address indexed operator);

    // ------------------------------------------------------------------------------------------- errors

    /// @notice No live fragment has id `tokenId` (never created, or burned).
    error NonexistentToken(uint256 tokenId);
    /// @notice No receivable has slot `slot`.
    error NonexistentReceivable(uint256 slot);
    /// @notice `caller` is neither the owner of `tokenId`, nor approved for it, nor holds a value allowance.
    error NotOwnerNorApproved(uint256 tokenId, address caller);
    /// @notice `operator` may move only `allowance` out of `tokenId`, not `needed`.
    error InsufficientAllowance(uint256 tokenId, address operator, uint256 allowance, uint256 needed);
    /// @notice `tokenId` holds `balance`, less than the `needed` value.
    error InsufficientValue(uint256 tokenId, uint256 balance, uint256 needed);
    /// @notice Moving zero value out of `tokenId` is refused: it would only create empty fragments.
    error ZeroValue(uint256 tokenId);
    /// @notice Value moves only between fragments of one receivable.
    error SlotMismatch(uint256 fromTokenId, uint256 toTokenId);
    /// @notice Value cannot move from `tokenId` into itself.
    error SelfTransfer(uint256 tokenId);
    /// @notice An ERC-721 transfer named `from`, but `owner` holds `tokenId`.
    error IncorrectOwner(uint256 tokenId, address from, address owner);
    /// @notice Only the holder of `tokenId` may do this; `caller` is not `holder`.
    error CallerNotHolder(uint256 tokenId, address caller, address holder);
    /// @notice Only the debtor of `slot` may do this; `caller` is not `debtor`.
    error NotDebtor(uint256 slot, address caller, address debtor);
    /// @notice Value moves only while the receivable is active; it is in `state`.
    error ReceivableNotActive(uint256 slot, ReceivableState state);
    /// @notice Acceptance, rejection and cancellation need a pending receivable; it is in `state`.
    error ReceivableNotPending(uint256 slot, ReceivableState state);
    /// @notice The receivable matured at `maturity` (now is `nowTime`); its fragments no longer move.
    error ReceivableMatured(uint256 slot, uint256 maturity, uint256 nowTime);
    /// @notice `tokenId` is frozen by an operator.
    error FragmentFrozen(uint256 tokenId);
    /// @notice `unfreeze` of a fragment that is not frozen.
    error FragmentNotFrozen(uint256 tokenId);
    /// @notice A face value must be at least 1 fen and at most `max` fen.
    error FaceValueOutOfRange(uint256 faceValue, uint256 max);
    /// @notice Maturity `maturity` is not after `nowTime`.
    error MaturityNotInFuture(uint256 maturity, uint256 nowTime);
    /// @notice Maturity `maturity` is later than `latestAllowed` (now plus the tenor cap).
    error TenorExceedsCap(uint256 maturity, uint256 latestAllowed);
    /// @notice The tenor cap must be between 1 second and `max` seconds.
    error TenorCapOutOfRange(uint256 seconds_, uint256 max);
    /// @notice `documentHash` is too small to name a slot (its top 224 bits are zero).
    error InvalidDocumentHash(bytes32 documentHash);
    /// @notice The documents hashing to `documentHash` already back receivable `slot`.
    error DocumentAlreadyIssued(bytes32 documentHash, uint256 slot);
    /// @notice A batch split got `recipients` recipients and `values` values.
    error LengthMismatch(uint256 recipients, uint256 values);
    /// @notice A batch split of `tokenId` with no recipient.
    error EmptySplit(uint256 tokenId);
    /// @notice Receivable `slot` has created `created` fragments; `more` more would pass the 2^32 limit.
    error TooManyFragments(uint256 slot, uint256 created, uint256 more);
    /// @notice `setApprovalForAll` to the zero address.
    error InvalidOperator(address operator);
    /// @notice Paying `amount` would exceed what is still owed, `outstanding`.
    error RepaymentExceedsOutstanding(uint256 slot, uint256 outstanding, uint256 amount);
    /// @notice A repayment of zero.
    error ZeroRepayment(uint256 slot);
    /// @notice Repayment needs an accepted receivable that is not yet repaid; it is in `state`.
    error ReceivableNotRepayable(uint256 slot, ReceivableState state);
    /// @notice Holders are paid from maturity on; `slot` matures at `maturity` (now is `nowTime`).
    error ReceivableNotMatured(uint256 slot, uint256 maturity, uint256 nowTime);
    /// @notice Nothing more is owed to `tokenId` now: it is entitled to `entitled` so far and got `paid`.
    error NothingToRedeem(uint256 tokenId, uint256 entitled, uint256 paid);
    /// @notice `settle` for `slot` was given `tokenId`, which belongs to another receivable.
    error TokenNotInSlot(uint256 tokenId, uint256 slot);
    /// @notice A receivable can be marked overdue from `overdueFrom` (maturity plus grace); now is `nowTime`.
    error GracePeriodNotOver(uint256 slot, uint256 overdueFrom, uint256 nowTime);
    /// @notice Issuing `requested` would take `debtor` past its credit line: `used` of `limit` is in use.
    error CreditLineExceeded(address debtor, uint256 limit, uint256 used, uint256 requested);
    /// @notice A credit line must be at most `max` fen.
    error CreditLimitOutOfRange(uint256 limit, uint256 max);
    /// @notice The grace period must be at most `max` seconds.
    error GracePeriodOutOfRange(uint256 seconds_, uint256 max);
    /// @notice Recourse needs an overdue receivable; `slot` is in `state`.
    error ReceivableNotOverdue(uint256 slot, ReceivableState state);

    // ------------------------------------------------------------------------------------------- life cycle

    /// @notice Confirms a payable (确权): issues a receivable of `faceValue` fen, due at `maturity`, owed by the
    ///         caller to `supplier`, backed by the documents hashing to `documentHash`. Only an active core
    ///         enterprise, to an active supplier. The new fragment is pending until the supplier accepts.
    /// @return slot The new receivable's slot, `slotFor(msg.sender, documentHash)`.
    /// @return tokenId Its first fragment, `slot << 32 | 1`.
    function issue(address supplier, uint256 faceValue, uint64 maturity, bytes32 documentHash)
        external
        returns (uint256 slot, uint256 tokenId);

    /// @notice The financing desk takes `tokenId` from `from` (its financier) when the seller buys it back under
    ///         recourse. Escrow contracts only, and only while the receivable is overdue and the fragment unfrozen.
    function recourseTransfer(address from, uint256 tokenId) external;

    /// @notice The supplier accepts (签收) the pending fragment `tokenId`; the receivable becomes active.
    function accept(uint256 tokenId) external;

    /// @notice The supplier refuses the pending fragment `tokenId`; it is burned and the receivable rejected.
    function reject(uint256 tokenId) external;

    /// @notice The debtor withdraws a pending receivable; its fragment is burned.
    function cancel(uint256 slot) external;

    // ------------------------------------------------------------------------------------------- moving value

    /// @notice Pays several suppliers from `fromTokenId` in one transaction (拆分): a new fragment of
    ///         `values[i]` for each `to[i]`. `memo` is the hash of the trade documents behind the payment.
    /// @return newTokenIds The new fragments, consecutive ids, in the order of `to`.
    function split(uint256 fromTokenId, address[] calldata to, uint256[] calldata values, bytes32 memo)
        external
        returns (uint256[] memory newTokenIds);

    // ------------------------------------------------------------------------------------------- repayment

    /// @notice Pays `amount` fen of SettlementToken (via allowance) into escrow for receivable `slot`, at any
    ///         time, in one or several payments; never more than is outstanding. Cost does not depend on the
    ///         number of fragments. Anyone may pay; normally the debtor does.
    function repay(uint256 slot, uint256 amount) external;

    /// @notice What fragment `tokenId` can be paid now: floor(value × repaid / face) minus what it got.
    function claimable(uint256 tokenId) external view returns (uint256);

    /// @notice The holder (or an approved operator) pulls what `tokenId` is owed now, from maturity on. A
    ///         fully paid fragment is burned and its value counted as redeemed.
    /// @return paid Fen paid to the holder.
    function redeem(uint256 tokenId) external returns (uint256 paid);

    /// @notice Anyone (a keeper) pushes what each listed fragment of `slot` is owed to its holder. Fragments
    ///         already burned are skipped (they were paid in full); a token of another slot is refused.
    /// @return paid Fen paid in total.
    function settle(uint256 slot, uint256[] calldata tokenIds) external returns (uint256 paid);

    /// @notice Anyone may mark a receivable overdue once maturity plus the grace period has passed unpaid.
    function markOverdue(uint256 slot) external;

    // ------------------------------------------------------------------------------------------- operator

    /// @notice Sets `debtor`'s issuance limit (授信额度), in fen. Issuing uses it; full repayment, rejection
    ///         and cancellation restore it. A core enterprise without a credit line cannot issue. Operator only.
    function setCreditLine(address debtor, uint256 limit) external;

    /// @notice Sets the time after maturity before a receivable can be marked overdue. Operator only.
    function setGracePeriod(uint32 seconds_) external;

    /// @notice Freezes `tokenId` (judicial or dispute freeze): it cannot move or be split. Operator only.
    function freeze(uint256 tokenId, bytes32 reason) external;

    /// @notice Lifts a freeze. Operator only.
    function unfreeze(uint256 tokenId) external;

    /// @notice Sets the longest time from issue to maturity. Operator only.
    function setMaxTenor(uint32 seconds_) external;

    // ------------------------------------------------------------------------------------------- views

    /// @notice The receivable in `slot`.
    function receivable(uint256 slot) external view returns (ReceivableInfo memory);

    /// @notice The fragment `tokenId`.
    function fragment(uint256 tokenId) external view returns (FragmentInfo memory);

    /// @notice A page of receivable `slot`'s fragments, sequences `fromSequence` to `fromSequence + count - 1`
    ///         (clipped to those created): each one's state (owner zero when burned), what it can claim now,
    ///         and whether its holder is an active member. For keepers and explorers without an index.
    function fragmentsOf(uint256 slot, uint256 fromSequence, uint256 count)
        external
        view
        returns (FragmentInfo[] memory infos, uint256[] memory claimables, bool[] memory holdersActive);

    /// @notice The fragment `tokenId` was split from; 0 for the fragment issued to the supplier.
    function parentOf(uint256 tokenId) external view returns (uint256);

    /// @notice True when an operator froze `tokenId`.
    function isFrozen(uint256 tokenId) external view returns (bool);

    /// @notice The slot a receivable of `debtor` backed by `documentHash` has (or would have).
    function slotFor(address debtor, bytes32 documentHash) external pure returns (uint256);

    /// @notice The longest allowed time from issue to maturity, in seconds.
    function maxTenor() external view returns (uint256);

    /// @notice The grace period after maturity, in seconds.
    function gracePeriod() external view returns (uint256);

    /// @notice `debtor`'s credit line: the limit and how much of it outstanding receivables use.
    function creditLine(address debtor) external view returns (uint256 limit, uint256 used);

    /// @notice The settlement token repayments are made in.
    function cash() external view returns (address);
}
