"""The thermometer encoder in hardware: integer features in, LUT logic for the comparisons.

A checkpoint's encoder (:class:`~lut2rtl.netlist.Thermometer`) sets input bit
``f*m + i`` to ``x[f] > t[f, i]``, compared in float64. A sensor delivers
integers of a declared width (``--feature-bits W``, two's complement with
``--signed``), and for an integer ``x`` and a finite ``t``::

    x > t  <=>  x >= floor(t) + 1

(``t`` an integer: ``x > t`` is ``x >= t + 1``; otherwise ``x > t`` is
``x >= ceil(t) = floor(t) + 1``). So each threshold becomes an integer ``c``,
clipped to the representable range: ``c <= min`` is always 1, ``c > max``
always 0.

:func:`lower_encoder` prepends the comparisons to the network as LUT layers, so
the result is an ordinary :class:`~lut2rtl.netlist.Netlist` whose inputs are
the feature bits (feature ``f`` in bits ``f*W .. f*W+W-1``, least significant
first) and which every later stage (passes, mapping, simulation, the formal
proof) treats like any other. ``x >= c`` is a ripple comparator of 2-input
gates from the lowest set bit of ``c`` upwards::

    r_j = x_j                        (j: lowest set bit of c)
    r_i = x_i AND r_(i-1)  if bit i of c is 1
        = x_i OR  r_(i-1)  if bit i of c is 0           (i = j+1 .. W-1)

and ``r_(W-1)`` is the bit. A signed feature compares ``x`` with its sign bit
inverted against ``c + 2**(W-1)`` (the order-preserving map to unsigned); the
inversion folds into the top gate's table. Thresholds of one feature that
share their low bits share the chain's prefix (equal gates are built once),
and the optimization passes (packing, ABC) then map the chains onto the
target's LUTs together with the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import OptionError, ShapeError
from .netlist import Layer, Netlist, Thermometer

__all__ = ["MAX_FEATURE_BITS", "FeatureFormat", "encoder_netlist", "feature_bits_of", "integer_thresholds",
           "lower_encoder", "needed_feature_bits"]

MAX_FEATURE_BITS = 32

# k = 2 tables (first input is the feature bit x_i, second the chain r)
_AND, _OR, _NOTA_AND, _NOTA_OR = 1, 7, 4, 13
# k = 1 tables: constant 0, constant 1, NOT
_FALSE1, _TRUE1, _NOT1 = 0, 3, 2


@dataclass(frozen=True)
class FeatureFormat:
    """How the hardware receives each feature: ``bits`` wide, two's complement if ``signed``."""

    bits: int
    signed: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.bits, bool) or not isinstance(self.bits, int) or not 1 <= self.bits <= MAX_FEATURE_BITS:
            raise OptionError("feature_bits", f"must be an integer in 1..{MAX_FEATURE_BITS}, got {self.bits!r}")

    @property
    def lo(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def describe(self) -> str:
        return f"{'signed' if self.signed else 'unsigned'} {self.bits}-bit ({self.lo}..{self.hi})"

    def to_bits(self, x: np.ndarray) -> np.ndarray:
        """Integer features ``[N, F]`` (in range) -> feature bits ``[N, F*bits]`` (uint8, LSB first)."""
        a = np.asarray(x)
        if a.ndim != 2:
            raise ShapeError(f"features must have shape (N, F), got {tuple(a.shape)}")
        ai = a.astype(np.int64)
        if not np.array_equal(ai, a) or (ai.size and (ai.min() < self.lo or ai.max() > self.hi)):
            raise ShapeError(f"features must be integers in {self.lo}..{self.hi} ({self.describe()})")
        u = ai & ((1 << self.bits) - 1)  # two's complement pattern
        shifts = np.arange(self.bits, dtype=np.int64)
        return ((u[:, :, None] >> shifts) & 1).astype(np.uint8).reshape(a.shape[0], -1)


def integer_thresholds(thresholds: np.ndarray, fmt: FeatureFormat) -> np.ndarray:
    """``c`` with ``x > t <=> x >= c`` for every integer ``x`` in ``fmt``'s range, in ``lo .. hi+1``."""
    t = np.asarray(thresholds, dtype=np.float64)
    if not np.all(np.isfinite(t)):
        raise ShapeError("encoder thresholds must be finite")
    # clip before floor: thresholds far outside the range (1e300) stay exact
    return (np.floor(np.clip(t, fmt.lo - 1, fmt.hi)) + 1).astype(np.int64)


def needed_feature_bits(thresholds: np.ndarray, signed: bool) -> int:
    """The narrowest width at which no threshold is constant only because of clipping."""
    c = np.floor(np.asarray(thresholds, dtype=np.float64)) + 1
    for bits in range(1, MAX_FEATURE_BITS + 1):
        fmt = FeatureFormat(bits, signed)
        if c.size == 0 or (c.min() >= fmt.lo and c.max() <= fmt.hi + 1):
            return bits
    return MAX_FEATURE_BITS


class _Builder:
    """LUT layers of a comparator forest; equal LUTs are built once."""

    def __init__(self, n_inputs: int) -> None:
        self.n_inputs = n_inputs
        # node: ("in", id) or ("lut", layer, index)
        self.layers: dict[int, list[tuple[int, tuple[tuple, ...], int]]] = {}
        self.seen: dict[tuple, tuple] = {}

    def lut(self, layer: int, k: int, ins: tuple[tuple, ...], table: int) -> tuple:
        key = (layer, ins, table)
        if key not in self.seen:
            rows = self.layers.setdefault(layer, [])
            rows.append((k, ins, table))
            self.seen[key] = ("lut", layer, len(rows) - 1)
        return self.seen[key]

    def compare(self, first: int, bits: int, c_u: int, signed: bool) -> tuple:
        """``[x_u >= c_u]`` for the feature whose bit ``b`` is input ``first + b`` (``x_u``: sign bit
        inverted when ``signed``)."""
        top = bits - 1
        if c_u <= 0:
            return self.lut(0, 1, (("in", first),), _TRUE1)
        if c_u >= 1 << bits:
            return self.lut(0, 1, (("in", first),), _FALSE1)
        j = (c_u & -c_u).bit_length() - 1
        if signed and j == top:
            return self.lut(0, 1, (("in", first + top),), _NOT1)
        r: tuple = ("in", first + j)
        for i in range(j + 1, bits):
            one = (c_u >> i) & 1
            inv = signed and i == top
            table = (_NOTA_AND if inv else _AND) if one else (_NOTA_OR if inv else _OR)
            r = self.lut(i, 2, (("in", first + i), r), table)
        return r

    def build(self) -> tuple[list[Layer], dict[tuple, int]]:
        order = sorted(self.layers)
        ids: dict[tuple, int] = {}
        nxt = self.n_inputs
        for l in order:
            for n in range(len(self.layers[l])):
                ids[("lut", l, n)] = nxt
                nxt += 1

        def sid(node: tuple) -> int:
            return node[1] if node[0] == "in" else ids[node]

        layers = []
        for l in order:
            rows = self.layers[l]
            k = rows[0][0]
            layers.append(Layer(k=k, inputs=np.array([[sid(x) for x in ins] for _, ins, _ in rows], dtype=np.int64),
                                tables=np.array([t for _, _, t in rows], dtype=np.uint64)))
        return layers, ids


def encoder_netlist(encoder: Thermometer, fmt: FeatureFormat) -> Netlist:
    """The comparisons alone: feature bits in, the thermometer bits out (in the encoder's order)."""
    c = integer_thresholds(encoder.thresholds, fmt)
    c_u = c - fmt.lo  # unsigned domain: 0 .. 2**bits
    n_feat, m = c.shape
    b = _Builder(n_feat * fmt.bits)
    nodes = [b.compare(f * fmt.bits, fmt.bits, int(c_u[f, i]), fmt.signed) for f in range(n_feat) for i in range(m)]
    layers, ids = b.build()
    outs = np.array([n[1] if n[0] == "in" else ids[n] for n in nodes], dtype=np.int64)
    return Netlist(n_inputs=n_feat * fmt.bits, layers=tuple(layers), outputs=outs)


def lower_encoder(net: Netlist, fmt: FeatureFormat) -> Netlist:
    """``net`` with its thermometer encoder as LUT layers in front: inputs are
    the feature bits; outputs, GroupSum and every output bit are unchanged for
    every in-range integer input (module docstring)."""
    if net.encoder is None:
        raise OptionError("encoder", "hw needs a checkpoint with a thermometer encoder; this one takes input bits "
                                     "(compile it without --encoder hw)")
    if net.encoder.n_bits != net.n_inputs:
        raise ShapeError(f"the encoder gives {net.encoder.n_bits} bits but the network reads {net.n_inputs}")
    enc = encoder_netlist(net.encoder, fmt)
    therm = np.asarray(enc.outputs, dtype=np.int64)  # network input i -> signal id in the lowered netlist
    shift = enc.offsets[-1] - net.n_inputs  # the network's LUT ids move past the encoder's

    def remap(ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        return np.where(ids < net.n_inputs, therm[np.minimum(ids, net.n_inputs - 1)], ids + shift)

    layers = [*enc.layers, *(Layer(k=ly.k, inputs=remap(ly.inputs), tables=ly.tables) for ly in net.layers)]
    meta = dict(net.metadata)
    meta["encoder_hw"] = {"features": int(net.encoder.features), "feature_bits": fmt.bits, "signed": fmt.signed,
                          "encoder_luts": int(enc.n_luts), "encoder_layers": len(enc.layers)}
    return Netlist(n_inputs=enc.n_inputs, layers=tuple(layers), outputs=remap(net.outputs),
                   group_sum=net.group_sum, encoder=None, metadata=meta)


def feature_bits_of(net: Netlist) -> FeatureFormat | None:
    """The feature format of a netlist made by :func:`lower_encoder` (None for one that takes bits)."""
    hw = net.metadata.get("encoder_hw")
    if not isinstance(hw, dict):
        return None
    return FeatureFormat(int(hw["feature_bits"]), bool(hw["signed"]))
