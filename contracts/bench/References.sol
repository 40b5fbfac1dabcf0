// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

// Reference implementations, compiled with the same compiler and settings as our contracts so that
// scripts/gas_report.py compares like with like. Not deployed outside the gas report.

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC3525} from "@solvprotocol/erc-3525/ERC3525.sol";

/// @notice OpenZeppelin ERC-20 with an open mint.
contract RefERC20 is ERC20("Ref", "REF") {
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice OpenZeppelin ERC-721 with an open mint.
contract RefERC721 is ERC721("Ref", "REF") {
    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }
}

/// @notice OpenZeppelin ERC-1155 with an open mint.
contract RefERC1155 is ERC1155("") {
    function mint(address to, uint256 id, uint256 amount) external {
        _mint(to, id, amount, "");
    }
}

/// @notice Solv's reference ERC-3525 with an open mint.
contract RefSolvERC3525 is ERC3525("Ref", "REF", 2) {
    function mint(address to, uint256 slot, uint256 value) external returns (uint256) {
        return _mint(to, slot, value);
    }
}
