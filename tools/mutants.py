"""The catalogue of mutants for ``tools/mutate.py``: realistic single bugs in backward passes.

Each entry is one exact snippet of one file (it must occur exactly once there) and what
replaces it: a wrong derivative formula, a sign flip, a dropped term or factor, a gradient
overwritten instead of accumulated, a wrong unbroadcast axis, an off-by-one kink (``>`` for
``>=``), a gradient skipped because another input needs none, tie handling, a dtype drop.
Ids read ``area-what``; ``kind`` groups them.

Written against the one-definition engine ("Engine: one definition per op", ec03e12; as of
ae90de0 an elementwise op's output Value is its own context; the engine entries re-targeted
after the speed work that followed, which wrote the backward loop out for _p0/_p1 and marks
gradients passed on unchanged as shared (``_Shared``) instead of copying them):
each op's ``backward`` serves every path (Python floats through ``ctx.xp = floatmath``,
arrays through numpy); ``engine.py`` builds elementwise nodes (saved values in the output
Value's slots) and context nodes, and runs one backward loop with ``_send`` accumulating each
input's pending gradient. The catalogue for the engine before it (separate ``sbackward`` and
``abackward`` paths) is this file at commit c9e64ff.
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
m("add-sign", EW, "sign flip", "Add.backward: d/db = -1",
  "def backward(ctx, g):\n        return g, g", "def backward(ctx, g):\n        return g, -g")
m("add-double", EW, "wrong formula", "Add.backward: d/da = 2",
  "def backward(ctx, g):\n        return g, g", "def backward(ctx, g):\n        return g + g, g")
m("sub-sign", EW, "sign flip", "Sub.backward: d/db = +1",
  "return g, (-g if ctx.needs_input_grad[1] else None)",
  "return g, (g if ctx.needs_input_grad[1] else None)")
m("sub-skip", EW, "skipped gradient", "Sub.backward: b's gradient only when a needs one",
  "return g, (-g if ctx.needs_input_grad[1] else None)",
  "return g, (-g if ctx.needs_input_grad[0] else None)")
m("mul-swap", EW, "wrong formula", "Mul.backward: d/da = a instead of b",
  "(g * ctx.b if need_a else None)", "(g * ctx.a if need_a else None)")
m("mul-skip", EW, "skipped gradient", "Mul.backward: b's gradient only when a needs one",
  "(g * ctx.a if need_b else None)", "(g * ctx.a if need_a else None)")
m("mul-needs-swapped", EW, "skipped gradient", "Mul.backward reads needs_input_grad reversed",
  "need_a, need_b = ctx.needs_input_grad", "need_b, need_a = ctx.needs_input_grad")
m("div-da", EW, "wrong formula", "Div.backward: d/da = b instead of 1/b",
  "g_over_b = g / ctx.b", "g_over_b = g * ctx.b")
m("div-sign", EW, "sign flip", "Div.backward: d/db = +a/b^2",
  "(-g_over_b * ctx.out if", "(g_over_b * ctx.out if")
m("div-db-factor", EW, "dropped factor", "Div.backward: d/db = -a/b (one 1/b dropped)",
  "(-g_over_b * ctx.out if", "(-g * ctx.out if")
m("div-skip", EW, "skipped gradient", "Div.backward: b's gradient only when a needs one",
  "ctx.out if ctx.needs_input_grad[1] else None", "ctx.out if ctx.needs_input_grad[0] else None")
m("neg-sign", EW, "sign flip", "Neg.backward returns g",
  "def backward(ctx, g):\n        return -g\n", "def backward(ctx, g):\n        return g\n")
m("pow-factor", EW, "dropped factor", "Pow.backward: x^(p-1) without the factor p",
  "return g * (p * ctx.x ** (p - 1))", "return g * (ctx.x ** (p - 1))")
m("pow-exponent", EW, "off by one", "Pow.backward: p x^p instead of p x^(p-1)",
  "return g * (p * ctx.x ** (p - 1))", "return g * (p * ctx.x ** p)")
m("pow-zero", EW, "wrong formula", "Pow.backward for p == 0 passes g through",
  "return ctx.xp.zeros_like(g)", "return g")
m("exp-chain", EW, "dropped factor", "Exp.backward drops the upstream gradient",
  "return g * ctx.out\n", "return ctx.out\n")
m("log-formula", EW, "wrong formula", "Log.backward: g * x instead of g / x",
  "return g / ctx.x", "return g * ctx.x")
m("log-sign", EW, "sign flip", "Log.backward: -1/x", "return g / ctx.x", "return -g / ctx.x")
m("sqrt-factor", EW, "dropped factor", "Sqrt.backward: 1/sqrt(x) instead of 1/(2 sqrt(x))",
  "return g * (0.5 / ctx.out)", "return g * (1.0 / ctx.out)")
m("abs-formula", EW, "wrong formula", "Abs.backward: |x| instead of sign(x)",
  "return g * ctx.xp.sign(ctx.x)", "return g * ctx.xp.abs(ctx.x)")
m("abs-kink", EW, "kink", "Abs.backward: abs'(0) = 1 instead of 0",
  "return g * ctx.xp.sign(ctx.x)", "return g * ctx.xp.where(ctx.x >= 0, 1.0, -1.0)")
m("clip-lo-kink", EW, "kink", "Clip excludes its lower bound (x > lo)",
  "else x >= lo)", "else x > lo)")
m("clip-hi-kink", EW, "kink", "Clip excludes its upper bound (x < hi)",
  "else x <= hi)", "else x < hi)")
m("clip-hi-dropped", EW, "dropped term", "Clip ignores its upper bound in backward",
  "(True if hi is None else x <= hi)", "True")


# -- ops/activations.py --------------------------------------------------------------------
m("sigmoid-formula", ACT, "wrong formula", "Sigmoid.backward: s (1 - s^2)",
  "return g * (s * (1.0 - s))", "return g * (s * (1.0 - s * s))")
m("sigmoid-chain", ACT, "dropped factor", "Sigmoid.backward drops the upstream gradient",
  "return g * (s * (1.0 - s))", "return s * (1.0 - s)")
m("tanh-formula", ACT, "wrong formula", "Tanh.backward: 1 - t",
  "return g * (1.0 - t * t)", "return g * (1.0 - t)")
m("tanh-sign", ACT, "sign flip", "Tanh.backward: 1 + t^2",
  "return g * (1.0 - t * t)", "return g * (1.0 + t * t)")
m("relu-kink", ACT, "kink", "ReLU.backward: relu'(0) = 1 (>= for >)",
  "return g * (ctx.out > 0)", "return g * (ctx.out >= 0)")
m("relu-chain", ACT, "dropped factor", "ReLU.backward drops the upstream gradient",
  "return g * (ctx.out > 0)", "return 1.0 * (ctx.out > 0)")
m("leaky-chain", ACT, "dropped factor", "LeakyReLU.backward: slope instead of g * slope",
  "ctx.xp.where(ctx.x > 0, g, g * ctx.slope)", "ctx.xp.where(ctx.x > 0, g, ctx.slope)")
m("leaky-kink", ACT, "kink", "LeakyReLU: leaky_relu'(0) = 1 instead of slope (>= for >)",
  "ctx.xp.where(ctx.x > 0, g, g * ctx.slope)", "ctx.xp.where(ctx.x >= 0, g, g * ctx.slope)")
m("elu-dropped-alpha", ACT, "dropped term", "ELU.backward: alpha (e^x - 1) instead of alpha e^x",
  "ctx.out + ctx.alpha)", "ctx.out)")
m("elu-kink", ACT, "kink", "ELU: elu'(0) = 1 instead of alpha (>= for >)",
  "where(ctx.x > 0, 1.0, ctx.out + ctx.alpha)", "where(ctx.x >= 0, 1.0, ctx.out + ctx.alpha)")
m("elu-alpha-one", ACT, "wrong formula", "ELU.backward: alpha e^x - alpha + 1",
  "ctx.out + ctx.alpha)", "ctx.out + 1.0)")
m("prelu-dx-chain", ACT, "dropped factor", "PReLU d/dx: alpha instead of g * alpha",
  "gx = np.where(ctx.pos, g, g * ctx.a)", "gx = np.where(ctx.pos, g, ctx.a)")
m("prelu-dalpha-chain", ACT, "dropped factor", "PReLU d/dalpha: x instead of g * x",
  "ga = np.where(ctx.pos, 0, g * ctx.x)", "ga = np.where(ctx.pos, 0, ctx.x)")
m("prelu-kink", ACT, "kink", "PReLU: prelu'(0) = 1 instead of alpha (>= for >)",
  "pos = x > 0\n        ctx.x, ctx.a", "pos = x >= 0\n        ctx.x, ctx.a")
m("prelu-channel-axis", ACT, "wrong axis", "PReLU d/dalpha summed over every axis but 0",
  "range(ga.ndim) if i != 1)", "range(ga.ndim) if i != 0)")
m("prelu-scalar-mean", ACT, "wrong formula", "PReLU d/dalpha for one slope: mean, not sum",
  "ga = ga.sum()\n", "ga = ga.mean()\n")
m("maxout-tie-last", ACT, "ties", "Maxout: a tie goes to the last winner",
  "idx = pieces.argmax(axis=-1)[..., None]",
  "idx = (pieces.shape[-1] - 1 - pieces[..., ::-1].argmax(axis=-1))[..., None]")
m("maxout-chain", ACT, "dropped factor", "Maxout routes 1 instead of g to the winner",
  "np.put_along_axis(gp, ctx.idx, g[..., None], axis=-1)",
  "np.put_along_axis(gp, ctx.idx, 1.0, axis=-1)")


# -- ops/reduce.py -------------------------------------------------------------------------
m("sum-keepdims", RED, "wrong axis", "Sum.backward treats every sum as keepdims=True",
  "return np.broadcast_to(_expand(g, ctx.shape, ctx.axes, ctx.keepdims), ctx.shape)",
  "return np.broadcast_to(_expand(g, ctx.shape, ctx.axes, True), ctx.shape)")
m("mean-no-divide", RED, "dropped factor", "Mean.backward forgets the 1/n",
  "g = _expand(g, ctx.shape, ctx.axes, ctx.keepdims) * (1.0 / ctx.n)",
  "g = _expand(g, ctx.shape, ctx.axes, ctx.keepdims)")
m("mean-n-last-axis", RED, "wrong formula", "Mean counts only the last reduced axis in n",
  "n *= x.shape[a]", "n = x.shape[a]")
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
m("matmul-vec-b", LIN, "wrong axis", "MatMul with a 1-D b: the column axis of g not added",
  "if b.ndim == 1:\n            g2 = g2[..., None]  # g2",
  "if b.ndim == 1:\n            g2 = g2[..., None, :]  # g2")


# -- ops/shape.py --------------------------------------------------------------------------
m("transpose-not-inverse", SHP, "wrong axis",
  "Transpose.backward applies the permutation, not its inverse",
  "return g.transpose(np.argsort([a % g.ndim for a in ctx.axes]))",
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
m("ce-sign", LOSS, "sign flip", "SoftmaxCrossEntropy.backward: p + onehot",
  "dx[ctx.rows, ctx.y] -= 1", "dx[ctx.rows, ctx.y] += 1")
m("svm-count", LOSS, "wrong formula", "SVMLoss: the true class gets -1, not -count",
  "d[ctx.rows, ctx.y] = -d.sum(axis=1)", "d[ctx.rows, ctx.y] = -1")
m("svm-kink", LOSS, "kink", "SVMLoss: margins >= 0 count as active",
  "ctx.active, ctx.y, ctx.rows = margins > 0", "ctx.active, ctx.y, ctx.rows = margins >= 0")
m("mse-factor", LOSS, "dropped factor", "MSELoss.backward forgets the 2",
  "d = ctx.diff * (g * 2.0 / ctx.diff.size)", "d = ctx.diff * (g / ctx.diff.size)")
m("mse-sign", LOSS, "sign flip", "MSELoss.backward: target gets +d",
  "return d, -d", "return d, d")


# -- ops/normalization.py ------------------------------------------------------------------
m("bn-dropped-mean", NORM, "dropped term", "BatchNorm dx without the mean(g_hat) term",
  "dx += (-scale * dbeta / count)[:, None]", "pass")
m("bn-dgamma", NORM, "dropped factor", "BatchNorm dgamma = sum(g * centred) (no 1/std)",
  'dgamma = np.einsum("ncl,ncl->c", g, centred) * inv_std',
  'dgamma = np.einsum("ncl,ncl->c", g, centred)')
m("bn-training-swapped", NORM, "wrong formula", "BatchNorm uses the eval formula in training",
  "if ctx.training:\n            count", "if not ctx.training:\n            count")
m("ln-dropped-xhat", NORM, "dropped term", "LayerNorm dx without the x_hat mean(g_hat x_hat)",
  "- x_hat * (g_hat * x_hat).mean(axis=axes, keepdims=True))", ")")
m("ln-dgamma", NORM, "dropped factor", "LayerNorm dgamma = sum(g), not sum(g x_hat)",
  "dgamma = (grad_out * x_hat).sum(axis=lead)", "dgamma = grad_out.sum(axis=lead)")
m("dropout-scale", NORM, "dropped factor", "Dropout.backward forgets the 1/(1-p) scale",
  "return grad_out * ctx.mask", "return grad_out * (ctx.mask > 0)")


# -- ops/conv.py ---------------------------------------------------------------------------
m("conv-dw-mean", CONV, "wrong formula", "Conv2d dw averaged over the batch, not summed",
  ".sum(axis=0).reshape(ctx.w_shape)", ".mean(axis=0).reshape(ctx.w_shape)")
m("conv-db-axes", CONV, "wrong axis", "Conv2d db summed over the batch only (first pixel)",
  'db = np.einsum("nfp->f", g)', "db = g.sum(axis=0)[:, 0]")
m("conv-col2im-overwrite", CONV, "overwrite", "Conv2d col2im overwrites overlapping windows",
  "view += dcols[:, :, i, j]", "view[...] = dcols[:, :, i, j]")
m("conv-skip-w", CONV, "skipped gradient", "Conv2d dw only when x needs a gradient",
  "if needs[1]:", "if needs[0]:")
m("pool-overwrite", CONV, "overwrite", "MaxPool2d: overlapping windows overwrite",
  "view += grad_out * win", "view[...] = grad_out * win")
m("pool-ties-all", CONV, "ties", "MaxPool2d: every tied maximum takes the full gradient",
  "                win &= ~taken\n", "")


# -- function.py: unbroadcast --------------------------------------------------------------
m("unbroadcast-axis", FN, "wrong axis", "unbroadcast sums axis i, not extra + i",
  "axes.append(extra + i)", "axes.append(i)")
m("unbroadcast-leading", FN, "wrong axis", "unbroadcast keeps the leading broadcast axes",
  "axes = list(range(extra))", "axes = []")
m("unbroadcast-mean", FN, "wrong formula", "unbroadcast averages instead of summing",
  "out = grad.sum(axis=tuple(axes), keepdims=True) if axes else grad",
  "out = grad.mean(axis=tuple(axes), keepdims=True) if axes else grad")


# -- engine.py: building nodes (who needs a gradient) and the backward pass ----------------
m("eng-needs-table", ENG, "skipped gradient",
  "elementwise node: b needs no gradient when a needs none",
  "_NEEDS2 = (((False, False), (False, True)), ((True, False), (True, True)))",
  "_NEEDS2 = (((False, False), (False, False)), ((True, False), (True, True)))")
m("eng-needs-swapped", ENG, "skipped gradient",
  "elementwise node: needs_input_grad of a and b swapped",
  "needs_input_grad = _NEEDS2[ra][rb]", "needs_input_grad = _NEEDS2[rb][ra]")
m("eng-elementwise-requires", ENG, "skipped gradient",
  "elementwise node: the output requires grad only when a does",
  "        if ra or rb:\n            v.requires_grad = True",
  "        if ra:\n            v.requires_grad = True")
m("eng-context-needs", ENG, "skipped gradient",
  "context node: needs_input_grad in reverse order",
  "ctx.needs_input_grad = tuple(v.requires_grad for v in vals)",
  "ctx.needs_input_grad = tuple(v.requires_grad for v in reversed(vals))")
m("eng-context-requires", ENG, "skipped gradient",
  "context node: the output requires grad only when input 0 does",
  "if any(ctx.needs_input_grad) and", "if ctx.needs_input_grad[0] and")
m("eng-context-scalar-dtype", ENG, "dtype drop",
  "context node: a float64 scalar input that requires grad takes the arrays' dtype",
  "dtype=_f64 if v.requires_grad else (like or _f64))", "dtype=like or _f64)")
m("eng-order-unsorted", ENG, "wrong order", "backward_order: walk order, not creation order",
  "nodes.sort(key=_by_id)", "pass")
m("eng-order-first-input", ENG, "skipped gradient",
  "backward_order walks only input 0 of an elementwise node",
  "if (type(p1) is Value or sub and isinstance(p1, Value)) and p1.requires_grad and (",
  "if False and (")
m("eng-backward-first-input", ENG, "skipped gradient",
  "backward: only input 0 of an elementwise node receives its gradient",
  "if (type(p1) is Value or sub and isinstance(p1, Value)) and p1.requires_grad:\n",
  "if False:\n")
m("eng-context-first-input", ENG, "skipped gradient",
  "backward: only input 0 of a context node receives its gradient",
  "for p, pg in zip(inputs, grads, strict=True):",
  "for p, pg in zip(inputs[:1], grads[:1], strict=True):")
m("eng-grad-overwrite", ENG, "overwrite",
  "backward: .grad overwritten, not accumulated, across backward calls",
  "node._grad = g if old is None else _sum_grads(node, old, g)", "node._grad = g")
m("eng-send-overwrite", ENG, "overwrite",
  "_send: a second consumer's gradient overwrites the pending one",
  "    prev = p._pass\n    p._pass = pg if prev is None else prev + pg",
  "    prev = p._pass\n    p._pass = pg")
m("eng-shared-read-no-copy", ENG, "overwrite",
  "a gradient shared by two Values (+ passed it on) is not copied when .grad reads it",
  "g = self._grad = None if g.array is None else g.array.copy()", "g = self._grad = g.array")
m("eng-share-node-unmarked", ENG, "overwrite",
  "a pass-through marks the input's coming .grad as shared but not the node's own",
  "    if node._grad is g:\n        node._grad = _shared(g)",
  "    if False:\n        node._grad = _shared(g)")
m("eng-share-input-unmarked", ENG, "overwrite",
  "a pass-through marks the node's own .grad as shared but not the one the input will store",
  "    if p._grad is None:\n        p._grad = _SHARED_NEXT",
  "    if False:\n        p._grad = _SHARED_NEXT")
m("eng-send-no-unbroadcast", ENG, "wrong axis", "_send does not sum a broadcast gradient back",
  "if pg.shape != pd.shape:\n            pg = unbroadcast(pg, pd.shape, node._op.op)",
  "if False:\n            pg = unbroadcast(pg, pd.shape, node._op.op)")
m("eng-send-dtype-drop", ENG, "dtype drop", "_send keeps the gradient's dtype, not the input's",
  "if pg.dtype != pd.dtype:\n            pg = pg.astype(pd.dtype)",
  "if False:\n            pg = pg.astype(pd.dtype)")
m("eng-send-scalar-first", ENG, "wrong formula",
  "_send: a scalar input broadcast over an array takes one element, not the sum",
  "pg = _float(pg.sum() if pg.ndim else pg)", "pg = _float(pg.ravel()[0])")
m("eng-seed-dtype", ENG, "dtype drop", "the seed of a float32 output is float64",
  "return 1.0 if type(d) is _float else np.ones(d.shape, d.dtype)",
  "return 1.0 if type(d) is _float else np.ones(d.shape)")
m("eng-run-backward-array-g", ENG, "dtype drop",
  "a float64 scalar gradient reaches a context op's numpy backward as a Python float",
  "grads = cls.backward(ctx, g if on_floats or type(g) is not _float else np.array(g))",
  "grads = cls.backward(ctx, g)")
m("eng-first-arrival-overwrite", ENG, "overwrite",
  "backward: a later array arrival in p's shape overwrites the pending gradient",
  "elif (p._pass is None and type(pg) is _ndarray and pg.base is None",
  "elif (type(pg) is _ndarray and pg.base is None")
m("eng-first-arrival-shape", ENG, "wrong axis",
  "backward: the first-arrival path skips the shape check (no unbroadcast)",
  "and type(d) is _ndarray and pg.shape == d.shape and pg.dtype is d.dtype):",
  "and type(d) is _ndarray and pg.dtype is d.dtype):")
m("eng-first-arrival-dtype", ENG, "dtype drop",
  "backward: the first-arrival path skips the dtype check (no cast to the input's dtype)",
  "and type(d) is _ndarray and pg.shape == d.shape and pg.dtype is d.dtype):",
  "and type(d) is _ndarray and pg.shape == d.shape):")
m("eng-grad-read-only", ENG, "overwrite",
  "a broadcast view left as .grad by backward is returned as it is (read-only, shared)",
  "elif g is not None and not g.flags.writeable:", "elif False:")
m("eng-inputs-swapped", ENG, "wrong formula",
  "backward: a two-input elementwise node's gradients go to the inputs in reverse order",
  "                pg, pg1 = grads", "                pg1, pg = grads")
m("eng-scalar-overwrite", ENG, "overwrite",
  "backward: on the scalar path a second consumer's gradient overwrites the first's",
  "                p._pass = pg if prev is None else prev + pg", "                p._pass = pg")
m("eng-pass-through-shared", ENG, "overwrite",
  "backward: a gradient passed on unchanged (+, -) is shared with the input's .grad, unmarked",
  "                if pg is g:\n                    _share(node, g, p)",
  "                if False:\n                    _share(node, g, p)")
