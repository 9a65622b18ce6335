"""The catalogue of mutants for ``tools/mutate.py``: realistic single bugs in backward passes.

Each entry is one exact snippet of one file (it must occur exactly once there) and what
replaces it: a wrong derivative formula, a sign flip, a dropped term or factor, a gradient
overwritten instead of accumulated, a wrong unbroadcast axis, an off-by-one kink (``>`` for
``>=``), a gradient skipped because another input needs none, tie handling, a dtype drop.
Ids read ``area-what``; ``kind`` groups them.

Written against the plain eager engine (585ea14): ``value.py`` (``apply``: which inputs need a
gradient, floatmath or numpy, the data-change stamp), ``backward.py`` (``backward_order``, one
loop with a pending-gradient dict, ``_seed``, ``_fit``, ``unbroadcast``, the lock
around ``.grad``), ``versions.py``, ``hooks.py``, ``interop.py`` (constants), ``function.py``
(``local_grad``, ``input_grads`` for drawings) and ``gradient_check.py`` (the checker the
tests trust), beside every op's ``backward`` in ``ops/``. The catalogue for the engine before
it (``engine.py`` with builders, ``_Shared``, ``_p0``/``_p1``) is this file at commit 2c984fc.
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
BWD = "tinygrad_lite/backward.py"
VAL = "tinygrad_lite/value.py"
VER = "tinygrad_lite/versions.py"
HOOKS = "tinygrad_lite/hooks.py"
INTEROP = "tinygrad_lite/interop.py"
GC = "tinygrad_lite/gradient_check.py"

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
m("elu-dropped-alpha", ACT, "dropped factor", "ELU.backward: e^x instead of alpha e^x",
  "1.0, ctx.alpha * xp.exp(", "1.0, xp.exp(")
m("elu-kink", ACT, "kink", "ELU: elu'(0) = 1 instead of alpha (>= for >)",
  "where(ctx.x > 0, 1.0, ctx.alpha", "where(ctx.x >= 0, 1.0, ctx.alpha")
m("elu-out-plus-alpha", ACT, "wrong formula",
  "ELU.backward as out + alpha (cancels to exactly 0 far left of 0)",
  "ctx.alpha * xp.exp(xp.minimum(ctx.x, 0.0))", "ctx.out + ctx.alpha")
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


# -- backward.py: the order, the loop, _seed, _own, _fit, unbroadcast ----------------------
m("bwd-order-outputs-last", BWD, "wrong order", "backward runs the nodes inputs first",
  "    for node in reversed(order):  # outputs first", "    for node in order:")
m("bwd-order-preorder", BWD, "wrong order",
  "backward_order appends a node when first reached (pre-order), not after its inputs",
  "            stack.append((node, True))  # come back to it after its inputs",
  "            order.insert(0, node)")
m("bwd-order-revisit", BWD, "visited twice",
  "backward_order forgets which nodes it has seen: a shared node is visited twice",
  "        elif node not in seen:", "        else:")
m("bwd-order-constants", BWD, "wrong order",
  "backward_order walks into inputs that need no gradient",
  "                if p.requires_grad and p not in seen:", "                if p not in seen:")
m("bwd-pending-overwrite", BWD, "overwrite",
  "a second consumer's gradient overwrites the pending one (pending[p] = pg)",
  "pending[p] = pending[p] + pg if p in pending else pg", "pending[p] = pg")
m("bwd-grad-overwrite", BWD, "overwrite",
  ".grad overwritten, not accumulated, across backward calls",
  "node._grad = g if node._grad is None else node._grad + g", "node._grad = g")
m("bwd-fit-shared-not-copied", BWD, "aliasing",
  "_fit keeps an array that shares memory with the node's gradient: + passes g on, so two "
  "Values' .grad are one array",
  "not grad.flags.writeable or np.may_share_memory(grad, g)", "not grad.flags.writeable")
m("bwd-fit-read-only-kept", BWD, "aliasing",
  "_fit keeps a read-only broadcast as the input's .grad (sum's backward)",
  "not grad.flags.writeable or np.may_share_memory(grad, g)", "np.may_share_memory(grad, g)")
m("bwd-seed-not-copied", BWD, "aliasing",
  "the grad passed to backward() becomes the output's .grad as it is (the caller's array)",
  'g = np.array(getattr(grad, "data", grad), dtype=root.dtype)',
  'g = np.asarray(getattr(grad, "data", grad), dtype=root.dtype)')
m("bwd-grad-lock-removed", BWD, "race",
  "the lock around .grad's read-add-write removed (threads sharing a leaf lose updates)",
  "        with _grad_lock:\n", "        if True:\n")
m("bwd-hook-result-ignored", BWD, "dropped term",
  "a hook's returned gradient is ignored", "g = hooks.run(node, g)", "hooks.run(node, g)")
m("bwd-released-never-set", BWD, "retain_graph",
  "retain_graph ignored: a context is never marked released (a second pass adds again)",
  "ctx.released = not retain_graph", "ctx.released = False")
m("bwd-released-always", BWD, "retain_graph",
  "retain_graph ignored: a context is always marked released",
  "ctx.released = not retain_graph", "ctx.released = True")
m("bwd-released-unchecked", BWD, "retain_graph",
  "a released context is never checked (a second pass without retain_graph adds again)",
  "if any(n.ctx is not None and n.ctx.released for n in order):", "if False:")
m("bwd-version-check-skipped", BWD, "stale data",
  "the data-change check never runs in the loop", "if ctx.stamp < versions.clock:",
  "if ctx.stamp > versions.clock:")
m("bwd-float-g-to-numpy", BWD, "dtype drop",
  "a Python float gradient reaches an op's numpy backward as it is",
  "g if ctx.xp is floatmath else np.asarray(g)", "g")
m("bwd-fit-float-early", BWD, "wrong axis",
  "_fit returns at once for a float-stored input: a broadcast gradient is not summed back",
  "if type(grad) is float and type(p._data) is float:", "if type(p._data) is float:")
m("bwd-fit-dtype-drop", BWD, "dtype drop", "_fit keeps the gradient's dtype, not the input's",
  "if grad.dtype != data.dtype:\n        return grad.astype(data.dtype)",
  "if False:\n        return grad.astype(data.dtype)")
m("bwd-seed-dtype", BWD, "dtype drop", "the seed of a one-element float32 output is float64",
  "np.ones(root.shape, root.dtype)", "np.ones(root.shape)")
m("bwd-seed-grad-ignored", BWD, "wrong seed",
  "a grad passed to backward() of a one-element output is ignored (seeded with 1)",
  "if grad is None and np.size(root._data) == 1:", "if np.size(root._data) == 1:")
m("bwd-seed-grad-dtype", BWD, "dtype drop",
  "a grad passed to backward() keeps its own dtype, not the output's",
  'g = np.array(getattr(grad, "data", grad), dtype=root.dtype)',
  'g = np.array(getattr(grad, "data", grad))')
m("unbroadcast-axis", BWD, "wrong axis", "unbroadcast sums axis i, not extra + i",
  "extra + i for i, n in enumerate(shape)", "i for i, n in enumerate(shape)")
m("unbroadcast-leading-only", BWD, "wrong axis",
  "unbroadcast sums only the leading axes, not the size-1 ones",
  "    axes = tuple(range(extra)) + tuple(\n"
  "        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)",
  "    axes = tuple(range(extra))")
m("unbroadcast-mean", BWD, "wrong formula", "unbroadcast averages instead of summing",
  "return grad.sum(axis=axes, keepdims=True).reshape(shape)",
  "return grad.mean(axis=axes, keepdims=True).reshape(shape)")
m("unbroadcast-keepdims-dropped", BWD, "wrong axis",
  "unbroadcast sums without keepdims and does not reshape (the size-1 axes are lost)",
  "return grad.sum(axis=axes, keepdims=True).reshape(shape)",
  "return grad.sum(axis=axes)")


# -- value.py: apply (who needs a gradient, which math, the stamp) -------------------------
m("val-needs-reversed", VAL, "skipped gradient", "apply: needs_input_grad in reverse order",
  "p.requires_grad for p in ctx.parents", "p.requires_grad for p in reversed(ctx.parents)")
m("val-needs-first-input", VAL, "skipped gradient",
  "apply: every input needs a gradient exactly when input 0 does",
  "p.requires_grad for p in ctx.parents", "ctx.parents[0].requires_grad for p in ctx.parents")
m("val-xp-not-elementwise", VAL, "wrong path",
  "apply: floatmath chosen for a non-elementwise op on Python floats",
  "if op.elementwise and all(", "if all(")
m("val-requires-ignores-mode", VAL, "grad mode",
  "apply: the output requires grad under no_grad too",
  "any(ctx.needs_input_grad) and mode.grad_enabled", "any(ctx.needs_input_grad)")
m("val-requires-all", VAL, "skipped gradient",
  "apply: the output requires grad only when every input does",
  "any(ctx.needs_input_grad) and mode.grad_enabled",
  "all(ctx.needs_input_grad) and mode.grad_enabled")
m("val-stamp-zero", VAL, "stale data",
  "apply: the op's stamp is not recorded (0): any earlier data change makes backward raise",
  "ctx.stamp, ctx.released = versions.clock, False", "ctx.stamp, ctx.released = 0, False")
m("val-constant-requires-grad", INTEROP, "grad mode",
  "a constant argument (a number or an array) is lifted with requires_grad=True",
  "return value_class(x, requires_grad=False, copy=False)",
  "return value_class(x, requires_grad=True, copy=False)")
m("val-constant-scalar-dtype", INTEROP, "dtype drop",
  "a float64 scalar that requires grad beside float32 arrays takes the arrays' dtype",
  "np.array(x, dtype=np.float64 if p.requires_grad else like)", "np.array(x, dtype=like)")


# -- versions.py: data changed after an op saved it ----------------------------------------
m("ver-clock-not-advanced", VER, "stale data",
  "mark_changed does not advance the clock: backward never looks for changes",
  "    _changed_at[value] = tick\n    clock = tick", "    _changed_at[value] = tick")
m("ver-input-ge", VER, "wrong comparison",
  "check: an input changed before the op ran (same tick) counts as changed after",
  "if _changed_at.get(p, 0) > ctx.stamp:", "if _changed_at.get(p, 0) >= ctx.stamp:")
m("ver-input-lt", VER, "wrong comparison", "check: the comparison for inputs reversed",
  "if _changed_at.get(p, 0) > ctx.stamp:", "if 0 < _changed_at.get(p, 0) < ctx.stamp:")
m("ver-inputs-skipped", VER, "stale data", "check: the inputs are never checked",
  'if saved_names(ctx) != ["out"]:', "if False:")
m("ver-output-skipped", VER, "stale data", "check: the output is never checked",
  "if _changed_at.get(node, 0) > ctx.stamp:", "if False:")
m("ver-saves-data-ignored", VER, "wrong comparison",
  "check: an op that reads no input data (+) raises for a changed input too",
  "    if not ctx.saves_data:\n        return\n", "")


# -- hooks.py ------------------------------------------------------------------------------
m("hook-dtype-drop", HOOKS, "dtype drop",
  "a hook's float64 result for a float32 Value is kept float64",
  'out = np.asarray(getattr(out, "data", out), dtype=node.dtype)',
  'out = np.asarray(getattr(out, "data", out))')
m("hook-chain-broken", HOOKS, "dropped term",
  "each hook sees the original gradient, not the one the hook before it returned",
  "    for fn in list(registered[id(node)][1].values()):\n        out = fn(",
  "    g0 = g\n    for fn in list(registered[id(node)][1].values()):\n        g = g0\n"
  "        out = fn(")


# -- function.py: what drawings call -------------------------------------------------------
m("fn-local-grad-input0", FN, "wrong formula", "local_grad(i) returns input 0's gradient",
  "self._backward_all(np.ones(()))[i]", "self._backward_all(np.ones(()))[0]")
m("fn-local-grad-unbroadcast-shape", FN, "wrong axis",
  "local_grad of an elementwise op not in the output's shape",
  "return np.broadcast_to(g, np.broadcast_shapes(*(p.shape for p in self.parents)))",
  "return g")
m("fn-input-grads-no-unbroadcast", FN, "wrong axis",
  "input_grads leaves a broadcast gradient in the output's shape",
  "out.append(unbroadcast(g, p.shape, self.op) if g.shape != p.shape else g)", "out.append(g)")
m("fn-backward-all-needs-kept", FN, "skipped gradient",
  "_backward_all asks backward with the op's own needs_input_grad (None for a constant)",
  "self.needs_input_grad = (True,) * len(self.parents)", "pass")


# -- gradient_check.py ---------------------------------------------------------------------
m("gc-abs-compare", GC, "sign flip", "gradcheck compares |analytic| with |numeric|",
  "err = np.abs(analytic - numeric)", "err = np.abs(np.abs(analytic) - np.abs(numeric))")
m("gc-ones-projection", GC, "dropped factor",
  "gradcheck reduces a many-element output with ones, not a random projection",
  "r = np.random.default_rng(rng_seed).standard_normal(out.shape)", "r = np.ones(out.shape)")
m("gc-nan-passes", GC, "NaN", "gradcheck lets a NaN or infinite gradient pass",
  "bad = _nonfinite_mismatch(analytic, numeric) if nonfinite_ok else nonfinite",
  "bad = _nonfinite_mismatch(analytic, numeric) if nonfinite_ok else nonfinite & False")
m("gc-inf-sign", GC, "sign flip", "nonfinite_ok: +inf against -inf passes",
  "np.isinf(analytic) & (analytic == numeric)", "np.isinf(analytic) & np.isinf(numeric)")
m("gc-one-sided", GC, "wrong formula",
  "numerical_grad divides the central difference by eps, not 2 eps",
  "grad[i] = (fp - fm) / (2 * eps)", "grad[i] = (fp - fm) / eps")
m("gc-no-restore", GC, "stale data",
  "numerical_grad does not restore each element (it stays at x - eps)",
  "        x[i] = old\n", "")
m("gc-missing-grad-skipped", GC, "skipped gradient",
  "gradcheck skips an input that backward never reached, instead of comparing zeros",
  "analytic = np.zeros(v.shape) if v.grad is None else",
  "if v.grad is None:\n            continue\n        analytic =")
