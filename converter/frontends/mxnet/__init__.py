"""The MXNet frontend: a checkpoint (`NAME-symbol.json` + `NAME-NNNN.params`) → IR graph, without mxnet.

symbol.py reads the graph JSON, params.py the NDArray list binary (with numpy, bounds-checked),
model.py walks the symbol's nodes and ops/<family>.py holds one handler per MXNet op. There is
no reference runtime here: mxnet does not import next to NumPy 2, so validation reports an
MXNet model as converted, not validated.

A checkpoint is named by its symbol file (the highest epoch beside it is read, or the one
`epoch` names) or by one of its params files (that epoch).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from converter.errors import InvalidModelError
from converter.ir.graph import Graph

SYMBOL_SUFFIX = "-symbol.json"
PARAMS_PATTERN = re.compile(r"^(?P<prefix>.+)-(?P<epoch>\d{4,})\.params$")


@dataclass(frozen=True)
class Checkpoint:
    symbol: Path
    params: Path
    epoch: int

    @property
    def name(self) -> str:
        return self.symbol.name[: -len(SYMBOL_SUFFIX)]


def is_symbol_file(path: Path) -> bool:
    return path.name.lower().endswith(SYMBOL_SUFFIX) and len(path.name) > len(SYMBOL_SUFFIX)


def is_params_file(path: Path) -> bool:
    return PARAMS_PATTERN.match(path.name) is not None


def epochs(symbol: Path) -> dict[int, Path]:
    """The params files beside a symbol file, by epoch."""
    prefix = symbol.name[: -len(SYMBOL_SUFFIX)]
    found = {}
    for candidate in symbol.parent.glob(f"{glob_escape(prefix)}-*.params"):
        match = PARAMS_PATTERN.match(candidate.name)
        if match and match["prefix"] == prefix and candidate.is_file():
            found[int(match["epoch"])] = candidate
    return found


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def find_checkpoint(path: str | os.PathLike[str], epoch: int | None = None) -> Checkpoint:
    """The symbol and params files a path names; InvalidModelError when one is missing."""
    path = Path(path)
    if is_params_file(path):
        match = PARAMS_PATTERN.match(path.name)
        assert match is not None
        symbol = path.with_name(match["prefix"] + SYMBOL_SUFFIX)
        if not symbol.is_file():
            raise InvalidModelError(f"{path}: no symbol file {symbol.name} beside it")
        named = int(match["epoch"])
        if epoch is not None and epoch != named:
            raise InvalidModelError(f"{path}: is epoch {named}, but epoch {epoch} is asked for")
        return Checkpoint(symbol, path, named)
    if not is_symbol_file(path):
        raise InvalidModelError(f"{path}: not an MXNet checkpoint (NAME-symbol.json or NAME-NNNN.params)")
    if not path.is_file():
        raise InvalidModelError(f"{path}: no such file")
    available = epochs(path)
    prefix = path.name[: -len(SYMBOL_SUFFIX)]
    if not available:
        raise InvalidModelError(f"{path}: no parameters beside it ({prefix}-NNNN.params)")
    if epoch is None:
        epoch = max(available)
    elif epoch not in available:
        raise InvalidModelError(f"{path}: no {prefix}-{epoch:04d}.params (epochs: {', '.join(map(str, sorted(available)))})")
    return Checkpoint(path, available[epoch], epoch)


def load_checkpoint(path: str | os.PathLike[str], epoch: int | None = None):
    """(Checkpoint, Symbol, Params), every file checked."""
    from converter.frontends.mxnet.params import ParamsError, read_params
    from converter.frontends.mxnet.symbol import SymbolError, parse_symbol

    checkpoint = find_checkpoint(path, epoch)
    try:
        symbol = parse_symbol(checkpoint.symbol.read_bytes())
    except SymbolError as error:
        raise InvalidModelError(f"{checkpoint.symbol}: not an MXNet symbol, or truncated ({error})") from None
    try:
        params = read_params(checkpoint.params)
    except ParamsError as error:
        raise InvalidModelError(f"{checkpoint.params}: not an MXNet params file, or truncated ({error})") from None
    return checkpoint, symbol, params


def convert_mxnet(path: str | os.PathLike[str], epoch: int | None = None) -> Graph:
    """An MXNet checkpoint as an IR graph: inputs named as the symbol's variables, outputs
    `NODE_output` as MXNet names them."""
    from converter.frontends.mxnet.model import convert_symbol
    from converter.frontends.mxnet.ops import ALIASES, HANDLERS

    checkpoint, symbol, params = load_checkpoint(path, epoch)
    return convert_symbol(symbol, params, os.fspath(checkpoint.symbol), HANDLERS, ALIASES, name=checkpoint.name)


def source_files(path: str | os.PathLike[str], epoch: int | None = None) -> list[Path]:
    """The files a checkpoint is made of (symbol and params)."""
    try:
        checkpoint = find_checkpoint(path, epoch)
    except InvalidModelError:
        return [Path(path)] if Path(path).is_file() else []
    return [checkpoint.symbol, checkpoint.params]
