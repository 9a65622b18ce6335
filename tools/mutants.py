"""The catalogue of mutants for ``tools/mutate.py``: realistic single bugs in backward passes.

Each entry is one exact snippet of one file (it must occur exactly once there) and what
replaces it: a wrong derivative formula, a sign flip, a dropped term or factor, a gradient
overwritten instead of accumulated, a wrong unbroadcast axis, an off-by-one kink (``>`` for
``>=``), a gradient skipped because another input needs none, tie handling, a dtype drop.
Ids read ``area-what``; ``kind`` groups them.

Written against the engine of commit 15e1c1d (per-path fast paths: ``sbackward`` for Python
floats, ``abackward`` for arrays, ``backward`` for everything else).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str
    kind: str
    description: str
    original: str
    replacement: str


EW = "tinygrad_lite/ops/elementwise.py"
ACT = "tinygrad_lite/ops/activations.py"
RED = "tinygrad_lite/ops/reduce.py"
LIN = "tinygrad_lite/ops/linalg.py"
SHP = "tinygrad_lite/ops/shape.py"
LOSS = "tinygrad_lite/ops/losses.py"
NORM = "tinygrad_lite/ops/normalization.py"
CONV = "tinygrad_lite/ops/conv.py"
FN = "tinygrad_lite/function.py"
ENG = "tinygrad_lite/engine.py"

MUTANTS: list[Mutant] = []


def m(id: str, file: str, kind: str, description: str, original: str, replacement: str) -> None:
    MUTANTS.append(Mutant(id, file, kind, description, original, replacement))


# -- ops/elementwise.py --------------------------------------------------------------------
m("add-general-drop-b", EW, "skipped gradient", "Add.backward gives b no gradient",
  "def backward(ctx, g):\n        return g, g", "def backward(ctx, g):\n        return g, None")
m("add-scalar-sign", EW, "sign flip", "Add.sbackward negates b's gradient",
  "def sbackward(node, g):\n        return g, g", "def sbackward(node, g):\n        return g, -g")
m("add-array-drop-b", EW, "skipped gradient", "Add.abackward gives b no gradient",
  "def abackward(node, g):\n        return g, g", "def abackward(node, g):\n        return g, None")
m("sub-general-sign", EW, "sign flip", "Sub.backward: d/db = +g",
  "return g, (-g if ctx.parents[1].requires_grad else None)",
  "return g, (g if ctx.parents[1].requires_grad else None)")
m("sub-scalar-sign", EW, "sign flip", "Sub.sbackward: d/db = +g",
  "def sbackward(node, g):\n        return g, -g", "def sbackward(node, g):\n        return g, g")
m("sub-array-sign", EW, "sign flip", "Sub.abackward: d/db = +g",
  "return g, (-g if type(p) is not float and p.requires_grad else None)",
  "return g, (g if type(p) is not float and p.requires_grad else None)")
m("sub-array-skip", EW, "skipped gradient", "Sub.abackward: b's gradient only when b needs none",
  "return g, (-g if type(p) is not float and p.requires_grad else None)",
  "return g, (-g if type(p) is not float and not p.requires_grad else None)")
m("mul-general-skip", EW, "skipped gradient",
  "Mul.backward: b's gradient computed only when a needs one",
  "(g * ctx.a if pb.requires_grad else None)", "(g * ctx.a if pa.requires_grad else None)")
m("mul-scalar-swap", EW, "wrong formula", "Mul.sbackward: saved factors swapped",
  "return g * node._s1, g * node._s0", "return g * node._s0, g * node._s1")
m("mul-array-swap", EW, "wrong formula", "Mul.abackward: d/da = a instead of b",
  "(g * node._s1 if type(pa) is not float and pa.requires_grad else None)",
  "(g * node._s0 if type(pa) is not float and pa.requires_grad else None)")
m("mul-array-skip", EW, "skipped gradient",
  "Mul.abackward: b's gradient computed only when a is a Value needing one",
  "(g * node._s0 if type(pb) is not float and pb.requires_grad else None)",
  "(g * node._s0 if type(pa) is not float and pa.requires_grad else None)")
m("div-general-da", EW, "wrong formula", "Div.backward: d/da = b instead of 1/b",
  "gb = g / ctx.b\n", "gb = g * ctx.b\n")
m("div-general-sign", EW, "sign flip", "Div.backward: d/db = +a/b^2",
  "return gb, (-gb * ctx.out if", "return gb, (gb * ctx.out if")
m("div-scalar-db", EW, "dropped factor", "Div.sbackward: d/db = -a/b (one 1/b dropped)",
  "return gb, -gb * node._s1", "return gb, -g * node._s1")
m("div-array-da", EW, "wrong formula", "Div.abackward: d/da = 1/b^2",
  "gb = g / node._s0\n        p = node._p1", "gb = g / node._s0 ** 2\n        p = node._p1")
m("div-array-sign", EW, "sign flip", "Div.abackward: d/db = +a/b^2",
  "return gb, (-gb * node._s1 if", "return gb, (gb * node._s1 if")
m("neg-general-sign", EW, "sign flip", "Neg.backward returns g",
  "def backward(ctx, g):\n        return -g\n", "def backward(ctx, g):\n        return g\n")
m("neg-scalar-sign", EW, "sign flip", "Neg.sbackward returns g",
  "def sbackward(node, g):\n        return (-g,)", "def sbackward(node, g):\n        return (g,)")
m("neg-array-sign", EW, "sign flip", "Neg.abackward returns g",
  "def abackward(node, g):\n        return (-g,)", "def abackward(node, g):\n        return (g,)")
m("pow2-factor", EW, "dropped factor", "Pow.backward for p == 2: x instead of 2x",
  "return g * (2.0 * ctx.x)", "return g * ctx.x")
m("pow-general-factor", EW, "dropped factor", "Pow.backward: x^(p-1) without the factor p",
  "return g * (p * ctx.x ** (p - 1))", "return g * (ctx.x ** (p - 1))")
m("pow-scalar-exponent", EW, "off by one", "Pow.sbackward: p x^p instead of p x^(p-1)",
  "return (g * p * x ** (p - 1),)", "return (g * p * x ** p,)")
m("pow-scalar-zero", EW, "wrong formula", "Pow.sbackward for p == 0 passes g through",
  "if p == 0:\n            return (0.0,)", "if p == 0:\n            return (g,)")
m("pow-general-zero", EW, "wrong formula", "Pow.backward for p == 0 passes g through",
  "return np.zeros_like(g)", "return g")
m("exp-scalar-chain", EW, "dropped factor", "Exp.sbackward drops the upstream gradient",
  "def sbackward(node, g):\n        return (g * node._s0,)",
  "def sbackward(node, g):\n        return (node._s0,)")
m("exp-array-chain", EW, "dropped factor", "Exp.abackward drops the upstream gradient",
  "def abackward(node, g):\n        return (g * node._s0,)",
  "def abackward(node, g):\n        return (node._s0,)")
m("log-general", EW, "wrong formula", "Log.backward: g * x instead of g / x",
  "return g / ctx.x", "return g * ctx.x")
m("log-array-sign", EW, "sign flip", "Log.abackward: -1/x",
  "def abackward(node, g):\n        return (g / node._s0,)",
  "def abackward(node, g):\n        return (-g / node._s0,)")
m("sqrt-factor", EW, "dropped factor", "Sqrt.backward: 1/sqrt(x) instead of 1/(2 sqrt(x))",
  "return g * (0.5 / ctx.out)", "return g * (1.0 / ctx.out)")
m("abs-sign", EW, "wrong formula", "Abs.backward: |x| instead of sign(x)",
  "return g * np.sign(ctx.x)", "return g * np.abs(ctx.x)")
m("abs-kink", EW, "kink", "Abs.backward: abs'(0) = 1 instead of 0",
  "return g * np.sign(ctx.x)", "return g * np.where(ctx.x >= 0, 1.0, -1.0)")
m("clip-lo-kink", EW, "kink", "Clip excludes its lower bound (x > lo)",
  "mask &= x >= lo", "mask &= x > lo")
m("clip-hi-kink", EW, "kink", "Clip excludes its upper bound (x < hi)",
  "mask &= x <= hi", "mask &= x < hi")


# -- ops/activations.py --------------------------------------------------------------------
m("sigmoid-general", ACT, "wrong formula", "Sigmoid.backward: s (1 - s^2)",
  "s = ctx.out\n        return g * (s * (1.0 - s))",
  "s = ctx.out\n        return g * (s * (1.0 - s * s))")
m("sigmoid-scalar", ACT, "wrong formula", "Sigmoid.sbackward: s (1 - s^2)",
  "return (g * s * (1.0 - s),)", "return (g * s * (1.0 - s * s),)")
m("sigmoid-array", ACT, "wrong formula", "Sigmoid.abackward: s (1 - s^2) (the tensor path)",
  "return (g * (s * (1.0 - s)),)", "return (g * (s * (1.0 - s * s)),)")
m("tanh-scalar", ACT, "sign flip", "Tanh.sbackward: 1 + t^2",
  "def sbackward(node, g):\n        t = node._s0\n        return (g * (1.0 - t * t),)",
  "def sbackward(node, g):\n        t = node._s0\n        return (g * (1.0 + t * t),)")
m("tanh-array", ACT, "wrong formula", "Tanh.abackward: 1 - t",
  "def abackward(node, g):\n        t = node._s0\n        return (g * (1.0 - t * t),)",
  "def abackward(node, g):\n        t = node._s0\n        return (g * (1.0 - t),)")
m("relu-general-kink", ACT, "kink", "ReLU.backward: relu'(0) = 1 (>= for >)",
  "return g * (ctx.out > 0)", "return g * (ctx.out >= 0)")
m("relu-scalar-kink", ACT, "kink", "ReLU.sbackward: relu'(0) = 1 (>= for >)",
  "return (g if node._s0 > 0 else 0.0,)", "return (g if node._s0 >= 0 else 0.0,)")
m("relu-array-kink", ACT, "kink", "ReLU.abackward: relu'(0) = 1 (>= for >)",
  "return (g * (node._s0 > 0),)", "return (g * (node._s0 >= 0),)")
m("leaky-chain", ACT, "dropped factor", "LeakyReLU.backward: slope instead of g * slope",
  "return np.where(ctx.pos, g, g * ctx.slope)", "return np.where(ctx.pos, g, ctx.slope)")
m("leaky-kink", ACT, "kink", "LeakyReLU: leaky_relu'(0) = 1 instead of slope (>= for >)",
  "pos = x > 0\n        ctx.pos, ctx.slope", "pos = x >= 0\n        ctx.pos, ctx.slope")
m("elu-dropped-alpha", ACT, "dropped term", "ELU.backward: alpha (e^x - 1) instead of alpha e^x",
  "np.where(ctx.pos, 1.0, ctx.neg + ctx.alpha)", "np.where(ctx.pos, 1.0, ctx.neg)")
m("elu-kink", ACT, "kink", "ELU: elu'(0) = 1 instead of alpha (>= for >)",
  "pos = x > 0\n        neg = alpha", "pos = x >= 0\n        neg = alpha")
m("prelu-dx-chain", ACT, "dropped factor", "PReLU d/dx: alpha instead of g * alpha",
  "gx = np.where(ctx.pos, g, g * ctx.a)", "gx = np.where(ctx.pos, g, ctx.a)")
m("prelu-dalpha-chain", ACT, "dropped factor", "PReLU d/dalpha: x instead of g * x",
  "ga = np.where(ctx.pos, 0, g * ctx.x)", "ga = np.where(ctx.pos, 0, ctx.x)")
m("prelu-kink", ACT, "kink", "PReLU: prelu'(0) = 1 instead of alpha (>= for >)",
  "pos = x > 0\n        ctx.x, ctx.a", "pos = x >= 0\n        ctx.x, ctx.a")
m("prelu-channel-axis", ACT, "wrong axis", "PReLU d/dalpha summed over every axis but 0",
  "range(ga.ndim) if i != 1)", "range(ga.ndim) if i != 0)")
m("maxout-tie-last", ACT, "ties", "Maxout: a tie goes to the last winner",
  "idx = pieces.argmax(axis=-1)[..., None]",
  "idx = (pieces.shape[-1] - 1 - pieces[..., ::-1].argmax(axis=-1))[..., None]")


# -- ops/reduce.py -------------------------------------------------------------------------
m("sum-keepdims", RED, "wrong axis", "Sum.backward treats every sum as keepdims=True",
  "return np.broadcast_to(_expand(g, ctx.shape, ctx.axes, ctx.keepdims), ctx.shape)",
  "return np.broadcast_to(_expand(g, ctx.shape, ctx.axes, True), ctx.shape)")
m("mean-no-divide", RED, "dropped factor", "Mean.backward forgets the 1/n",
  "g = _expand(g, ctx.shape, ctx.axes, ctx.keepdims) * (1.0 / ctx.n)",
  "g = _expand(g, ctx.shape, ctx.axes, ctx.keepdims)")
m("max-ties-full", RED, "ties", "Max: every tied maximum takes the full gradient",
  "return mask * (g / count)", "return mask * g")
m("max-ties-global-count", RED, "ties", "Max: ties counted over the whole array, not per slice",
  "count = mask.sum(axis=ctx.axes, keepdims=True)", "count = mask.sum()")
m("expand-inverted", RED, "wrong axis", "_expand re-inserts the axes only when keepdims",
  "if not keepdims and axes:", "if keepdims and axes:")


# -- ops/linalg.py -------------------------------------------------------------------------
m("matmul-2d-no-transpose", LIN, "wrong formula", "MatMul 2-D: d/da = g @ b (no transpose)",
  "return (g @ b.T if need_a else None)", "return (g @ b if need_a else None)")
m("matmul-2d-skip-b", LIN, "skipped gradient", "MatMul 2-D: b's gradient only when a needs one",
  "(a.T @ g if need_b else None)", "(a.T @ g if need_a else None)")
m("matmul-batch-skip-b", LIN, "skipped gradient",
  "MatMul batched: b gets no gradient when a needs none",
  "if need_b:\n            gb = _swap(a2) @ g2", "if need_a:\n            gb = _swap(a2) @ g2")
m("matmul-batch-no-swap", LIN, "wrong formula", "MatMul batched: d/da = g @ b (no transpose)",
  "ga = g2 @ _swap(b2)", "ga = g2 @ b2")
m("matmul-needs-swapped", LIN, "skipped gradient", "MatMul reads needs_input_grad in reverse",
  "need_a, need_b = ctx.needs_input_grad", "need_b, need_a = ctx.needs_input_grad")


# -- ops/shape.py --------------------------------------------------------------------------
m("transpose-not-inverse", SHP, "wrong axis", "Transpose.backward applies the permutation, "
  "not its inverse", "return g.transpose(np.argsort([a % g.ndim for a in ctx.axes]))",
  "return g.transpose(ctx.axes)")
m("getitem-overwrite", SHP, "overwrite", "GetItem: repeated indices overwrite (no add.at)",
  "np.add.at(out, ctx.idx, g)", "out[ctx.idx] = g")


# -- ops/losses.py -------------------------------------------------------------------------
m("softmax-dropped-p", LOSS, "dropped factor", "Softmax.backward: sum(g) instead of sum(g p)",
  "return p * (g - (g * p).sum(axis=ctx.axis, keepdims=True))",
  "return p * (g - g.sum(axis=ctx.axis, keepdims=True))")
m("softmax-axis", LOSS, "wrong axis", "Softmax.backward sums over the last axis always",
  "(g * p).sum(axis=ctx.axis, keepdims=True)", "(g * p).sum(axis=-1, keepdims=True)")
m("logsoftmax-no-exp", LOSS, "wrong formula", "LogSoftmax.backward: log p instead of p",
  "return g - np.exp(ctx.out) * g.sum(", "return g - ctx.out * g.sum(")
m("ce-no-mean", LOSS, "dropped factor", "SoftmaxCrossEntropy.backward forgets the 1/N",
  "dx *= g / len(ctx.y)", "dx *= g")
m("svm-count", LOSS, "wrong formula", "SVMLoss: the true class gets -1, not -count",
  "d[ctx.rows, ctx.y] = -d.sum(axis=1)", "d[ctx.rows, ctx.y] = -1")
m("mse-factor", LOSS, "dropped factor", "MSELoss.backward forgets the 2",
  "d = ctx.diff * (g * 2.0 / ctx.diff.size)", "d = ctx.diff * (g / ctx.diff.size)")
m("mse-sign", LOSS, "sign flip", "MSELoss.backward: target gets +d",
  "return d, -d", "return d, d")


# -- ops/normalization.py ------------------------------------------------------------------
m("bn-dropped-mean", NORM, "dropped term", "BatchNorm dx without the mean(g_hat) term",
  "dx += (-scale * dbeta / count)[:, None]", "pass")
m("bn-training-swapped", NORM, "wrong formula", "BatchNorm uses the eval formula in training",
  "if ctx.training:\n            count", "if not ctx.training:\n            count")
m("ln-dropped-xhat", NORM, "dropped term", "LayerNorm dx without the x_hat mean(g_hat x_hat)",
  "- x_hat * (g_hat * x_hat).mean(axis=axes, keepdims=True))", ")")
m("dropout-scale", NORM, "dropped factor", "Dropout.backward forgets the 1/(1-p) scale",
  "return grad_out * ctx.mask", "return grad_out * (ctx.mask > 0)")


# -- ops/conv.py ---------------------------------------------------------------------------
m("conv-dw-mean", CONV, "wrong formula", "Conv2d dw averaged over the batch, not summed",
  ".sum(axis=0).reshape(ctx.w_shape)", ".mean(axis=0).reshape(ctx.w_shape)")
m("conv-col2im-overwrite", CONV, "overwrite", "Conv2d col2im overwrites overlapping windows",
  "view += dcols[:, :, i, j]", "view[...] = dcols[:, :, i, j]")
m("conv-skip-w", CONV, "skipped gradient", "Conv2d dw only when x needs a gradient",
  "if needs[1]:", "if needs[0]:")
m("pool-overwrite", CONV, "overwrite", "MaxPool2d: overlapping windows overwrite",
  "view += grad_out * win", "view[...] = grad_out * win")
m("pool-ties-all", CONV, "ties", "MaxPool2d: every tied maximum takes the full gradient",
  "                win &= ~taken\n", "")


# -- function.py: unbroadcast and needs_input_grad -----------------------------------------
m("unbroadcast-axis", FN, "wrong axis", "unbroadcast sums axis i, not extra + i",
  "axes.append(extra + i)", "axes.append(i)")
m("unbroadcast-leading", FN, "wrong axis", "unbroadcast keeps the leading broadcast axes",
  "axes = list(range(extra))", "axes = []")
m("needs-input-grad-reversed", FN, "skipped gradient", "needs_input_grad in reverse order",
  "return tuple(p.requires_grad for p in self.parents)",
  "return tuple(p.requires_grad for p in reversed(self.parents))")


# -- engine.py: the backward pass and the requires_grad plumbing ---------------------------
m("eng-array-overwrite-p0", ENG, "overwrite",
  "array node: a second consumer's gradient overwrites the first's (input 0)",
  "# the common case inline: the input's shape and dtype, first arrival\n"
  "                if (p._pass is None and type(pd)",
  "# the common case inline: the input's shape and dtype, first arrival\n"
  "                if (type(pd)")
m("eng-array-overwrite-p1", ENG, "overwrite",
  "array node: a second consumer's gradient overwrites the first's (input 1)",
  "pd = p._data\n                    if (p._pass is None and type(pd)",
  "pd = p._data\n                    if (type(pd)")
m("eng-general-overwrite", ENG, "overwrite",
  "general node: a second consumer's gradient overwrites the first's",
  "if (p._pass is None and type(pg) is _ndarray", "if (type(pg) is _ndarray")
m("eng-send-overwrite", ENG, "overwrite", "_send overwrites the pending gradient",
  "    else:\n        p._pass = prev + pg", "    else:\n        p._pass = pg")
m("eng-scalar-overwrite-p0", ENG, "overwrite",
  "scalar node: a second consumer's gradient overwrites the first's (input 0)",
  "pg = grads[0]\n                if type(pg) is _float and type(p._data) is _float:\n"
  "                    prev = p._pass\n"
  "                    p._pass = pg if prev is None else prev + pg",
  "pg = grads[0]\n                if type(pg) is _float and type(p._data) is _float:\n"
  "                    prev = p._pass\n                    p._pass = pg")
m("eng-scalar-overwrite-p1", ENG, "overwrite",
  "scalar node: a second consumer's gradient overwrites the first's (input 1)",
  "pg = grads[1]\n                if type(pg) is _float and type(p._data) is _float:\n"
  "                    prev = p._pass\n"
  "                    p._pass = pg if prev is None else prev + pg",
  "pg = grads[1]\n                if type(pg) is _float and type(p._data) is _float:\n"
  "                    prev = p._pass\n                    p._pass = pg")
m("eng-grad-accum-array", ENG, "overwrite",
  "array node: .grad overwritten, not accumulated, across backward calls",
  "node._grad = np.asarray(old + g, dtype=node.dtype)\n            grads = op.abackward",
  "node._grad = g\n            grads = op.abackward")
m("eng-grad-accum-general", ENG, "overwrite",
  "array leaf or general node: .grad overwritten across backward calls",
  "node._grad = np.asarray(old + g, dtype=node.dtype)\n            if ctx is None:",
  "node._grad = g\n            if ctx is None:")
m("eng-grad-accum-scalar", ENG, "overwrite",
  "scalar node: .grad overwritten across backward calls",
  "node._grad = g if old is None else (old + g if type(old) is _float\n"
  "                                                else np.asarray(old + g, dtype=node.dtype))\n"
  "            grads = op.sbackward",
  "node._grad = g\n            grads = op.sbackward")
m("eng-send-no-unbroadcast", ENG, "wrong axis", "_send does not sum a broadcast gradient back",
  "if pg.shape != pd.shape:\n            pg = unbroadcast(pg, pd.shape, ctx.op)",
  "if False:\n            pg = unbroadcast(pg, pd.shape, ctx.op)")
m("eng-send-dtype-drop", ENG, "dtype drop", "_send keeps the gradient's dtype, not the input's",
  "if pg.dtype != pd.dtype:\n            pg = pg.astype(pd.dtype)",
  "if False:\n            pg = pg.astype(pd.dtype)")
m("eng-send-scalar-first", ENG, "wrong formula",
  "_send: a scalar input broadcast over an array takes one element, not the sum",
  "pg = _float(pg.sum() if pg.ndim else pg)", "pg = _float(pg.ravel()[0])")
m("eng-inline-shape", ENG, "wrong axis",
  "array node: the inline path skips the shape check (no unbroadcast for input 0)",
  "if (p._pass is None and type(pd) is _ndarray and pg.shape == pd.shape\n"
  "                        and pg.dtype == pd.dtype):",
  "if (p._pass is None and type(pd) is _ndarray\n"
  "                        and pg.dtype == pd.dtype):")
m("eng-inline-dtype", ENG, "dtype drop",
  "array node: the inline path skips the dtype check (input 1)",
  "if (p._pass is None and type(pd) is _ndarray and pg.shape == pd.shape\n"
  "                            and pg.dtype == pd.dtype):",
  "if (p._pass is None and type(pd) is _ndarray and pg.shape == pd.shape):")
m("eng-order-unsorted", ENG, "wrong order", "backward_order: stack order, not topological",
  "nodes.sort(key=_by_id)", "pass")
m("eng-order-skip-p1", ENG, "skipped gradient",
  "backward_order never walks a scalar node's input 1",
  "p = node._p1\n            if type(p) is Value and p.requires_grad and p not in seen:",
  "p = node._p0\n            if type(p) is Value and p.requires_grad and p not in seen:")
m("eng-general-first-parent", ENG, "skipped gradient",
  "general node: only the first input receives its gradient",
  "for p, pg in zip(ctx.parents, grads):", "for p, pg in zip(ctx.parents[:1], grads):")
m("eng-array2-needs", ENG, "skipped gradient",
  "array path: the output requires grad only when the left operand does",
  "needs = (type(a) is Value and a.requires_grad) or (type(b) is Value and b.requires_grad)",
  "needs = type(a) is Value and a.requires_grad")
m("eng-scalar2-needs", ENG, "skipped gradient",
  "scalar path: the output requires grad only when the left operand does",
  "needs = a.requires_grad or b.requires_grad\n", "needs = a.requires_grad\n")
m("eng-apply-needs", ENG, "skipped gradient",
  "general path: the output requires grad only when input 0 does",
  "needs = a0.requires_grad or a1.requires_grad", "needs = a0.requires_grad")
m("eng-seed-dtype", ENG, "dtype drop", "the seed of a float32 output is float64",
  "return 1.0 if type(d) is _float else np.ones(d.shape, d.dtype)",
  "return 1.0 if type(d) is _float else np.ones(d.shape)")
