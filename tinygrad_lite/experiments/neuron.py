"""Backprop through one sigmoid neuron, gate by gate (the lecture's worked example).

    f = sigmoid(w0 * x0 + w1 * x1 + w2),  w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3

Every gate receives the upstream gradient dL/d(its output), multiplies it by its local gradient
d(its output)/d(input) and sends the product (downstream) to each input.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import functional as F
from ..engine import Value, backward_order

__all__ = ["LECTURE", "Edge", "Gate", "NeuronResult", "sigmoid_neuron"]

#: the numbers the lecture shows for this neuron (the claims the results are checked against)
LECTURE = {"f": 0.73, "w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}


@dataclass
class Edge:
    """One input edge of a gate: downstream = upstream x local."""

    parent: Value
    local: float
    upstream: float

    @property
    def downstream(self) -> float:
        return self.local * self.upstream


@dataclass
class Gate:
    """One computed node and the edges into it (in argument order)."""

    node: Value
    edges: list[Edge] = field(default_factory=list)


@dataclass
class NeuronResult:
    """The neuron after backward: its output node, the leaves, their gradients, every gate.

    f        the output Value (the root of the graph, for drawing)
    leaves   {"w0": Value, ...}
    grads    {"w0": dL/dw0, ...} with L = f
    gates    the computed nodes in backward order (output first), each with its input edges
    """

    f: Value
    leaves: dict[str, Value]
    grads: dict[str, float]
    gates: list[Gate]

    @property
    def output(self) -> float:
        return self.f.item()


def sigmoid_neuron() -> NeuronResult:
    """Build f = sigmoid(w0*x0 + w1*x1 + w2) with the lecture's numbers and run backward."""
    w0 = Value(2.0, label="w0")
    x0 = Value(-1.0, label="x0")
    w1 = Value(-3.0, label="w1")
    x1 = Value(-2.0, label="x1")
    w2 = Value(-3.0, label="w2")
    a = (w0 * x0).named("w0*x0")
    b = (w1 * x1).named("w1*x1")
    c = (a + b).named("c")
    z = (c + w2).named("z")
    f = F.sigmoid(z).named("f")
    f.backward()

    gates = []
    for node in reversed(backward_order(f)):
        if node.ctx is None:
            continue  # a leaf: no gate
        upstream = node.grad.item()
        edges = [Edge(parent, float(node.ctx.local_grad(i)), upstream)
                 for i, parent in enumerate(node.parents)]
        gates.append(Gate(node, edges))
    leaves = {str(v.label): v for v in (w0, x0, w1, x1, w2)}  # (all five are labelled)
    grads = {name: v.grad.item() for name, v in leaves.items()}
    return NeuronResult(f, leaves, grads, gates)
