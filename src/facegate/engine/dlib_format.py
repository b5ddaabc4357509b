"""A reader for dlib's serialized model files (``.dat``), written from dlib's documented format.

dlib writes every value with its own portable encoding (``dlib/serialize.h``):

* an integer is one control byte (bit 7: negative; bits 0-3: byte count ``n``)
  followed by ``n`` little-endian bytes of the absolute value;
* a float is two such integers, ``mantissa`` then ``exponent`` (value
  ``mantissa * 2**exponent``; exponents 32000-32002 mean +inf, -inf and nan);
* a bool is the ASCII byte ``'1'`` or ``'0'``; a string is its length and bytes;
  a ``std::vector`` or dlib column matrix is its length (matrices: rows and
  columns) followed by its elements;
* a dnn tensor is version 2, four dimensions (samples, k, rows, columns) and
  then raw little-endian float32 values.

A dnn network is written top-down: the loss layer, then each wrapper's version
number from the outermost layer to the input layer, then -- bottom-up -- the
input layer and every computational layer's parameters, each block opening
with a string naming the layer (``"con_6"``, ``"affine_2"``...). Tags and
skips write only their version number, so the reader needs the network's
architecture (as dlib does); :mod:`facegate.engine.dlib_networks` supplies it.

Nothing here imports dlib.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from ..errors import ModelFormatError

__all__ = ["DlibReader", "FloatArray"]

FloatArray = npt.NDArray[np.float32]

_INF: Final = 32000
_NINF: Final = 32001
_NAN: Final = 32002


@dataclass
class DlibReader:
    """Reads dlib's serialized primitives from a bytes buffer, front to back."""

    data: bytes
    pos: int = 0
    name: str = field(default="<model>")

    def fail(self, what: str) -> ModelFormatError:
        return ModelFormatError(
            f"{self.name}: {what} at byte {self.pos}",
            details={"file": self.name, "offset": self.pos},
        )

    def _take(self, count: int) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise self.fail("unexpected end of file")
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def read_int(self) -> int:
        """A dlib integer of any width, signed or not."""
        control = self._take(1)[0]
        size = control & 0x0F
        if size == 0 or size > 8 or control & 0x70:
            raise self.fail(f"bad integer control byte {control:#04x}")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def read_float(self) -> float:
        """A dlib float or double (mantissa, exponent), as a Python float."""
        if self.pos < len(self.data) and self.data[self.pos] & 0x70:
            raise self.fail("old ASCII float encoding is not supported")
        mantissa = self.read_int()
        exponent = self.read_int()
        if exponent == _INF:
            return float("inf")
        if exponent == _NINF:
            return float("-inf")
        if exponent == _NAN:
            return float("nan")
        return float(mantissa) * 2.0 ** exponent

    def read_bool(self) -> bool:
        byte = self._take(1)
        if byte not in (b"0", b"1"):
            raise self.fail(f"bad bool byte {byte!r}")
        return byte == b"1"

    def read_string(self) -> str:
        size = self.read_int()
        return self._take(size).decode("latin-1")

    def expect_string(self, *allowed: str) -> str:
        value = self.read_string()
        if value not in allowed:
            raise self.fail(f"expected one of {allowed}, found {value!r}")
        return value

    def version(self, *allowed: int) -> int:
        value = self.read_int()
        if value not in allowed:
            raise self.fail(f"unexpected version {value}, expected one of {allowed}")
        return value

    def tensor(self) -> FloatArray:
        """A dnn ``resizable_tensor`` as a float32 array of shape (n, k, rows, cols)."""
        self.version(2)
        shape = tuple(self.read_int() for _ in range(4))
        count = int(np.prod(shape))
        raw = self._take(4 * count)
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)

    def alias_tensor(self) -> tuple[int, int, int, int]:
        """The shape of a dnn ``alias_tensor`` (it holds no data)."""
        self.version(1)
        n, k, r, c = (self.read_int() for _ in range(4))
        return (n, k, r, c)


def decode_int_stream(data: bytes, name: str = "<model>") -> npt.NDArray[np.int64]:
    """Decode a buffer that holds nothing but dlib integers (and floats made of them).

    Shape predictor files are such a stream: every size, index and float is
    written as dlib integers, so the whole file decodes to one int64 array
    that :mod:`facegate.engine.shape_predictor` then slices.

    Raises:
        ModelFormatError: a control byte is invalid or the stream is cut short.
    """
    starts: list[int] = []
    append = starts.append
    pos, end = 0, len(data)
    while pos < end:
        append(pos)
        pos += 1 + (data[pos] & 0x0F)
    if pos != end:
        raise ModelFormatError(f"{name}: truncated integer at the end of the file",
                               details={"file": name})
    buf = np.frombuffer(data, dtype=np.uint8)
    first = np.asarray(starts, dtype=np.int64)
    control = buf[first]
    sizes = (control & 0x0F).astype(np.int64)
    if np.any(sizes == 0) or np.any(sizes > 8) or np.any(control & 0x70):
        raise ModelFormatError(f"{name}: not a stream of dlib integers", details={"file": name})
    values = np.zeros(first.shape[0], dtype=np.uint64)
    for byte in range(int(sizes.max())):
        has = sizes > byte
        values[has] |= buf[first[has] + 1 + byte].astype(np.uint64) << np.uint64(8 * byte)
    signed = values.astype(np.int64)
    return np.where(control & 0x80, -signed, signed)


def ints_to_float32(mantissa: npt.NDArray[np.int64],
                    exponent: npt.NDArray[np.int64]) -> FloatArray:
    """dlib floats from their (mantissa, exponent) integers, rounded as dlib rounds to float."""
    special = exponent >= _INF
    exp = np.where(special, 0, exponent)
    # (float)mantissa first, then ldexp: the same two roundings dlib makes.
    values = np.ldexp(mantissa.astype(np.float32), exp.astype(np.int32)).astype(np.float32)
    if np.any(special):
        values = values.copy()
        values[exponent == _INF] = np.inf
        values[exponent == _NINF] = -np.inf
        values[exponent == _NAN] = np.nan
    return values
