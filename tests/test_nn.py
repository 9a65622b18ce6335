"""nn modules: parameter discovery and names, train/eval, buffers, hooks, repr, state_dict."""
import numpy as np
import pytest

import tinygrad_lite.functional as F
from tinygrad_lite import Value, nn


def mlp(rng=0):
    return nn.Sequential(nn.Linear(2, 8, init="he", rng=rng), nn.BatchNorm1d(8), nn.ReLU(),
                         nn.Dropout(0.5, rng=rng), nn.Linear(8, 3, rng=rng))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = Value(2.0, label="scale")
        self.layers = [nn.Linear(4, 5, rng=0), nn.Linear(5, 6, rng=1)]
        self.head = nn.Sequential(nn.BatchNorm1d(6), nn.Linear(6, 2, bias=False, rng=2))
        self.cache = None

    def forward(self, x):
        for layer in self.layers:
            x = F.relu(layer(x))
        self.cache = x  # a Value made by ops: not a parameter
        return self.head(x) * self.scale


# ---------------------------------------------------------------- discovery and names

def test_named_parameters_are_dotted_in_assignment_order():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "layers.0.weight", "layers.0.bias", "layers.1.weight",
                     "layers.1.bias", "head.0.weight", "head.0.bias", "head.1.weight"]
    shapes = {n: p.shape for n, p in net.named_parameters()}
    assert shapes["layers.1.weight"] == (5, 6) and shapes["head.1.weight"] == (6, 2)
    assert net.num_parameters() == 1 + 4 * 5 + 5 + 5 * 6 + 6 + 6 + 6 + 12
    net(np.ones((3, 4)))
    assert len(list(net.parameters())) == 8  # the cached activation was not picked up
    # labels are the short names, for drawings; the dotted path comes from named_parameters
    assert net.layers[0].weight.label == "weight"


def test_named_modules_and_buffers():
    net = Net()
    assert [n for n, _ in net.named_modules()] == ["", "layers.0", "layers.1", "head", "head.0",
                                                   "head.1"]
    assert [n for n, _ in net.named_buffers()] == ["head.0.running_mean", "head.0.running_var"]
    assert all(not isinstance(p, np.ndarray) for p in net.parameters())


def test_shared_parameter_is_listed_once():
    lin = nn.Linear(3, 3, rng=0)
    model = nn.Sequential(lin, nn.ReLU(), lin)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]


def test_subclass_without_super_init_still_works():
    class Bare(nn.Module):
        def __init__(self):  # forgot super().__init__()
            self.w = Value(np.ones(3))
            self.bn = nn.BatchNorm1d(3)

        def forward(self, x):
            return self.bn(x * self.w)

    m = Bare()
    assert [n for n, _ in m.named_parameters()] == ["w", "bn.weight", "bn.bias"]
    m.eval()
    assert m.training is False and m.bn.training is False


# ---------------------------------------------------------------- modes

def test_train_eval_reach_every_child_and_change_behaviour():
    model = mlp()
    x = np.random.default_rng(0).standard_normal((16, 2))
    bn = model[1]
    model(x)
    assert not np.allclose(bn.running_mean, 0.0)  # training updated the running statistics
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    before = bn.running_mean.copy()
    y1, y2 = model(x).data, model(x).data
    np.testing.assert_array_equal(y1, y2)  # eval: no dropout, running statistics
    np.testing.assert_array_equal(bn.running_mean, before)
    model.train()
    assert all(m.training for m in model.modules())
    assert not np.array_equal(model(x).data, model(x).data)  # dropout draws new masks


def test_zero_grad_and_backward_reach_parameters():
    model = mlp()
    loss = F.cross_entropy(model(np.ones((4, 2)) + np.eye(4, 2)), np.array([0, 1, 2, 0]))
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ---------------------------------------------------------------- layers

def test_linear_init_options():
    a = nn.Linear(300, 200, init="he", rng=1)
    b = nn.Linear(300, 200, init="he", rng=1)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)  # seeded
    assert a.weight.shape == (300, 200) and a.bias.shape == (200,)
    assert abs(a.weight.data.std() / np.sqrt(2 / 300) - 1) < 0.03
    assert abs(nn.Linear(300, 200, rng=1).weight.data.std() * np.sqrt(300) - 1) < 0.03  # xavier
    np.testing.assert_array_equal(nn.Linear(3, 4, bias_init=0.01).bias.data, 0.01)
    calls = []

    def my_init(shape, rng=None):
        calls.append(shape)
        return np.full(shape, 0.5)

    np.testing.assert_array_equal(nn.Linear(3, 4, init=my_init).weight.data, 0.5)
    assert calls == [(3, 4)]
    assert nn.Linear(3, 4, bias=False).bias is None
    with pytest.raises(ValueError, match="unknown initialisation 'bogus'"):
        nn.Linear(3, 4, init="bogus")


def test_linear_forward():
    lin = nn.Linear(3, 2, rng=0)
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(lin(x).data, x @ lin.weight.data + lin.bias.data)


def test_conv2d_module_shapes_and_fan_in():
    conv = nn.Conv2d(8, 64, 3, padding=1, init="he", rng=0)
    assert conv.weight.shape == (64, 8, 3, 3) and conv.bias.shape == (64,)
    assert abs(conv.weight.data.std() / np.sqrt(2 / (8 * 9)) - 1) < 0.05  # fan_in = C*kh*kw
    y = conv(np.zeros((2, 8, 5, 5)))
    assert y.shape == (2, 64, 5, 5)
    assert nn.Conv2d(3, 4, (3, 1), stride=2).kernel_size == (3, 1)


def test_batchnorm_modules():
    bn = nn.BatchNorm2d(3)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert bn.gamma is bn.weight and bn.beta is bn.bias
    np.testing.assert_array_equal(bn.weight.data, 1.0)
    np.testing.assert_array_equal(bn.bias.data, 0.0)
    x = np.random.default_rng(1).standard_normal((4, 3, 2, 2)) + 5
    bn(x)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=(0, 2, 3)))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input of shape \(N, C, H, W\)"):
        bn(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"BatchNorm1d: input of shape \(4, 5\) has 5"):
        nn.BatchNorm1d(3)(np.ones((4, 5)))


def test_activation_and_shape_modules():
    x = np.array([[-2.0, 0.5], [1.0, -0.1]])
    np.testing.assert_allclose(nn.ReLU()(x).data, np.maximum(x, 0))
    np.testing.assert_allclose(nn.Tanh()(x).data, np.tanh(x))
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).data, np.where(x > 0, x, 0.1 * x))
    np.testing.assert_allclose(nn.ELU(2.0)(x).data, np.where(x > 0, x, 2 * np.expm1(x)))
    assert nn.Flatten()(np.zeros((5, 2, 3, 4))).shape == (5, 24)
    assert nn.MaxPool2d(2)(np.zeros((1, 2, 6, 6))).shape == (1, 2, 3, 3)
    assert nn.LayerNorm(2)(x).shape == (2, 2)


def test_prelu_learns_one_or_per_channel_slopes():
    one = nn.PReLU()
    assert one.weight.shape == () and float(one.weight.data) == 0.25
    x = Value(np.array([[-2.0, 3.0], [-1.0, -4.0]]), requires_grad=False)
    y = one(x)
    np.testing.assert_allclose(y.data, [[-0.5, 3.0], [-0.25, -1.0]])
    y.sum().backward()
    assert float(one.weight.grad) == pytest.approx(-7.0)  # sum of the negative inputs
    per = nn.PReLU(3, init=0.1)
    img = np.full((2, 3, 2, 2), -1.0)
    per(img).sum().backward()
    np.testing.assert_allclose(per.weight.grad, [-8.0, -8.0, -8.0])


def test_prelu_num_parameters_is_modules_method_not_the_slope_count():
    """Regression: PReLU stored its slope count as ``num_parameters``, hiding the method, so
    ``nn.PReLU(3).num_parameters()`` raised TypeError ('int' object is not callable)."""
    per = nn.PReLU(num_parameters=3)  # the constructor keeps PyTorch's argument name
    assert per.num_parameters() == 3 and per.num_slopes == 3
    assert nn.PReLU().num_parameters() == 1
    assert "num_parameters=3" in repr(per)
    net = nn.Sequential(nn.Linear(2, 3), nn.PReLU(3))
    assert net.num_parameters() == 2 * 3 + 3 + 3
    with pytest.raises(ValueError, match="PReLU: num_parameters must be >= 1"):
        nn.PReLU(0)


def test_maxout_is_the_max_of_k_linear_pieces():
    m = nn.Maxout(4, 3, k=2, rng=0)
    assert m.weight.shape == (4, 6) and m.bias.shape == (6,)
    x = np.random.default_rng(2).standard_normal((5, 4))
    z = x @ m.weight.data + m.bias.data
    np.testing.assert_allclose(m(x).data, z.reshape(5, 3, 2).max(axis=-1))


def test_dropout_module_seeded_and_eval_identity():
    x = Value(np.ones((4, 50)))
    a = nn.Dropout(0.5, rng=3)(x).data
    b = nn.Dropout(0.5, rng=3)(x).data
    np.testing.assert_array_equal(a, b)
    d = nn.Dropout(0.5).eval()
    assert d(x) is x
    with pytest.raises(ValueError, match=r"Dropout: p is the probability"):
        nn.Dropout(-0.1)


# ---------------------------------------------------------------- repr and hooks

def test_repr_is_nested_like_pytorch():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.BatchNorm1d(3))))
    assert text == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  )\n"
        ")")


def test_forward_hooks_see_module_inputs_output_and_can_be_removed():
    model = mlp()
    seen = []
    names = {m: n for n, m in model.named_modules()}
    handles = [m.register_forward_hook(lambda mod, inp, out: seen.append((names[mod], out.shape)))
               for m in model.modules()]
    model(np.ones((4, 2)) + np.eye(4, 2))
    assert seen == [("0", (4, 8)), ("1", (4, 8)), ("2", (4, 8)), ("3", (4, 8)), ("4", (4, 3)),
                    ("", (4, 3))]
    for h in handles:
        h.remove()
    seen.clear()
    model(np.ones((4, 2)) + np.eye(4, 2))
    assert seen == []
    relu = nn.ReLU()
    relu.register_forward_hook(lambda mod, inp, out: out * 0.0)  # a result replaces the output
    np.testing.assert_array_equal(relu(np.ones(3)).data, 0.0)
    ident = nn.Identity()
    handle = ident.register_forward_pre_hook(lambda mod, inp: (inp[0] + 1,))
    np.testing.assert_array_equal(ident(Value(np.ones(3))).data, 2.0)
    handle.remove()
    np.testing.assert_array_equal(ident(Value(np.ones(3))).data, 1.0)


# ---------------------------------------------------------------- state_dict

def test_state_dict_holds_parameters_and_buffers_as_copies():
    model = mlp()
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                           "1.running_var", "4.weight", "4.bias"]
    state["0.weight"][:] = 123.0
    assert not np.any(model[0].weight.data == 123.0)


def test_state_dict_round_trip_in_memory_and_through_npz(tmp_path):
    src = mlp(rng=0)
    src(np.random.default_rng(0).standard_normal((8, 2)))  # move the running statistics
    dst = mlp(rng=99)
    dst.load_state_dict(src.state_dict())
    for (n1, a), (n2, b) in zip(src.state_dict().items(), dst.state_dict().items(), strict=True):
        assert n1 == n2
        np.testing.assert_array_equal(a, b)
    path = tmp_path / "model.npz"
    src.save(path)
    fresh = mlp(rng=7)
    fresh.load(path)
    x = np.random.default_rng(1).standard_normal((5, 2))
    np.testing.assert_allclose(fresh.eval()(x).data, src.eval()(x).data)


def test_scalar_parameters_round_trip(tmp_path):
    a, b = nn.PReLU(init=0.3), nn.PReLU(init=0.9)
    a.save(tmp_path / "p")  # numpy adds .npz
    b.load(tmp_path / "p.npz")
    assert float(b.weight.data) == pytest.approx(0.3)


def test_load_state_dict_reports_every_problem_and_changes_nothing():
    model = mlp()
    before = model.state_dict()
    bad = model.state_dict()
    del bad["0.bias"]
    bad["extra.weight"] = np.zeros(3)
    bad["4.weight"] = np.zeros((3, 8))
    bad["0.weight"] = bad["0.weight"] + 1.0  # a good entry that must not be applied either
    with pytest.raises(KeyError) as info:
        model.load_state_dict(bad)
    msg = str(info.value)
    assert "missing: 0.bias" in msg and "unexpected: extra.weight" in msg
    assert "4.weight (expected shape (8, 3), got (3, 8))" in msg
    assert isinstance(info.value, ValueError)
    for name, arr in model.state_dict().items():
        np.testing.assert_array_equal(arr, before[name])
    with pytest.raises(ValueError, match=r"1.running_var \(expected shape \(8,\), got \(2,\)\)"):
        model.load_state_dict({**before, "1.running_var": np.ones(2)})


def test_load_state_dict_non_strict_returns_missing_and_unexpected():
    model = mlp()
    state = {"0.weight": np.zeros((2, 8)), "other": np.ones(1)}
    res = model.load_state_dict(state, strict=False)
    assert "0.bias" in res.missing_keys and res.unexpected_keys == ["other"]
    np.testing.assert_array_equal(model[0].weight.data, 0.0)


def test_load_refuses_pickled_arrays(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"0.weight": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match=r"evil\.npz .*dtype object: pickled objects"):
        mlp().load(path)


def test_to_float32_casts_parameters_and_buffers():
    model = mlp().float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert all(b.dtype == np.float32 for b in model.buffers())
    y = model(np.ones((4, 2), np.float32) + np.eye(4, 2, dtype=np.float32))
    assert y.dtype == np.float32
