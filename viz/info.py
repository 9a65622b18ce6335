"""What a drawing shows, as data: one NodeInfo per node, one EdgeInfo per edge, a GraphInfo.

``viz.analyze(root)`` fills them (see viz.analysis); viz.dot turns them into DOT text. Numbers
only, no drawing: numpy is the one import.

The marks' default thresholds live here, one definition each:

* ``SATURATION``: a sigmoid, tanh or ELU activation whose local gradient |f'| is below it
  is saturated (the same 0.01 as ``tinygrad_lite.monitor.SATURATION``);
* ``MARK_FRACTION``: a node is marked dead or saturated from this fraction of its units;
* ``VANISHING_RATIO`` / ``EXPLODING_RATIO``: a gradient RMS below / above this many times
  the reference near the output is marked vanishing / exploding.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

__all__ = ["NodeInfo", "EdgeInfo", "GraphInfo", "GraphTooLargeError", "SATURATION",
           "MARK_FRACTION", "VANISHING_RATIO", "EXPLODING_RATIO", "fmt", "norm", "ratio",
           "shape_text"]

SATURATION = 0.01
MARK_FRACTION = 0.1
VANISHING_RATIO = 1e-3
EXPLODING_RATIO = 1e3
SATURATING = frozenset({"sigmoid", "tanh", "elu"})  # ops whose units can saturate
DYING = frozenset({"relu"})  # ops whose units can die


class GraphTooLargeError(ValueError):
    """A graph with more nodes than ``max_nodes``: the message says how to collapse it."""


# -- small helpers ------------------------------------------------------------------------------
def fmt(x, digits: int = 4) -> str:
    """A number in ``digits`` significant digits; "nan", "inf", "0" and "None" spelled out."""
    if x is None:
        return "None"
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


def ratio(x) -> str:
    """A ratio in two significant digits that keeps its decimal: 1.0, 0.35, 12, 2.8e+04."""
    x = float(x)
    if not math.isfinite(x) or x == 0:
        return fmt(x)
    return f"{x:#.2g}".rstrip(".").replace(".e", "e")


def norm(a) -> float:
    """Euclidean norm of all elements, in float64 (0 for an empty array)."""
    a = np.asarray(a, dtype=np.float64)
    return float(np.sqrt(np.sum(a * a))) if a.size else 0.0


def shape_text(shape) -> str:
    """(3, 4), (5,) or (): a shape as Python writes a tuple."""
    return "(" + ", ".join(str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


# -- results ------------------------------------------------------------------------------------
@dataclass
class NodeInfo:
    """Statistics of one drawn node. Fractions are in [0, 1]; None where they do not apply.

    Dead and saturated fractions are judged on a batch: ``examples`` is how many examples
    (rows, or positions of a feature map) the unit statistics saw; with one example they stay
    None and ``notes`` says what this one example shows ("zero on this example").
    ``reasons`` maps each status to the sentence that justifies it, with the number that
    crossed the threshold (for a module node: the member that raised it, and its number).
    ``data_path``: whether the node depends on the input data (only those are judged
    vanishing or exploding).
    """

    id: str
    index: int
    name: str | None
    op: str
    op_label: str
    kind: str  # "param" | "input" | "const" | "op" | "module" | "more"
    op_args: str = ""
    shape: tuple = ()
    dtype: str = ""
    depth: int = 0
    module: str | None = None
    value: float | None = None  # one element only
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    reached: bool = False
    grad: float | None = None  # one element only
    grad_norm: float | None = None
    grad_rms: float | None = None
    grad_min: float | None = None
    grad_max: float | None = None
    grad_rel: float | None = None
    units: int | None = None
    dead_fraction: float | None = None
    dead_units: list = field(default_factory=list)
    saturated_fraction: float | None = None
    saturated_units: list = field(default_factory=list)
    unit_badness: np.ndarray | None = field(default=None, repr=False)
    status: tuple = ()
    reasons: dict = field(default_factory=dict)  # status -> "grad 3e-4 x ref", ...
    notes: list = field(default_factory=list)  # quiet remarks, e.g. "zero on this example"
    examples: int | None = None
    data_path: bool = True
    members: int = 1  # nodes a module node stands for
    params: list = field(default_factory=list)  # module node: (name, shape, grad_norm)
    value_ref: object = field(default=None, repr=False, compare=False)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    def summary(self) -> str:
        """Every statistic, one per line (the SVG tooltip)."""
        lines = [f"{self.name or self.op_label or self.kind}"]
        if self.op:
            lines.append(f"op: {self.op_label}")
        if self.op_args:
            lines.append(f"arguments: {self.op_args}")
        members = f" ({self.members} nodes)" if self.members > 1 else ""
        lines.append(f"kind: {self.kind}{members}")
        if self.module:
            lines.append(f"module: {self.module}")
        lines.append(f"shape: {self.shape}  dtype: {self.dtype}")
        if self.value is not None:
            lines.append(f"value: {fmt(self.value, 6)}")
        elif self.mean is not None:
            lines.append(f"mean {fmt(self.mean)}  std {fmt(self.std)}  "
                         f"min {fmt(self.min)}  max {fmt(self.max)}")
        if self.kind in ("const", "input") and not self.reached:
            lines.append("grad: none (requires_grad=False)")
        elif not self.reached:
            lines.append("grad: None (no backward pass reached it)")
        elif self.grad is not None:
            lines.append(f"grad: {fmt(self.grad, 6)}")
        else:
            lines.append(f"grad: norm {fmt(self.grad_norm)}  rms {fmt(self.grad_rms)}  "
                         f"min {fmt(self.grad_min)}  max {fmt(self.grad_max)}")
        if self.grad_rel is not None:
            lines.append(f"grad rms / reference: {fmt(self.grad_rel, 3)}")
        lines.append(f"depth from output: {self.depth}")
        for name, shape, gn in self.params:
            lines.append(f"param {name} {shape}: grad norm {fmt(gn)}")
        if self.dead_fraction is not None:
            lines.append(f"dead units: {len(self.dead_units)}/{self.units} "
                         f"({100 * self.dead_fraction:.0f}%)" + _list(self.dead_units))
        if self.saturated_fraction is not None:
            lines.append(f"saturated: {100 * self.saturated_fraction:.0f}% of activations; units "
                         f"saturated on every example: {len(self.saturated_units)}/{self.units}"
                         + _list(self.saturated_units))
        lines += self.notes
        for st in self.status:
            lines.append(f"marked {st}: {self.reasons.get(st, '')}".rstrip(": "))
        if not self.data_path:
            lines.append("off the data path (depends on no input data): not judged "
                         "vanishing or exploding")
        return "\n".join(lines)


def _list(idx, n=16) -> str:
    if not idx:
        return ""
    shown = ", ".join(str(i) for i in idx[:n])
    return f" [{shown}{', ...' if len(idx) > n else ''}]"


@dataclass
class EdgeInfo:
    """Edge src -> dst: input ``index`` of op ``dst``, with the gradients that cross it."""

    src: str
    dst: str
    index: int
    up: np.ndarray | None = field(default=None, repr=False)
    local: object = field(default=None, repr=False)  # ndarray, or a string describing the vjp
    down: np.ndarray | None = field(default=None, repr=False)
    down_rel: float | None = None
    count: int = 1  # underlying edges (collapsed graphs)

    def text(self, digits: int = 4) -> list[str]:
        """The edge's numbers, one string per line; every equation shown holds.

        One number each: ``up 0.1966 \u00d7 local 2`` / ``= down 0.3932``. Otherwise the rule
        that makes the downstream gradient from the upstream one (``down = up \u00d7 local``,
        elementwise, or the op's vjp such as ``down = a.T @ up``), then the downstream
        gradient: its value, or for a tensor ``|down|``, its norm. Norms are never multiplied
        (for tensors |up| x |local| is not |down|); the tooltip has every number.
        """
        if self.count > 1:
            return [f"{self.count} edges"]
        up, local, down = self.up, self.local, self.down
        if up is None:
            return []
        if down is None:
            result = "no gradient"
        elif down.size == 1:
            result = f"down {fmt(down.item(), digits)}"
        else:
            result = f"|down| {fmt(norm(down), 3)}"
        if isinstance(local, np.ndarray):
            if up.size == 1 and local.size == 1 and down is not None:
                return [f"up {fmt(up.item(), digits)} \u00d7 local {fmt(local.item(), digits)}",
                        f"= {result}"]
            return ["down = up \u00d7 local", result]
        if local is None:
            return [result]
        rule = " ".join(str(local).split())
        m = re.fullmatch(r"vjp of .* \(see ([\w.]+)\.backward\)", rule)
        rule = f"{m.group(1)}.backward(up)" if m else re.sub(r"\bgrad\b", "up", rule)
        rule = rule if len(rule) <= 30 else rule[:29] + "\u2026"
        return [f"down = {rule}", result]


@dataclass
class GraphInfo:
    """What ``analyze`` measured: nodes in trace order, edges, and the references used."""

    nodes: list[NodeInfo]
    edges: list[EdgeInfo]
    root_id: str
    total_nodes: int
    references: dict = field(default_factory=dict)  # group -> gradient RMS near the output
    settings: dict = field(default_factory=dict)

    def __post_init__(self):
        self._by_value = {id(n.value_ref): n for n in self.nodes if n.value_ref is not None}

    def node(self, key) -> NodeInfo:
        """The node for a Value, a node id ("n3"), or a name (parameter name or label)."""
        if not isinstance(key, str):
            found = self._by_value.get(id(key))
            if found is None:
                raise KeyError("node: this Value is not drawn in the graph")
            return found
        for n in self.nodes:
            if n.id == key:
                return n
        hits = [n for n in self.nodes if n.name == key]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise KeyError(f"node: no node named {key!r}")
        raise KeyError(f"node: {len(hits)} nodes are named {key!r}; use the Value or its id")

    def edges_into(self, key) -> list[EdgeInfo]:
        """The edges into the node for ``key`` (as ``node`` takes it), in argument order."""
        nid = self.node(key).id
        return [e for e in self.edges if e.dst == nid]

    def marked(self, status: str) -> list[NodeInfo]:
        """The nodes marked with ``status`` ("dead", "saturated", "vanishing", ...)."""
        return [n for n in self.nodes if status in n.status]

