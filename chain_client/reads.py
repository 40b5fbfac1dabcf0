"""Many contract reads at one block in few round trips: JSON-RPC batches of `eth_call` where the node answers
batches (a node over HTTP), one call at a time where it does not (the embedded chain, where a round trip costs
nothing). `reconcile` reads every fragment, holder and member this way: one request per read made checking a
large run's index take minutes of round trips.

Each answer is what `fn.call(block_identifier=block)` returns, or the decoded custom error the read reverted with,
returned rather than raised (reading every fragment of a receivable meets burned ones). A failure that is not a
revert is raised, as the single call raises it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from eth_abi.abi import decode, encode
from eth_utils.abi import get_abi_output_types
from hexbytes import HexBytes
from web3 import Web3
from web3._utils.abi import map_abi_data
from web3._utils.normalizers import BASE_RETURN_NORMALIZERS
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import Web3RPCError
from web3.types import FilterParams, LogReceipt, RPCEndpoint

from chain_client.chain import chain_of
from chain_client.exceptions import ContractError
from chain_client.reverts import decode_revert
from chain_client.rpc_format import function_abi, log_of, returned
from chain_client.tx import named_reverts

BATCH = 500  # reads per JSON-RPC batch: large enough that round trips vanish, small enough for any node's limit


def call_many(w3: Web3, fns: Sequence[ContractFunction], *, block: int) -> list[Any | ContractError]:
    """The result of each of `fns` at `block`, in order (a `ContractError` instance where it reverted)."""
    if not fns:
        return []
    if not chain_of(w3).sender.pipelines:
        return [_one(fn, block) for fn in fns]
    results: list[Any | ContractError] = []
    for start in range(0, len(fns), BATCH):
        chunk = fns[start : start + BATCH]
        requests = [
            (RPCEndpoint("eth_call"), [{"to": fn.address, "data": fn._encode_transaction_data()}, hex(block)])
            for fn in chunk
        ]
        answers = cast(Any, w3.provider).make_batch_request(requests)
        if not isinstance(answers, list) or len(answers) != len(chunk):  # the whole batch refused: one at a time
            results.extend(_one(fn, block) for fn in chunk)
            continue
        results.extend(_decoded(w3, fn, answer, block) for fn, answer in zip(chunk, answers, strict=True))
    return results


class Reader:
    """One view function of a contract, read for many arguments (`read_many`): the call data encoded and the
    answer decoded with eth_abi directly, without building a web3 contract function for each read (a
    millisecond each, which half a million reads of a large run's fragments feel)."""

    def __init__(self, contract: Contract, function: str) -> None:
        self.contract = contract
        self.function = function
        self.selector, self.inputs, self.outputs = function_abi(contract.abi, function)

    def fn(self, args: tuple[Any, ...]) -> ContractFunction:
        return cast(ContractFunction, self.contract.get_function_by_signature(self._signature)(*args))

    @property
    def _signature(self) -> str:
        name = self.function.split("(")[0]
        return f"{name}({','.join(self.inputs)})"

    def data(self, args: tuple[Any, ...]) -> str:
        return "0x" + (self.selector + encode(self.inputs, args)).hex()

    def decode(self, result: str) -> Any:
        return returned(self.outputs, decode(self.outputs, bytes.fromhex(result[2:])))


def read_many(w3: Web3, reader: Reader, args: Sequence[tuple[Any, ...]], *, block: int) -> list[Any | ContractError]:
    """`call_many` of `reader`'s function for each of `args`: the same answers, as web3 would give them."""
    if not args:
        return []
    if not chain_of(w3).sender.pipelines:
        return [_one(reader.fn(a), block) for a in args]
    results: list[Any | ContractError] = []
    to = reader.contract.address
    for start in range(0, len(args), BATCH):
        chunk = args[start : start + BATCH]
        requests = [(RPCEndpoint("eth_call"), [{"to": to, "data": reader.data(a)}, hex(block)]) for a in chunk]
        answers = cast(Any, w3.provider).make_batch_request(requests)
        if not isinstance(answers, list) or len(answers) != len(chunk):  # the whole batch refused: one at a time
            results.extend(_one(reader.fn(a), block) for a in chunk)
            continue
        for a, answer in zip(chunk, answers, strict=True):
            if isinstance(answer, dict) and isinstance(answer.get("result"), str):
                results.append(reader.decode(answer["result"]))
            else:
                results.append(_decoded(w3, reader.fn(a), answer, block))
    return results


def call_all(w3: Web3, fns: Sequence[ContractFunction], *, block: int) -> list[Any]:
    """`call_many` for reads that should not revert: the first revert is raised."""
    results = call_many(w3, fns, block=block)
    for r in results:
        if isinstance(r, ContractError):
            raise r
    return results


def get_logs(w3: Web3, params: FilterParams) -> list[LogReceipt]:
    """`w3.eth.get_logs(params)`. From a node over HTTP the answer is formatted by `rpc_format` rather than web3's
    formatters (several times faster over hundreds of thousands of logs); a refusal (a range too large for the
    node) raises `Web3RPCError`, as web3 does."""
    if not hasattr(w3.provider, "endpoint_uri"):  # the embedded chain takes web3's parameters only
        return list(w3.eth.get_logs(params))
    request: dict[str, Any] = dict(params)
    for key in ("fromBlock", "toBlock"):
        if isinstance(request.get(key), int):
            request[key] = hex(request[key])
    answer = w3.provider.make_request(RPCEndpoint("eth_getLogs"), [request])
    if "error" in answer:
        raise Web3RPCError(str(answer["error"]), rpc_response=answer)
    return [log_of(raw) for raw in answer["result"]]


def block_times(w3: Web3, numbers: Iterable[int]) -> dict[int, int]:
    """The timestamp of each block of `numbers` (see `block_headers`)."""
    return {n: timestamp for n, (_, timestamp) in block_headers(w3, numbers).items()}


def block_headers(w3: Web3, numbers: Iterable[int]) -> dict[int, tuple[str, int]]:
    """The hash (0x-hex) and timestamp of each block of `numbers`, asked for in batches where the node takes them
    (raw headers: a Clique header's extraData is longer than web3's block formatter accepts)."""
    wanted = sorted(set(numbers))
    if not wanted or not chain_of(w3).sender.pipelines:
        return {n: _header(w3, n) for n in wanted}
    headers: dict[int, tuple[str, int]] = {}
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        requests = [(RPCEndpoint("eth_getBlockByNumber"), [hex(n), False]) for n in chunk]
        answers = cast(Any, w3.provider).make_batch_request(requests)
        for i, n in enumerate(chunk):
            answer = answers[i] if isinstance(answers, list) and len(answers) == len(chunk) else None
            header = answer.get("result") if isinstance(answer, dict) else None
            # Anything else (an error, a block the node does not have): the single request says what, or raises.
            headers[n] = (str(header["hash"]), int(header["timestamp"], 16)) if header else _header(w3, n)
    return headers


def _header(w3: Web3, number: int) -> tuple[str, int]:
    block = w3.eth.get_block(number)
    return HexBytes(block["hash"]).to_0x_hex(), int(block["timestamp"])


def call_one(fn: ContractFunction, block: int) -> Any:
    """`fn` read at `block`; a revert is raised as its decoded custom error."""
    with named_reverts():
        return fn.call(block_identifier=block)


def _one(fn: ContractFunction, block: int) -> Any | ContractError:
    try:
        return call_one(fn, block)
    except ContractError as error:
        return error


def _decoded(w3: Web3, fn: ContractFunction, answer: Any, block: int) -> Any | ContractError:
    error = answer.get("error") if isinstance(answer, dict) else None
    if error is not None:
        data: Any = error.get("data") if isinstance(error, dict) else None
        if isinstance(data, dict):  # some nodes nest it
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x"):
            return decode_revert(data)
        return _one(fn, block)  # not a revert with data: the single call says what it is (and raises)
    types = get_abi_output_types(fn.abi)
    values = map_abi_data(BASE_RETURN_NORMALIZERS, types, w3.codec.decode(types, bytes.fromhex(answer["result"][2:])))
    return values[0] if len(values) == 1 else list(values)
