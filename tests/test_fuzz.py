"""Fuzzing: hypothesis builds random graphs and every leaf's gradient must match finite
differences.

A graph is a small program: a list of steps, each applying a random op to earlier nodes
(leaves or results), so shared subexpressions and nodes used several times arise by
themselves; the output adds up every node, so each is used at least once. Shapes are random
and every node's shape broadcasts to one base shape, so any two nodes combine; the base may
be 0-d, which runs the scalar fast path. Ops with a kink (relu, abs, clip, max, ...) are
evaluated once first and the example is discarded when an input lies too close to a kink,
where no finite difference agrees with any one-sided derivative.
"""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygrad_lite.functional as F
from tinygrad_lite import Value, backward_order, gradcheck, no_grad
from tinygrad_lite.testing import arrays

KINK = 1e-3  # closest allowed distance of a kinked op's input to its kink
BIG = 1e3  # discard graphs whose values grow past this (finite differences lose digits)


class Kink(Exception):
    """Raised by the interpreter when an input sits on a kink or a tie."""


def _away(x, points):
    d = np.asarray(x.data, dtype=float)
    for p in points:
        if np.any(np.abs(d - p) < KINK):
            raise Kink
    return x


def _no_ties(x, axis):
    """Raise Kink when the two largest entries along axis are within KINK."""
    d = np.sort(np.asarray(x.data, dtype=float), axis=axis)
    if d.shape[axis] > 1 and np.any(np.take(d, -1, axis) - np.take(d, -2, axis) < KINK):
        raise Kink
    return x


def _offset(shape, axis):
    """Distinct constants along axis (so max has no structural ties), aligned to shape."""
    axis %= len(shape)
    c = [1] * len(shape)
    c[axis] = shape[axis]
    return Value(np.arange(shape[axis], dtype=float).reshape(c) * 0.37, requires_grad=False)


def _full(a, base):
    """a broadcast to the base shape (by adding zeros: a node of the graph, not a copy)."""
    return a + Value(np.zeros(base), requires_grad=False) if a.shape != base else a


def _nd(a, base):
    """a itself if it has an axis, else broadcast to the base shape."""
    return a if a.ndim else _full(a, base)


# name -> (arity, needs a base with ndim >= 1, fn(*nodes, base, extra, check))
def _unary(fn, kinks=None):
    def run(a, base, extra, check):
        if check and kinks is not None:
            _away(a, kinks)
        return fn(a)
    return 1, False, run


def _reduce(method):
    def run(a, base, extra, check):
        a = _nd(a, base)
        axis = extra % a.ndim
        if method == "max":
            a = a + _offset(a.shape, axis)
            if check:
                _no_ties(a, axis)
        return getattr(a, method)(axis=axis, keepdims=True)
    return 1, True, run


def _matmul(a, base, extra, check, W):
    return _full(a, base) @ W  # W: a square leaf made for this step, (k, k), k = base[-1]


def _maxout(a, base, extra, check):
    a = _nd(a, base)
    a = a + _offset(a.shape, -1)
    if check:
        _no_ties(a, -1)
    return F.maxout(a, a.shape[-1])  # one unit of k pieces


def _reverse(a, base, extra, check):
    return _nd(a, base)[..., ::-1]


def _softmax(a, base, extra, check):
    return F.softmax(_full(a, base), axis=-1)


def _log_softmax(a, base, extra, check):
    return F.log_softmax(_full(a, base), axis=-1)


def _cross_entropy(a, base, extra, check):
    full = _full(a, base).reshape(-1, base[-1])  # (N, C)
    y = np.arange(full.shape[0]) * (extra + 1) % base[-1]
    return F.softmax_cross_entropy(full, y)


OPS = {  # hypothesis favours the first entry: a binary op, so sharing is common
    "*": (2, False, lambda a, b, base, extra, check: a * b),
    "neg": _unary(lambda a: -a),
    "tanh": _unary(lambda a: a.tanh()),
    "sigmoid": _unary(F.sigmoid),
    "exp": _unary(lambda a: (a * 0.5).exp()),
    "log": _unary(lambda a: (a * a + 0.5).log()),
    "sqrt": _unary(lambda a: (a * a + 0.1).sqrt()),
    "cube": _unary(lambda a: a ** 3),
    "pow1.5": _unary(lambda a: (a * a + 0.2) ** 1.5),
    "recip": _unary(lambda a: 1.0 / (a * a + 0.5)),
    "relu": _unary(F.relu, (0.0,)),
    "leaky_relu": _unary(lambda a: F.leaky_relu(a, 0.1), (0.0,)),
    "elu": _unary(F.elu),  # C1 at 0 for alpha = 1: no kink
    "abs": _unary(lambda a: a.abs(), (0.0,)),
    "clip": _unary(lambda a: a.clip(-1.0, 1.0), (-1.0, 1.0)),
    "sum": _reduce("sum"),
    "mean": _reduce("mean"),
    "max": _reduce("max"),
    "reverse": (1, True, _reverse),
    "reshape": (1, False, lambda a, base, extra, check: a.reshape(-1).reshape(a.shape)),
    "transpose": (1, False, lambda a, base, extra, check: a.transpose().tanh().transpose()),
    "matmul": (1, True, _matmul),
    "maxout": (1, True, _maxout),
    "softmax": (1, True, _softmax),
    "log_softmax": (1, True, _log_softmax),
    "cross_entropy": (1, True, _cross_entropy),
    "+": (2, False, lambda a, b, base, extra, check: a + b),
    "-": (2, False, lambda a, b, base, extra, check: a - b),
    "/": (2, False, lambda a, b, base, extra, check: a / (b * b + 0.5)),
    "prelu": (2, False, lambda a, b, base, extra, check: F.prelu(_away(a, (0.0,)) if check else a,
                                                                  b.sum() * 0.1)),
}


def _sub_shape(draw, base):
    """A shape that broadcasts to base: leading axes dropped, some sizes set to 1."""
    drop = draw(st.integers(0, len(base)))
    shape = list(base[drop:])
    for i in range(len(shape)):
        if draw(st.booleans()):
            shape[i] = 1
    return tuple(shape)


@st.composite
def graphs(draw, min_steps=3, max_steps=8, force=None):
    """(base shape, leaf arrays, program): program steps are (op, operand indices, extra).

    ``force``: an op that appears at least once, at a random step."""
    bases = [(), (3,), (2, 3), (3, 1), (2, 2, 2)]  # () runs the scalar fast path throughout
    if force and OPS[force][1]:
        bases = bases[1:]  # an op that needs an axis
    base = draw(st.sampled_from(bases))
    n_leaves = draw(st.integers(1, 3))
    leaves = [draw(arrays(_sub_shape(draw, base), low=-2, high=2, avoid=(0.0,), margin=0.1))
              for _ in range(n_leaves)]
    names = [n for n, (_, needs_nd, _) in OPS.items() if base or not needs_nd]
    program = []
    n_steps = draw(st.integers(min_steps, max_steps))
    forced_at = draw(st.integers(0, n_steps - 1)) if force else -1
    for step in range(n_steps):
        name = force if step == forced_at else draw(st.sampled_from(names))
        arity = OPS[name][0]
        n_nodes = n_leaves + len(program)  # matmul matrices are not operands of other ops
        operands = tuple(draw(st.integers(0, n_nodes - 1)) for _ in range(arity))
        extra = draw(st.integers(0, 5))
        if name == "matmul":
            k = base[-1]
            asym = np.arange(k * k).reshape(k, k) * 0.1  # never symmetric: W and W.T differ
            leaves.append(draw(arrays((k, k), low=-1, high=1)) + asym)
        program.append((name, operands, extra))
    return base, leaves, program


def run_program(base, program, leaves, check=False):
    """Evaluate the program on leaf Values; the output is the sum of every node's sum."""
    # nodes: the first leaves, then one result per step; each matmul's square matrix is a
    # leaf kept apart (its shape (k, k) need not broadcast to the base shape)
    n_first = len(leaves) - sum(1 for name, _, _ in program if name == "matmul")
    nodes = list(leaves[:n_first])
    leaf_iter = iter(leaves[n_first:])
    for name, operands, extra in program:
        arity, _, fn = OPS[name]
        args = [nodes[i] for i in operands]
        if name == "matmul":
            out = fn(args[0], base, extra, check, next(leaf_iter))
        else:
            out = fn(*args, base, extra, check)
        if check:
            d = np.asarray(out.data)
            if not np.all(np.isfinite(d)) or np.any(np.abs(d) > BIG):
                raise Kink
        nodes.append(out)
    total = nodes[0].sum()
    for v in nodes[1:]:
        total = total + v.sum()
    return total, nodes


def _checked(base, leaves, program):
    """Leaf Values, after discarding programs that sit on a kink or blow up."""
    vals = [Value(np.array(a, dtype=np.float64), label=f"leaf{i}") for i, a in enumerate(leaves)]
    try:
        with no_grad(), np.errstate(all="ignore"):
            run_program(base, program, vals, check=True)
    except Kink:
        assume(False)
    return vals


@settings(max_examples=max(8 * settings.default.max_examples, 100))
@given(graphs())
def test_random_graph_gradients_match_finite_differences(g):
    base, leaves, program = g
    vals = _checked(base, leaves, program)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        assert gradcheck(lambda *vs: run_program(base, program, vs)[0], *vals)


@pytest.mark.parametrize("op", sorted(OPS))
@settings(max_examples=max(settings.default.max_examples // 2, 8))
@given(data=st.data())
def test_every_op_inside_random_graphs(op, data):
    """Each op, forced into random graphs, so none is left to the luck of the draw."""
    base, leaves, program = data.draw(graphs(force=op))
    vals = _checked(base, leaves, program)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        assert gradcheck(lambda *vs: run_program(base, program, vs)[0], *vals)


@settings(max_examples=max(settings.default.max_examples, 25))
@given(graphs(max_steps=10))
def test_random_graph_interior_gradients_and_reuse(g):
    """Every node that requires grad is reached; a node's gradient is the sum over its uses
    (checked by running the same program with one leaf used twice through a shared node)."""
    base, leaves, program = g
    vals = _checked(base, leaves, program)
    out, nodes = run_program(base, program, vals)
    out.backward()
    for v in backward_order(out):
        assert v.grad is not None and v.grad.shape == v.shape
        assert np.all(np.isfinite(v.grad))
    # twice the output: every leaf gradient doubles exactly (accumulation, not overwrite)
    first = [None if v.grad is None else v.grad.copy() for v in vals]
    for v in vals:
        v.zero_grad()
    out2, _ = run_program(base, program, vals)
    (out2 + out2).backward()
    for g1, v in zip(first, vals, strict=True):
        if g1 is not None:
            np.testing.assert_allclose(v.grad, 2 * g1, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_hand_built_diamond_and_reuse(seed):
    """A fixed diamond with heavy reuse: x feeds four paths that meet again."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.5, size=(2, 3))
    w = rng.standard_normal(3)

    def fn(x, w):
        a = x * w  # shared
        b = a.tanh() * a + a.exp() / (a * a + 1.0)
        c = F.softmax(b, axis=-1) * a - b.mean(axis=0, keepdims=True)
        return (c * c).sum() + (a * b * c).sum() + x.sum() * x.mean()

    assert gradcheck(fn, x, w)
