"""A catalogue of bad inputs: each gets an error of the type a PyTorch user expects, with a
message naming the op (or the function) and the cause. And an error leaves nothing
half-updated: optimizer steps, batch norm's running statistics and load_state_dict are all or
nothing.

Each table row: (id, callable taking a temporary folder, exception type, regex for the op,
regex for the cause). Both regexes must match the message.
"""
import pickle
import re

import numpy as np
import pytest

import tinygrad_lite.functional as F
from tinygrad_lite import Value, gradcheck, nn, optim
from tinygrad_lite.data import (
    PCA,
    NotFittedError,
    Standardize,
    UnsafePickleError,
    Whiten,
    ZeroCenter,
    load_cifar10,
    minibatches,
)
from tinygrad_lite.nn import StateDictError

V = Value


def ones(*shape):
    return Value(np.ones(shape))


def _linear_state(**changes):
    state = nn.Linear(2, 2).state_dict()
    state.update(changes)
    return {k: v for k, v in state.items() if v is not None}


CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def _cifar(tmp, corrupt=None, content=b""):
    """A CIFAR-10 folder of tiny valid batches, with ``corrupt`` replaced by ``content``."""
    rng = np.random.default_rng(0)
    for name in CIFAR_FILES:
        batch = {b"data": rng.integers(0, 256, size=(2, 3072), dtype=np.uint8),
                 b"labels": [1, 2]}
        raw = pickle.dumps(batch, protocol=2)
        (tmp / name).write_bytes(content if name == corrupt else raw)
    return tmp


def _cifar_batch(tmp, batch):
    return _cifar(tmp, "data_batch_3", pickle.dumps(batch, protocol=2))


CATALOGUE = [
    # -- non-numeric data --------------------------------------------------------------------
    ("Value(str)", lambda t: V("abc"), TypeError, r"^Value:", r"must be numeric.*<U3.*str"),
    ("Value(None)", lambda t: V(None), TypeError, r"^Value:", r"must be numeric.*NoneType"),
    ("Value(dict)", lambda t: V({"a": 1}), TypeError, r"^Value:", r"must be numeric.*dict"),
    ("Value(object)", lambda t: V(object()), TypeError, r"^Value:", r"must be numeric"),
    ("Value(ragged list)", lambda t: V([[1, 2], [3]]), TypeError, r"^Value:",
     r"must be numeric.*inhomogeneous"),
    ("Value(complex)", lambda t: V(1 + 2j), TypeError, r"^Value:", r"must be numeric.*complex"),
    ("Value(strings)", lambda t: V(np.array(["1.5"])), TypeError, r"^Value:", r"must be numeric"),
    ("array + str", lambda t: ones(2) + "a", TypeError, r"^\+:", r"operand must be numeric.*str"),
    ("str * scalar", lambda t: "a" * V(1.0), TypeError, r"^\*:", r"operand must be numeric"),
    ("array * None", lambda t: ones(2) * None, TypeError, r"^\*:",
     r"operand must be numeric.*NoneType"),
    ("tanh(str)", lambda t: F.tanh("x"), TypeError, r"^tanh:", r"operand must be numeric"),
    ("pow by str", lambda t: V(1.0) ** "a", TypeError, r"^pow:", r"exponent must be a number"),
    # -- shapes that do not broadcast --------------------------------------------------------
    ("(2,3) + (4,)", lambda t: ones(2, 3) + ones(4), ValueError, r"^\+:",
     r"could not be broadcast.*\(2, 3\), \(4,\)"),
    ("(2,3) * (3,2)", lambda t: ones(2, 3) * np.ones((3, 2)), ValueError, r"^\*:",
     r"could not be broadcast"),
    ("(2,3) / (2,)", lambda t: ones(2, 3) / ones(2), ValueError, r"^/:", r"could not be broadcast"),
    ("mse shapes", lambda t: F.mse_loss(ones(2, 3), ones(3)), ValueError, r"^mse_loss:",
     r"\(2, 3\).*\(3,\) differ"),
    # -- matmul mismatch ---------------------------------------------------------------------
    ("(3,5) @ (4,2)", lambda t: ones(3, 5) @ ones(4, 2), ValueError, r"^matmul:",
     r"\(3, 5\) and \(4, 2\) do not align \(5 != 4\)"),
    ("0-d @ (2,)", lambda t: V(1.0) @ ones(2), ValueError, r"^matmul:",
     r"at least one dimension"),
    ("batch axes", lambda t: ones(2, 3, 4) @ ones(3, 4, 5), ValueError, r"^matmul:",
     r"batch axes.*do not broadcast"),
    ("linear", lambda t: F.linear(ones(3, 5), ones(4, 2)), ValueError, r"^linear:",
     r"do not align"),
    ("Linear layer", lambda t: nn.Linear(4, 2)(ones(3, 5)), ValueError, r"linear|Linear",
     r"\(3, 5\).*(align|expected|4)"),
    # -- wrong rank for conv, pool, batch norm -----------------------------------------------
    ("conv2d 3-D", lambda t: F.conv2d(ones(3, 8, 8), ones(2, 3, 3, 3)), ValueError,
     r"^conv2d:", r"expected input of shape \(N, C, H, W\), got \(3, 8, 8\)"),
    ("conv2d channels", lambda t: F.conv2d(ones(1, 3, 8, 8), ones(2, 4, 3, 3)), ValueError,
     r"^conv2d:", r"3 channels.*expects 4"),
    ("Conv2d channels", lambda t: nn.Conv2d(3, 2, 3)(ones(1, 4, 8, 8)), ValueError,
     r"conv2d|Conv2d", r"4 channels.*expects 3"),
    ("conv2d kernel > input", lambda t: F.conv2d(ones(1, 3, 2, 2), ones(2, 3, 3, 3)),
     ValueError, r"^conv2d:", r"kernel.*larger than"),
    ("max_pool2d 2-D", lambda t: F.max_pool2d(ones(8, 8), 2), ValueError, r"^max_pool2d:",
     r"expected input of shape \(N, C, H, W\), got \(8, 8\)"),
    ("MaxPool2d 3-D", lambda t: nn.MaxPool2d(2)(ones(3, 8, 8)), ValueError,
     r"max_pool2d|MaxPool2d", r"\(N, C, H, W\), got \(3, 8, 8\)"),
    ("pool kernel > input", lambda t: F.max_pool2d(ones(1, 1, 2, 2), 3), ValueError,
     r"^max_pool2d:", r"kernel.*larger than"),
    ("batch_norm 1-D", lambda t: F.batch_norm(ones(3), ones(3), ones(3)), ValueError,
     r"^batch_norm:", r"expected input of shape \(N, C\).*got \(3,\)"),
    ("BatchNorm1d 4-D", lambda t: nn.BatchNorm1d(3)(ones(2, 3, 4, 4)), ValueError,
     r"^BatchNorm1d:", r"expected input of shape.*got \(2, 3, 4, 4\)"),
    ("BatchNorm2d 2-D", lambda t: nn.BatchNorm2d(3)(ones(2, 3)), ValueError, r"^BatchNorm2d:",
     r"expected input of shape \(N, C, H, W\), got \(2, 3\)"),
    ("BatchNorm1d features", lambda t: nn.BatchNorm1d(3)(ones(2, 4)), ValueError,
     r"^BatchNorm1d:", r"4 features.*expected 3"),
    ("batch_norm gamma", lambda t: F.batch_norm(ones(2, 3), ones(4), ones(3)), ValueError,
     r"^batch_norm:", r"gamma of shape \(4,\) does not match the 3 channels"),
    ("layer_norm gamma", lambda t: F.layer_norm(ones(2, 3), ones(4), ones(4)), ValueError,
     r"^layer_norm:", r"gamma of shape \(4,\)"),
    # -- labels out of range, negative, fractional -------------------------------------------
    ("label too big", lambda t: F.softmax_cross_entropy(ones(2, 3), np.array([0, 3])),
     ValueError, r"^softmax_cross_entropy:", r"label 3 is out of range for 3 classes"),
    ("label negative", lambda t: F.softmax_cross_entropy(ones(2, 3), np.array([0, -1])),
     ValueError, r"^softmax_cross_entropy:", r"label -1 is out of range"),
    ("label fractional", lambda t: F.softmax_cross_entropy(ones(2, 3), np.array([0, 1.5])),
     TypeError, r"^softmax_cross_entropy:", r"labels must be integers.*float64"),
    ("label fractional Value", lambda t: F.softmax_cross_entropy(ones(2, 3), V([0, 1.5])),
     TypeError, r"^softmax_cross_entropy:", r"labels must be integers"),
    ("label NaN", lambda t: F.softmax_cross_entropy(ones(2, 3), np.array([0, np.nan])),
     TypeError, r"^softmax_cross_entropy:", r"labels must be integers"),
    ("label strings", lambda t: F.softmax_cross_entropy(ones(2, 3), ["a", "b"]),
     TypeError, r"^softmax_cross_entropy:", r"labels must be integers"),
    ("label count", lambda t: F.softmax_cross_entropy(ones(2, 3), np.array([0, 1, 2])),
     ValueError, r"^softmax_cross_entropy:", r"labels of shape \(3,\) do not match.*\(2, 3\)"),
    ("svm label too big", lambda t: F.svm_loss(ones(2, 3), np.array([0, 3])), ValueError,
     r"^svm_loss:", r"label 3 is out of range"),
    ("svm label negative", lambda t: F.svm_loss(ones(2, 3), np.array([-2, 0])), ValueError,
     r"^svm_loss:", r"label -2 is out of range"),
    ("svm label fractional", lambda t: F.svm_loss(ones(2, 3), np.array([0.5, 1])), TypeError,
     r"^svm_loss:", r"labels must be integers"),
    ("scores 1-D", lambda t: F.softmax_cross_entropy(ones(3), np.array([0])), ValueError,
     r"^softmax_cross_entropy:", r"scores must have shape \(N, C\), got \(3,\)"),
    # -- an empty batch ----------------------------------------------------------------------
    ("cross-entropy empty",
     lambda t: F.softmax_cross_entropy(ones(0, 3), np.zeros(0, np.int64)), ValueError,
     r"^softmax_cross_entropy:", r"empty batch"),
    ("svm empty", lambda t: F.svm_loss(ones(0, 3), np.zeros(0, np.int64)), ValueError,
     r"^svm_loss:", r"empty batch"),
    ("mse empty", lambda t: F.mse_loss(ones(0, 3), ones(0, 3)), ValueError, r"^mse_loss:",
     r"empty input"),
    ("mean empty", lambda t: ones(0, 3).mean(), ValueError, r"^mean:", r"empty reduction"),
    ("max empty", lambda t: ones(0, 3).max(), ValueError, r"^max:", r"empty array"),
    ("batch_norm empty", lambda t: F.batch_norm(ones(0, 3), ones(3), ones(3)), ValueError,
     r"^batch_norm:", r"more than 1 value per channel.*\(0, 3\)"),
    ("BatchNorm2d empty", lambda t: nn.BatchNorm2d(3)(ones(0, 3, 2, 2)), ValueError,
     r"batch_norm|BatchNorm2d", r"more than 1 value per channel"),
    ("batch_norm one sample", lambda t: F.batch_norm(ones(1, 3), ones(3), ones(3)), ValueError,
     r"^batch_norm:", r"more than 1 value per channel"),
    ("softmax over no classes", lambda t: F.softmax(ones(2, 0)), ValueError, r"^softmax:",
     r"zero-size|empty"),
    ("fit on no rows", lambda t: Standardize().fit(np.ones((0, 3))), ValueError,
     r"^Standardize\.fit:", r"0 rows"),
    ("minibatches sizes", lambda t: list(minibatches(np.ones((3, 2)), np.ones(4), 2)),
     ValueError, r"^minibatches:", r"different numbers of samples"),
    # -- backward on a non-scalar, and other misuse of backward ------------------------------
    ("backward non-scalar", lambda t: (ones(3) * 2).backward(), ValueError, r"^backward:",
     r"one-element output.*shape \(3,\); pass grad="),
    ("backward grad shape", lambda t: (ones(3) * 2).backward(np.ones(2)), ValueError,
     r"^backward:", r"grad of shape \(2,\) does not match.*\(3,\)"),
    ("backward without grad", lambda t: V(np.ones(1), requires_grad=False).backward(),
     RuntimeError, r"^backward:", r"does not require grad"),
    ("item of many", lambda t: ones(3).item(), ValueError, r"^item:", r"one-element.*\(3,\)"),
    ("grad wrong shape", lambda t: setattr(ones(3), "grad", np.ones(2)), ValueError,
     r"grad", r"shape \(2,\).*shape \(3,\)"),
    # -- optimizers given something other than Values ----------------------------------------
    ("SGD of arrays", lambda t: optim.SGD([np.ones(3)], lr=0.1), TypeError, r"^SGD:",
     r"item 0 is a ndarray, not a Value"),
    ("SGD of a module", lambda t: optim.SGD(nn.Linear(2, 2), lr=0.1), TypeError, r"^SGD:",
     r"iterable of Values.*Linear"),
    ("SGD of one Value", lambda t: optim.SGD(ones(2), lr=0.1), TypeError, r"^SGD:",
     r"single Value; wrap it in a list"),
    ("SGD of nothing", lambda t: optim.SGD([], lr=0.1), ValueError, r"^SGD:", r"empty list"),
    ("SGD of an int", lambda t: optim.SGD(5, lr=0.1), TypeError, r"^SGD:", r"got int"),
    ("Adam of param groups", lambda t: optim.Adam([{"params": [ones(2)]}]), TypeError,
     r"^Adam:", r"item 0 is a dict, not a Value"),
    ("SGD lr negative", lambda t: optim.SGD([ones(2)], lr=-1), ValueError, r"^SGD:",
     r"lr must be >= 0"),
    ("SGD lr str", lambda t: optim.SGD([ones(2)], lr="a"), TypeError, r"^SGD:",
     r"lr must be a number"),
    ("Adam beta 1", lambda t: optim.Adam([ones(2)], betas=(1.0, 0.9)), ValueError, r"^Adam:",
     r"betas\[0\] must be"),
    # -- preprocessing before fit, or with a different feature count -------------------------
    *[(f"{cls.__name__} before fit", (lambda c: lambda t: c().transform(np.ones((2, 3))))(cls),
       NotFittedError, rf"^{cls.__name__}\.transform:", r"not fitted yet; call fit")
      for cls in (ZeroCenter, Standardize, Whiten)],
    ("PCA before fit", lambda t: PCA(2).transform(np.ones((2, 3))), NotFittedError,
     r"^PCA\.transform:", r"not fitted yet"),
    *[(f"{name} feature count",
       (lambda make: lambda t: make().fit(np.random.default_rng(0).random((6, 3)))
        .transform(np.ones((2, 4))))(mk),
       ValueError, rf"^{name}\.transform:", r"fitted on samples of shape \(3,\).*\(2, 4\)")
      for name, mk in (("ZeroCenter", ZeroCenter), ("Standardize", Standardize),
                       ("PCA", lambda: PCA(2)), ("Whiten", Whiten))],
    # -- state_dict with missing, extra or wrongly shaped entries -----------------------------
    ("state_dict missing", lambda t: nn.Linear(2, 2).load_state_dict(_linear_state(bias=None)),
     StateDictError, r"^load_state_dict into Linear:", r"missing: bias"),
    ("state_dict extra",
     lambda t: nn.Linear(2, 2).load_state_dict(_linear_state(foo=np.ones(1))),
     StateDictError, r"^load_state_dict into Linear:", r"unexpected: foo"),
    ("state_dict shape",
     lambda t: nn.Linear(2, 2).load_state_dict(_linear_state(weight=np.ones((3, 2)))),
     StateDictError, r"^load_state_dict into Linear:",
     r"weight \(expected shape \(2, 2\), got \(3, 2\)\)"),
    ("state_dict strings",
     lambda t: nn.Linear(2, 2).load_state_dict(_linear_state(bias=np.array(["a", "b"]))),
     StateDictError, r"^load_state_dict into Linear:", r"bias \(expected numbers"),
    ("state_dict not a mapping", lambda t: nn.Linear(2, 2).load_state_dict([1, 2]), TypeError,
     r"^load_state_dict:", r"expected a mapping"),
    # -- a CIFAR folder that is missing or corrupt --------------------------------------------
    ("CIFAR no folder", lambda t: load_cifar10(t / "nope"), FileNotFoundError,
     r"^load_cifar10:", r"does not exist"),
    ("CIFAR a file", lambda t: load_cifar10(_cifar(t) / "test_batch"), NotADirectoryError,
     r"^load_cifar10:", r"is not a folder"),
    ("CIFAR empty folder", lambda t: load_cifar10(t), FileNotFoundError, r"^load_cifar10:",
     r"missing data_batch_1.*test_batch"),
    ("CIFAR garbage", lambda t: load_cifar10(_cifar(t, "test_batch", b"\x00garbage")),
     ValueError, r"^load_cifar10:", r"test_batch is corrupt or truncated"),
    ("CIFAR truncated",
     lambda t: load_cifar10(_cifar(t, "data_batch_2", pickle.dumps({b"data": 1})[:-3])),
     ValueError, r"^load_cifar10:", r"data_batch_2 is corrupt or truncated"),
    ("CIFAR wrong keys", lambda t: load_cifar10(_cifar_batch(t, {b"images": 1})), ValueError,
     r"^load_cifar10:", r"lacks the key.*b'data'"),
    ("CIFAR wrong shape",
     lambda t: load_cifar10(_cifar_batch(t, {b"data": np.zeros((2, 10), np.uint8),
                                             b"labels": [0, 1]})),
     ValueError, r"^load_cifar10:", r"b'data' of shape \(2, 10\)"),
    ("CIFAR labels out of range",
     lambda t: load_cifar10(_cifar_batch(t, {b"data": np.zeros((2, 3072), np.uint8),
                                             b"labels": [0, 10]})),
     ValueError, r"^load_cifar10:", r"label 10 that is not an int in 0\.\.9"),
    ("CIFAR not a dict", lambda t: load_cifar10(_cifar_batch(t, [1, 2])), ValueError,
     r"^load_cifar10:", r"holds a list, expected a dict"),
    ("CIFAR code in pickle",
     lambda t: load_cifar10(_cifar(t, "data_batch_1", pickle.dumps(print, protocol=2))),
     UnsafePickleError, r"^load_cifar10:", r"(__builtin__|builtins)\.print, which is not allowed"),
    # -- other ops ---------------------------------------------------------------------------
    ("reshape", lambda t: ones(6).reshape(4, 2), ValueError, r"^reshape:",
     r"cannot reshape shape \(6,\).*into \(4, 2\)"),
    ("index out of range", lambda t: ones(3)[5], IndexError, r"^getitem:",
     r"index 5 is out of bounds"),
    ("transpose axes", lambda t: ones(2, 3).transpose(0, 0), ValueError, r"^transpose:",
     r"not a permutation"),
    ("sum axis", lambda t: ones(2, 3).sum(axis=2), ValueError, r"^sum:", r"axis 2 is out of range"),
    ("sqrt-like pow", lambda t: V(np.array([-1.0])) ** 0.5, ValueError, r"^pow:",
     r"fractional power 0\.5 of a negative base"),
    ("clip bounds", lambda t: ones(2).clip(2, 1), ValueError, r"^clip:", r"lo=2 is greater"),
    ("maxout pieces", lambda t: F.maxout(ones(2, 5), 2), ValueError, r"^maxout:",
     r"\(2, 5\).*pieces of k=2"),
    ("prelu alpha", lambda t: F.prelu(ones(2, 3), ones(4)), ValueError, r"^prelu:",
     r"alpha of shape \(4,\) does not fit"),
    ("dropout p", lambda t: F.dropout(ones(3), 1.5), ValueError, r"^dropout:",
     r"must be in \[0, 1\], got 1\.5"),
    ("Linear init name", lambda t: nn.Linear(2, 3, init="bogus"), ValueError, r"init",
     r"unknown initiali[sz]ation 'bogus'"),
    ("Sequential item", lambda t: nn.Sequential(nn.Linear(2, 2), "relu"), TypeError,
     r"^Sequential:", r"item 1 is a str, not a Module"),
    ("gradcheck fn", lambda t: gradcheck(lambda x: 1.0, np.ones(2)), TypeError, r"^gradcheck:",
     r"must return a Value, got float"),
]


@pytest.mark.parametrize("make, exc, op, cause", [c[1:] for c in CATALOGUE],
                         ids=[c[0] for c in CATALOGUE])
def test_bad_input(make, exc, op, cause, tmp_path):
    with pytest.raises(exc) as info:
        make(tmp_path)
    msg = str(info.value)
    assert re.search(op, msg), f"the message does not name the op ({op!r}): {msg}"
    assert re.search(cause, msg, re.S), f"the message does not name the cause ({cause!r}): {msg}"


def test_catalogue_ids_are_unique():
    ids = [c[0] for c in CATALOGUE]
    assert len(ids) == len(set(ids))


# -- all or nothing ------------------------------------------------------------------------------
def _two_params(dtype=np.float64):
    a = Value(np.arange(3, dtype=dtype), label="a")
    b = Value(np.ones(2, dtype), label="b")
    return a, b


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: optim.Adam(ps, lr=0.1)], ids=["SGD", "Adam"])
def test_failed_step_after_a_parameter_changed_shape_updates_nothing(make):
    a, b = _two_params()
    opt = make([a, b])
    a.grad, b.grad = np.ones(3), np.ones(2)
    opt.step()
    b.data = np.ones(4)  # surgery on a layer: its optimizer state no longer fits
    a.grad, b.grad = np.ones(3), np.ones(4)
    a_before = a.data.copy()
    state_before = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                    for k, v in opt.state[a].items()}
    with pytest.raises(ValueError, match=r"step: parameter 1 \('b'\) of shape \(4,\) has "
                                         r"optimizer state .* of shape \(2,\).*no parameter"):
        opt.step()
    np.testing.assert_array_equal(a.data, a_before)
    for k, v in opt.state[a].items():
        np.testing.assert_array_equal(v, state_before[k])


def test_failed_update_of_a_later_parameter_leaves_earlier_ones_unchanged():
    class Fragile(optim.SGD):
        """Raises while computing the update of the second parameter."""

        def _update(self, p, w, g):
            if p.label == "b":
                raise FloatingPointError("Fragile: cannot update b")
            return super()._update(p, w, g)

    a, b = _two_params()
    s = Value(2.0, label="s")  # a scalar too: it takes another path
    opt = Fragile([s, a, b], lr=0.1)
    for p in (s, a, b):
        p.grad = np.ones(p.shape)
    with pytest.raises(FloatingPointError, match="cannot update b"):
        opt.step()
    np.testing.assert_array_equal(a.data, np.arange(3.0))
    assert s.item() == 2.0


def test_failed_step_with_a_bad_lr_updates_nothing():
    a, b = _two_params()
    opt = optim.SGD([a, b], lr=0.1)
    a.grad, b.grad = np.ones(3), np.ones(2)
    opt.lr = -0.5
    with pytest.raises(ValueError, match=r"^SGD: lr must be >= 0"):
        opt.step()
    np.testing.assert_array_equal(a.data, np.arange(3.0))
    np.testing.assert_array_equal(b.data, np.ones(2))


@pytest.mark.parametrize("bad", [
    dict(eps="a"),  # fails after the batch statistics are computed
    dict(momentum=1.5),
    dict(gamma=np.ones(4)),
    dict(x=np.ones((5, 4))),
], ids=["eps", "momentum", "gamma", "features"])
def test_failed_batch_norm_forward_leaves_running_stats_untouched(bad):
    rng = np.random.default_rng(0)
    args = dict(x=rng.standard_normal((5, 3)), gamma=np.ones(3), eps=1e-5, momentum=0.1)
    args.update(bad)
    rm, rv = np.full(3, 0.5), np.full(3, 2.0)
    with pytest.raises((ValueError, TypeError), match=r"^batch_norm:"):
        F.batch_norm(Value(args["x"]), Value(args["gamma"]), Value(np.zeros(3)), rm, rv,
                     training=True, momentum=args["momentum"], eps=args["eps"])
    np.testing.assert_array_equal(rm, np.full(3, 0.5))
    np.testing.assert_array_equal(rv, np.full(3, 2.0))


def test_failed_batch_norm_layer_forward_leaves_buffers_untouched():
    bn = nn.BatchNorm1d(3)
    bn(Value(np.random.default_rng(0).standard_normal((4, 3))))  # one good step
    before = {k: v.copy() for k, v in bn.state_dict().items()}
    for bad in (np.ones((4, 5)), np.ones((1, 3)), np.ones((4, 3, 2, 2))):
        with pytest.raises(ValueError):
            bn(Value(bad))
    after = bn.state_dict()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k])


def test_failed_load_state_dict_changes_nothing():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    good = {k: v + 1.0 for k, v in before.items()}
    good["2.weight"] = np.ones((4, 1))  # one bad entry among good ones
    with pytest.raises(StateDictError, match=r"2\.weight \(expected shape \(3, 1\)"):
        model.load_state_dict(good)
    after = model.state_dict()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k])
    assert isinstance(StateDictError("x"), KeyError) and isinstance(StateDictError("x"), ValueError)
