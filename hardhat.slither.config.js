// Hardhat config used ONLY by `make slither` (selected with HARDHAT_CONFIG=hardhat.slither.config.js).
// The project compiles its contracts itself (chain_client/build); Slither's crytic-compile needs a build
// system, so this config has Hardhat 2 compile the same sources with the same settings, read from the
// committed artifacts so there is one source of truth (chain_client/build/compiler.py). Hardhat would
// download solc; here it uses npm's solc-js instead (no network needed). Its own artifacts and cache
// folders (.slither/, gitignored) keep it apart from everything else. contracts/bench and contracts/test
// (gas-report references and a hostile test receiver) are not compiled, so they are not analysed.
const path = require("path");
const { subtask } = require("hardhat/config");
const {
  TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD,
  TASK_COMPILE_SOLIDITY_GET_SOURCE_PATHS,
} = require("hardhat/builtin-tasks/task-names");

const artifact = require("./chain_client/artifacts/Membership.json");
const { version, settings } = artifact.compiler;

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  if (args.solcVersion !== version) return runSuper();
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version,
    longVersion: require("solc").version(),
  };
});

const EXCLUDED = ["bench", "test"].map((dir) => path.join(__dirname, "contracts", dir) + path.sep);

subtask(TASK_COMPILE_SOLIDITY_GET_SOURCE_PATHS, async (args, hre, runSuper) => {
  const paths = await runSuper(args);
  return paths.filter((p) => !EXCLUDED.some((dir) => p.startsWith(dir)));
});

module.exports = {
  solidity: {
    version,
    settings: {
      optimizer: settings.optimizer,
      viaIR: settings.viaIR,
      evmVersion: settings.evmVersion,
    },
  },
  paths: {
    sources: "./contracts",
    artifacts: "./.slither/artifacts",
    cache: "./.slither/cache",
  },
  networks: { hardhat: { hardfork: "cancun" } },
};
