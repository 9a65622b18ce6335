"""tinygrad_lite.jit (replay.py): a replay gives eager's numbers bit for bit, or raises, or runs
eagerly; it never gives a wrong number.

Protocol of the equality tests: two identical models (same seeds), one trained eagerly and one
through ``step = tinygrad_lite.jit(fn)``, both with SGD(momentum=0.9), on fresh batches passed
as arguments; after every step each parameter's .grad and .data, each buffer, and the loss
are compared with np.array_equal. ``fn`` counts its own calls, so a test also checks that the
calls after the first two really were replays (fn not run).
"""
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_lite as tgl
import tinygrad_lite.functional as F
from tinygrad_lite import Value, nn, optim

STEPS = 6  # calls 3..6 are replays


# -- helpers -----------------------------------------------------------------------------------
def same(a, b, what=""):
    """Bit for bit: same dtype, same shape, np.array_equal."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} vs {b.dtype}"
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    assert np.array_equal(a, b), f"{what}: max abs diff {np.max(np.abs(a - b))}"


def same_params(eager, jitted, where):
    """Every parameter's grad and data, and every buffer, identical."""
    pe, pj = list(eager.named_parameters()), list(jitted.named_parameters())
    assert [n for n, _ in pe] == [n for n, _ in pj]
    for (name, a), (_, b) in zip(pe, pj, strict=True):
        assert (a.grad is None) == (b.grad is None), f"{where}: {name}.grad None in one only"
        if a.grad is not None:
            same(a.grad, b.grad, f"{where}: {name}.grad")
        same(a.data, b.data, f"{where}: {name}.data")
    be, bj = dict(eager.named_buffers()), dict(jitted.named_buffers())
    assert be.keys() == bj.keys()
    for name in be:
        if be[name] is not None:
            same(be[name], bj[name], f"{where}: buffer {name}")


class Counted:
    """``fn`` with a count of how often it really ran (a replay does not run it)."""

    def __init__(self, fn):
        self._target, self.n = fn, 0

    def __call__(self, *args, **kwargs):
        self.n += 1
        return self._target(*args, **kwargs)


def train_pair(make, batches, loss_of, lr=0.05):
    """Train make() eagerly and make() through jit on the same batches, comparing each step.
    Returns (eager model, jitted model, the jitted callable, the counted fn)."""
    eager, jitted = make(), make()
    same_params(eager, jitted, "before training")
    opt_e = optim.SGD(list(eager.parameters()), lr=lr, momentum=0.9)
    opt_j = optim.SGD(list(jitted.parameters()), lr=lr, momentum=0.9)

    def fn(X, y):
        loss = loss_of(jitted(X), y)
        loss.backward()
        return loss

    counted = Counted(fn)
    step = tgl.jit(counted)
    for i, (X, y) in enumerate(batches):
        opt_e.zero_grad()
        loss_e = loss_of(eager(X), y)
        loss_e.backward()
        opt_j.zero_grad()
        loss_j = step(X, y)
        assert isinstance(loss_j, Value)
        same(loss_j.data, loss_e.data, f"step {i}: loss")
        same_params(eager, jitted, f"step {i}, after backward")
        opt_e.step()
        opt_j.step()
        same_params(eager, jitted, f"step {i}, after opt.step()")
    return eager, jitted, step, counted


def ce(out, y):
    return F.softmax_cross_entropy(out, y)


def mse(out, y):
    return F.mse_loss(out, y)


def test_jit_of_a_callable_object_calls_that_object():
    """jit(obj) for a callable object whose attributes happen to be named fn / records / verify
    (found: functools.update_wrapper copies obj.__dict__ onto the jitted callable, so its own
    fn was replaced by obj.fn and obj.__call__ never ran)."""

    class Step:
        def __init__(self):
            self.fn = None  # an attribute of the user's object, nothing to do with jit
            self.records = "mine"
            self.n = 0

        def __call__(self, x):
            self.n += 1
            loss = (x * w).sum()
            loss.backward()
            return loss

    w = Value(np.ones(2))
    obj = Step()
    step = tgl.jit(obj)
    step(np.array([1.0, 2.0]))
    assert obj.n == 1
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])
    assert obj.records == "mine"


# -- 1. bit for bit: hypothesis MLPs -----------------------------------------------------------
@st.composite
def mlp_specs(draw):
    n_in = draw(st.integers(1, 5))
    hidden = draw(st.lists(st.tuples(
        st.integers(1, 6),                                            # width
        st.sampled_from([None, "batchnorm", "layernorm"]),            # normalization
        st.sampled_from(["relu", "tanh", "sigmoid"]),                 # activation
        st.sampled_from([0.0, 0.25, 0.5])),                           # dropout p
        min_size=0, max_size=3))
    return dict(n_in=n_in, hidden=hidden, n_out=draw(st.integers(2, 4)),
                dtype=draw(st.sampled_from([np.float64, np.float32])),
                loss=draw(st.sampled_from(["ce", "mse"])),
                batch=draw(st.integers(2, 6)),  # batch norm needs two rows
                seed=draw(st.integers(0, 2**16)),
                as_value=draw(st.booleans()))


def make_mlp(spec):
    """A fresh model from ``spec``; each call gets its own, identically seeded, dropout rngs."""
    seed, layers, n = spec["seed"], [], spec["n_in"]
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    for i, (width, norm, act, p) in enumerate(spec["hidden"]):
        layers.append(nn.Linear(n, width, rng=seed + i))
        if norm == "batchnorm":
            layers.append(nn.BatchNorm1d(width))
        elif norm == "layernorm":
            layers.append(nn.LayerNorm(width))
        layers.append(acts[act]())
        if p:
            layers.append(nn.Dropout(p, rng=np.random.default_rng(seed + 1000 + i)))
        n = width
    layers.append(nn.Linear(n, spec["n_out"], rng=seed + 99))
    return nn.Sequential(*layers).to(spec["dtype"])


@settings(max_examples=12)
@given(mlp_specs())
def test_mlp_replay_equals_eager_bit_for_bit(spec):
    rng = np.random.default_rng(spec["seed"])
    dt, N = spec["dtype"], spec["batch"]
    batches = []
    for _ in range(STEPS):
        X = rng.standard_normal((N, spec["n_in"])).astype(dt)
        if spec["loss"] == "ce":
            y = rng.integers(0, spec["n_out"], N)
        else:
            y = rng.standard_normal((N, spec["n_out"])).astype(dt)
        if spec["as_value"]:
            X = Value(X, requires_grad=False)
        batches.append((X, y))
    loss_of = ce if spec["loss"] == "ce" else mse
    _, jitted, step, counted = train_pair(lambda: make_mlp(spec), batches, loss_of)
    assert counted.n == 2, "calls 3.. should have been replays"
    assert len(step.records) == 1
    assert next(jitted.parameters()).dtype == dt


# -- 1. bit for bit: a CNN ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cnn_replay_equals_eager_bit_for_bit(dtype):
    def make():
        return nn.Sequential(
            nn.Conv2d(2, 3, 3, padding=1, rng=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(3, 4, 2, stride=1, rng=2), nn.Tanh(),
            nn.Flatten(), nn.Linear(4 * 2 * 2, 5, rng=3)).to(dtype)

    rng = np.random.default_rng(7)
    batches = [(rng.standard_normal((4, 2, 6, 6)).astype(dtype), rng.integers(0, 5, 4))
               for _ in range(STEPS)]
    _, _, _, counted = train_pair(make, batches, ce)
    assert counted.n == 2


# -- 1. bit for bit: scalar graphs (micrograd style) -------------------------------------------
@st.composite
def scalar_graphs(draw):
    n_params = draw(st.integers(1, 4))
    n_inputs = draw(st.integers(1, 3))
    ops = draw(st.lists(st.tuples(
        st.sampled_from(["add", "mul", "relu", "tanh", "add_const", "mul_const", "rsub_const"]),
        st.integers(0, 10**6), st.integers(0, 10**6),
        st.floats(-2, 2, allow_nan=False).filter(lambda c: c != 0)),
        min_size=1, max_size=10))
    return dict(n_params=n_params, n_inputs=n_inputs, ops=ops,
                inputs_grad=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


def scalar_forward(spec, params, xs):
    pool = list(params) + list(xs)
    for kind, i, j, c in spec["ops"]:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if kind == "add":
            out = a + b
        elif kind == "mul":
            out = a * b
        elif kind == "relu":
            out = a.relu()
        elif kind == "tanh":
            out = a.tanh()
        elif kind == "add_const":
            out = a + c
        elif kind == "mul_const":
            out = a * c
        else:
            out = c - a
        pool.append(out)
    loss = pool[0]
    for v in pool[1:]:  # every parameter and every op reaches the loss
        loss = loss + v * 0.5
    return loss


@settings(max_examples=15)
@given(scalar_graphs())
def test_scalar_graph_replay_equals_eager_bit_for_bit(spec):
    rng = np.random.default_rng(spec["seed"])
    init = [float(v) for v in rng.uniform(-1, 1, spec["n_params"])]
    pe = [Value(v, label=f"p{k}") for k, v in enumerate(init)]
    pj = [Value(v, label=f"p{k}") for k, v in enumerate(init)]
    opt_e = optim.SGD(pe, lr=0.01, momentum=0.9)
    opt_j = optim.SGD(pj, lr=0.01, momentum=0.9)

    def fn(*xs):
        loss = scalar_forward(spec, pj, xs)
        loss.backward()
        return loss

    counted = Counted(fn)
    step = tgl.jit(counted)
    for i in range(STEPS):
        data = [float(v) for v in rng.uniform(-1.5, 1.5, spec["n_inputs"])]
        xe = [Value(v, requires_grad=spec["inputs_grad"]) for v in data]
        xj = [Value(v, requires_grad=spec["inputs_grad"]) for v in data]
        assert type(xj[0]._data) is float  # the Python-float path
        opt_e.zero_grad()
        loss_e = scalar_forward(spec, pe, xe)
        loss_e.backward()
        opt_j.zero_grad()
        loss_j = step(*xj)
        same(loss_j.data, loss_e.data, f"step {i}: loss")
        for k, (a, b) in enumerate(zip(pe + xe, pj + xj, strict=True)):
            assert (a.grad is None) == (b.grad is None), f"step {i}: value {k}"
            if a.grad is not None:
                same(a.grad, b.grad, f"step {i}: grad of value {k}")
        opt_e.step()
        opt_j.step()
        for k, (a, b) in enumerate(zip(pe, pj, strict=True)):
            same(a.data, b.data, f"step {i}: p{k}.data")
    assert counted.n == 2


def test_scalar_replay_with_an_input_used_twice_by_one_op_equals_eager():
    """x * x and x + x send two gradients to one slot from one node: the replay must add the
    second to the first, as eager's pending dict does (the scalar path once overwrote it)."""
    init = [0.7, -1.3, 0.4]
    pe = [Value(v) for v in init]
    pj = [Value(v) for v in init]

    def graph(ps, x):
        a, b, c = ps
        h = (a * a + b * x).tanh() + (c + c) * a
        return (h * h + a * b * c).relu() + (b * b) * 0.5

    def fn(x):
        loss = graph(pj, x)
        loss.backward()
        return loss

    step = tgl.jit(fn)
    for i, xv in enumerate([0.3, -0.8, 1.1, 0.05, -1.7]):
        for p in pe + pj:
            p.zero_grad()
        graph(pe, Value(xv, requires_grad=False)).backward()
        loss_j = step(Value(xv, requires_grad=False))
        assert loss_j.item() == graph(pe, Value(xv, requires_grad=False)).item()
        for k, (a, b) in enumerate(zip(pe, pj, strict=True)):
            same(a.grad, b.grad, f"call {i}: grad of parameter {k}")


# -- 2. other shapes record again --------------------------------------------------------------
def test_other_batch_size_records_again_and_matches_eager():
    def make():
        return nn.Sequential(nn.Linear(3, 5, rng=0), nn.BatchNorm1d(5), nn.Tanh(),
                             nn.Linear(5, 2, rng=1))

    rng = np.random.default_rng(3)
    sizes = [4, 4, 4, 7, 4, 7, 7, 4, 7]
    batches = [(rng.standard_normal((n, 3)), rng.integers(0, 2, n)) for n in sizes]
    eager, jitted = make(), make()
    opt_e = optim.SGD(list(eager.parameters()), lr=0.1, momentum=0.9)
    opt_j = optim.SGD(list(jitted.parameters()), lr=0.1, momentum=0.9)

    def fn(X, y):
        loss = F.softmax_cross_entropy(jitted(X), y)
        loss.backward()
        return loss

    counted = Counted(fn)
    step = tgl.jit(counted)
    records, runs = [], []
    for i, (X, y) in enumerate(batches):
        opt_e.zero_grad()
        loss_e = F.softmax_cross_entropy(eager(X), y)
        loss_e.backward()
        opt_j.zero_grad()
        loss_j = step(X, y)
        same(loss_j.data, loss_e.data, f"call {i} (batch {len(y)}): loss")
        same_params(eager, jitted, f"call {i} (batch {len(y)})")
        opt_e.step()
        opt_j.step()
        records.append(len(step.records))
        runs.append(counted.n)
    assert records == [1, 1, 1, 2, 2, 2, 2, 2, 2]
    # fn runs for the first two calls of each shape only
    assert runs == [1, 2, 2, 3, 3, 4, 4, 4, 4]

    # another dtype is another record
    X = rng.standard_normal((4, 3)).astype(np.float32)
    jitted.zero_grad()
    step(X, rng.integers(0, 2, 4))
    assert len(step.records) == 3


# -- 3. limits: clear errors -------------------------------------------------------------------
def _branchy(w):
    def fn(x):
        z = x * w
        if x.sum() > 0:  # control flow on values: invisible to a replay
            h = z.tanh()
        else:
            h = z.relu()
        loss = (h * h).sum()
        loss.backward()
        return loss
    return fn


def _branchy_eager_grad(w0, x):
    z = x * w0
    if x.sum() > 0:
        return 2 * np.tanh(z) * (1 - np.tanh(z) ** 2) * x
    return 2 * np.maximum(z, 0) * (z > 0) * x


def test_control_flow_change_caught_at_second_call():
    w = Value(np.array([0.5, -1.0, 2.0]))
    step = tgl.jit(_branchy(w))
    pos, neg = np.array([1.0, 2.0, 3.0]), np.array([-1.0, -2.0, 0.5])
    step(pos)
    with pytest.raises(RuntimeError, match=r"(?i)control flow.*") as info:
        step(neg)
    msg = str(info.value).lower()
    assert "relu" in msg and "tanh" in msg, msg
    # the raising call ran eagerly: the gradient is still eager's
    np.testing.assert_array_equal(
        w.grad, _branchy_eager_grad(w.data, pos) + _branchy_eager_grad(w.data, neg))


def test_verify_catches_control_flow_change_at_a_later_call():
    w = Value(np.array([0.5, -1.0, 2.0]))
    step = tgl.jit(_branchy(w), verify=3)
    pos, neg = np.array([1.0, 2.0, 3.0]), np.array([-1.0, -2.0, 0.5])
    for _ in range(4):  # two records, two replays (replayable calls 1, 2)
        w.zero_grad()
        step(pos)
        np.testing.assert_array_equal(w.grad, _branchy_eager_grad(w.data, pos))
    w.zero_grad()
    with pytest.raises(RuntimeError, match=r"(?i)relu") as info:
        step(neg)  # replayable call 3: verified
    assert "tanh" in str(info.value).lower()
    np.testing.assert_array_equal(w.grad, _branchy_eager_grad(w.data, neg))


def test_verify_passes_when_nothing_changes_and_keeps_eager_numbers():
    def make():
        return nn.Sequential(nn.Linear(3, 4, rng=5), nn.ReLU(), nn.Linear(4, 2, rng=6))

    eager, jitted = make(), make()
    counted = Counted(lambda X, y: _loss_backward(jitted, X, y))
    step = tgl.jit(counted, verify=2)
    rng = np.random.default_rng(1)
    for i in range(8):
        X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
        eager.zero_grad()
        jitted.zero_grad()
        le = _loss_backward(eager, X, y)
        lj = step(X, y)
        same(lj.data, le.data, f"call {i}")
        same_params(eager, jitted, f"call {i}")
    assert counted.n == 2 + 3  # two records, then replayable calls 2, 4, 6 run eagerly


def _loss_backward(model, X, y):
    loss = F.softmax_cross_entropy(model(X), y)
    loss.backward()
    return loss


def test_value_requiring_grad_created_inside_fn_raises():
    def fn(X):
        w = Value(np.ones(3))  # a new leaf each call: a replay would not make it anew
        loss = (X * w).sum()
        loss.backward()
        return loss

    step = tgl.jit(fn)
    rng = np.random.default_rng(0)
    step(rng.standard_normal(3))
    with pytest.raises(RuntimeError, match="requires grad created inside fn"):
        step(rng.standard_normal(3))


def test_opt_step_inside_fn_raises():
    model = nn.Linear(3, 2, rng=0)
    opt = optim.SGD(list(model.parameters()), lr=0.1, momentum=0.9)

    def fn(X):
        loss = (model(X) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    step = tgl.jit(fn)
    with pytest.raises(RuntimeError, match=r"changed a Value's data.*opt\.step\(\) outside"):
        step(np.ones((2, 3)))


def test_zero_grad_inside_fn_raises():
    model = nn.Linear(3, 2, rng=0)
    opt = optim.SGD(list(model.parameters()), lr=0.1, momentum=0.9)

    def fn(X):
        opt.zero_grad()
        loss = (model(X) ** 2).mean()
        loss.backward()
        return loss

    step = tgl.jit(fn)
    with pytest.raises(RuntimeError, match=r"zero_grad\(\)"):
        step(np.ones((2, 3)))


@pytest.mark.parametrize("wrap", [True, False], ids=["Value(X / 2)", "X / 2"])
def test_numpy_work_on_an_input_inside_fn_raises_constant(wrap):
    model = nn.Linear(3, 2, rng=0)

    def fn(X):
        Xs = Value(X / 2.0, requires_grad=False) if wrap else X / 2.0
        loss = (model(Xs) ** 2).mean()
        loss.backward()
        return loss

    step = tgl.jit(fn)
    rng = np.random.default_rng(0)
    step(rng.standard_normal((2, 3)))
    with pytest.raises(RuntimeError, match="constant"):
        step(rng.standard_normal((2, 3)))


def test_returning_a_float_raises():
    model = nn.Linear(3, 1, rng=0)

    def fn(X):
        loss = (model(X) ** 2).mean()
        loss.backward()
        return loss.item()

    step = tgl.jit(fn)
    rng = np.random.default_rng(0)
    with pytest.raises(RuntimeError, match=r"returned a float.*loss\.item\(\)"):
        for _ in range(3):
            step(rng.standard_normal((2, 3)))


_MASKS = [np.array([1, 1, 1]), np.array([1, 1, 1]), np.array([1, 0, 1]), np.array([0, 0, 2])]


@pytest.mark.parametrize("args", [
    _MASKS,
    [m.astype(bool) for m in _MASKS],
    [np.array(s) for s in (1.0, 1.0, 2.0, 3.0)],
], ids=["int mask", "bool mask", "0-d float64"])
def test_array_arguments_are_never_frozen_into_the_record(args):
    """An argument is an input of every call, whatever its dtype: an integer or bool mask, or a
    0-d float64 scale, passed as an argument and equal in the first two calls must not be
    replayed as a constant of the record (found: it was, giving the first calls' numbers)."""
    w = Value(np.array([1.0, -2.0, 3.0]))
    x = np.array([0.5, 1.5, 2.5])

    def fn(x, m):
        loss = (x * w * m).sum()
        loss.backward()
        return loss

    step = tgl.jit(fn)
    for i, m in enumerate(args):
        w.zero_grad()
        try:
            loss = step(x, m)
        except RuntimeError as e:
            assert "jit" in str(e)  # a clear refusal is fine; a wrong number is not
            continue
        np.testing.assert_array_equal(loss.data, (x * w.data * m).sum(),
                                      err_msg=f"call {i}: loss")
        np.testing.assert_array_equal(w.grad, x * m, err_msg=f"call {i}: grad")


def test_argument_from_a_graph_outside_fn_backpropagates_or_raises_clearly():
    """A Value computed outside fn and passed in: eager backward goes on into the outside graph.
    A replay must do the same, or raise a RuntimeError (found: KeyError from the second call)."""
    w = Value(np.array([1.0, 2.0, 3.0]))
    enc = Value(np.array([2.0, -1.0, 0.5]))

    def fn(h):
        loss = (h * w).sum()
        loss.backward()
        return loss

    step = tgl.jit(fn)
    for i in range(4):
        enc.zero_grad()
        x = np.arange(3.0) + i
        h = Value(x, requires_grad=False) * enc
        try:
            step(h)
        except RuntimeError as e:
            assert "jit" in str(e)
            continue
        np.testing.assert_array_equal(enc.grad, x * w.data, err_msg=f"call {i}")


# -- 3. limits: eager fallbacks ----------------------------------------------------------------
def _mlp_bn():
    return nn.Sequential(nn.Linear(3, 6, rng=11), nn.BatchNorm1d(6), nn.ReLU(),
                         nn.Dropout(0.3, rng=np.random.default_rng(12)), nn.Linear(6, 3, rng=13))


class Pair:
    """An eager model and a jitted one, stepped together and compared."""

    def __init__(self, make=_mlp_bn):
        self.eager, self.jitted = make(), make()
        self.opt_e = optim.SGD(list(self.eager.parameters()), lr=0.1, momentum=0.9)
        self.opt_j = optim.SGD(list(self.jitted.parameters()), lr=0.1, momentum=0.9)
        self.fn = Counted(lambda X, y: _loss_backward(self.jitted, X, y))
        self.step = tgl.jit(self.fn)
        self.rng = np.random.default_rng(21)
        self.i = 0

    def go(self, n=1):
        for _ in range(n):
            X, y = self.rng.standard_normal((5, 3)), self.rng.integers(0, 3, 5)
            self.opt_e.zero_grad()
            le = _loss_backward(self.eager, X, y)
            self.opt_j.zero_grad()
            lj = self.step(X, y)
            same(lj.data, le.data, f"call {self.i}: loss")
            same_params(self.eager, self.jitted, f"call {self.i}")
            self.opt_e.step()
            self.opt_j.step()
            self.i += 1
        return lj


def test_anomaly_mode_runs_eagerly_with_eager_numbers():
    pair = Pair()
    pair.go(3)
    assert pair.fn.n == 2
    with tgl.detect_anomaly():
        pair.go(2)
    assert pair.fn.n == 4  # ran eagerly
    pair.go(2)
    assert pair.fn.n == 4  # replays again


def test_hook_registered_after_recording_is_called_and_numbers_are_eager():
    pair = Pair()
    pair.go(3)
    assert pair.fn.n == 2
    seen = {"eager": 0, "jit": 0}

    def hook(which):
        def h(g):
            seen[which] += 1
            return g * 0.5  # changes what flows on: a replay ignoring it would be wrong
        return h

    we, wj = pair.eager[0].weight, pair.jitted[0].weight
    handles = [we.register_hook(hook("eager")), wj.register_hook(hook("jit"))]
    pair.go(3)
    assert seen == {"eager": 3, "jit": 3}
    assert pair.fn.n == 5
    for handle in handles:
        handle.remove()
    pair.go(2)
    assert seen == {"eager": 3, "jit": 3}
    assert pair.fn.n == 5  # the hook is gone: replays again


def test_hook_on_an_argument_is_honoured():
    """A hook registered (outside fn) on an input Value that requires grad: a replay must call
    it, or run eagerly (found: a replay skips it, and the input's .grad misses its effect)."""
    w = Value(np.ones(3))

    def fn(x):
        loss = (x * w).sum()
        loss.backward()
        return loss

    step = tgl.jit(fn)
    for i in range(4):
        x = Value(np.arange(3.0) + i)
        calls = []
        x.register_hook(lambda g, calls=calls: (calls.append(1), g * 2)[1])
        step(x)
        assert calls == [1], f"call {i}: the hook ran {len(calls)} times"
        np.testing.assert_array_equal(x.grad, 2 * w.data, err_msg=f"call {i}")


def test_eval_after_recording_uses_running_stats_like_eager():
    pair = Pair()
    pair.go(4)
    assert pair.fn.n == 2
    pair.eager.eval()
    pair.jitted.eval()
    pair.go(4)  # batch norm on running statistics, dropout off: as eager
    assert pair.fn.n == 4  # recorded again
    # the output is eval-mode output: recompute it by hand from the running statistics
    X = pair.rng.standard_normal((5, 3))
    out = tgl.jit(lambda X: pair.jitted(X))
    bn = pair.jitted[1]
    h = X @ pair.jitted[0].weight.data + pair.jitted[0].bias.data
    h = (h - bn.running_mean) / np.sqrt(bn.running_var + bn.eps) * bn.weight.data + bn.bias.data
    want = np.maximum(h, 0) @ pair.jitted[4].weight.data + pair.jitted[4].bias.data
    with tgl.no_grad():
        ref = pair.eager(X).data
    for _ in range(3):
        with tgl.no_grad():
            got = out(X).data
        same(got, ref, "eval output")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    pair.eager.train()
    pair.jitted.train()
    pair.go(3)
    assert pair.fn.n == 6


# -- 4. results of a replay are fresh ----------------------------------------------------------
def test_replay_results_are_fresh_values_without_grad():
    def make():
        return nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))

    eager, jitted = make(), make()
    step = tgl.jit(lambda X, y: _loss_backward(jitted, X, y))
    rng = np.random.default_rng(4)
    losses, expected = [], []
    for _ in range(STEPS):
        X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
        eager.zero_grad()
        jitted.zero_grad()
        expected.append(_loss_backward(eager, X, y).item())
        losses.append(step(X, y))
    assert [loss.item() for loss in losses] == expected
    assert len(set(expected[2:])) == len(expected[2:])  # the batches give distinct losses
    assert len({id(loss) for loss in losses}) == STEPS
    assert len({id(loss.data) for loss in losses}) == STEPS
    for loss in losses[2:]:  # the replayed ones
        assert loss.requires_grad is False
        assert loss.grad is None
        assert loss.ctx is None


# -- 5. threads --------------------------------------------------------------------------------
def test_threads_sharing_a_model_accumulate_like_sequential_eager():
    def make():
        return nn.Sequential(nn.Linear(4, 8, rng=0), nn.Tanh(), nn.Linear(8, 3, rng=1))

    model, reference = make(), make()
    step = tgl.jit(lambda X, y: _loss_backward(model, X, y))
    rng = np.random.default_rng(9)
    warm = [(rng.standard_normal((6, 4)), rng.integers(0, 3, 6)) for _ in range(2)]
    for X, y in warm:  # record first, so that the threads replay
        step(X, y)
    model.zero_grad()
    n_threads, per_thread = 2, 30
    batches = [[(rng.standard_normal((6, 4)), rng.integers(0, 3, 6)) for _ in range(per_thread)]
               for _ in range(n_threads)]
    errors = []
    start = threading.Barrier(n_threads)

    def work(mine):
        try:
            start.wait()
            for X, y in mine:
                step(X, y)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: interleave the replays
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors
    for mine in batches:
        for X, y in mine:
            _loss_backward(reference, X, y)
    for (name, a), (_, b) in zip(model.named_parameters(), reference.named_parameters(),
                                 strict=True):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=0, err_msg=name)
