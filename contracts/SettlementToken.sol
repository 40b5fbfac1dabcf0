// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {MemberWord} from "./MemberWord.sol";

/// @title SettlementToken
/// @notice The cash leg: an ERC-20 standing for a deposit token or digital CNY, counted in fen (2 decimals).
///         Only active members hold or move it. The operator mints when cash comes in and burns when it goes
///         out; burning someone else's balance needs their allowance, as a bank needs its client's order.
/// @dev Subscribed to Membership (MemberWord). Balances live in the same storage word as each account's
///      membership status instead of OpenZeppelin's balance mapping, so a transfer that checks both parties
///      reads and writes two words, as a plain ERC-20 transfer does. Everything else (allowances, errors,
///      events, zero-address checks) is OpenZeppelin's ERC20, which routes every movement through `_update`.
contract SettlementToken is ERC20, MemberWord {
    /// @notice Cash in circulation cannot exceed what one balance can hold.
    uint256 public constant MAX_SUPPLY = type(uint72).max;

    uint256 private _supply;

    /// @notice Minting `amount` would take the supply past `MAX_SUPPLY`.
    error SupplyCapExceeded(uint256 supply, uint256 amount, uint256 cap);

    /// @notice `amount` fen was credited to `to` against cash received off chain.
    event CashIn(address indexed to, uint256 amount, address indexed operator);
    /// @notice `amount` fen was taken from `from` and paid out off chain.
    event CashOut(address indexed from, uint256 amount, address indexed operator);

    constructor(IMembership membership_, string memory name_, string memory symbol_)
        ERC20(name_, symbol_)
        MemberWord(membership_)
    {}

    /// @notice Fen: 1 token unit = 0.01 yuan.
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    /// @notice Credits `amount` fen to `to` (cash in). Operator only; `to` must be an active member.
    function mint(address to, uint256 amount) external {
        _requireRole(msg.sender, IMembership.Role.Operator);
        _mint(to, amount);
        emit CashIn(to, amount, msg.sender);
    }

    /// @notice Debits `amount` fen from `from` (cash out). Operator only; spends `from`'s allowance to the
    ///         operator unless the operator burns its own balance.
    function burn(address from, uint256 amount) external {
        _requireRole(msg.sender, IMembership.Role.Operator);
        if (from != msg.sender) _spendAllowance(from, msg.sender, amount);
        _burn(from, amount);
        emit CashOut(from, amount, msg.sender);
    }

    /// @dev A spender moving someone's cash must itself be an active member (or escrow).
    function _spendAllowance(address owner, address spender, uint256 value) internal override {
        _requireActive(spender);
        super._spendAllowance(owner, spender, value);
    }

    /// @inheritdoc ERC20
    function balanceOf(address account) public view override returns (uint256) {
        return _accounts[account].cash;
    }

    /// @inheritdoc ERC20
    function totalSupply() public view override returns (uint256) {
        return _supply;
    }

    /// @dev Every mint, burn and transfer passes here: both sides must be active members (or escrow).
    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0)) {
            uint256 supply = _supply;
            if (value > MAX_SUPPLY - supply) revert SupplyCapExceeded(supply, value, MAX_SUPPLY);
            _supply = supply + value;
        } else {
            Account storage a = _requireActive(from);
            uint256 balance = a.cash;
            if (balance < value) revert ERC20InsufficientBalance(from, balance, value);
            unchecked {
                a.cash = uint72(balance - value); // value <= balance
            }
        }
        if (to == address(0)) {
            unchecked {
                _supply -= value; // value was taken from a balance, and balances sum to the supply
            }
        } else {
            Account storage b = _requireActive(to);
            unchecked {
                b.cash += uint72(value); // every balance <= supply <= MAX_SUPPLY
            }
        }
        emit Transfer(from, to, value);
    }
}
