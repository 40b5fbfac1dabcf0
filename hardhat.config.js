// Only for the local JSON-RPC node the `rpc` tests start (`npx hardhat node`): the project compiles its
// contracts itself (chain_client/build) and deploys its own artifacts, so no Solidity settings here.
module.exports = {
  networks: {
    hardhat: { hardfork: "cancun" },
  },
};
