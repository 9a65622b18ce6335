"""Workload (a): micrograd's own demo, one full-batch training step.

make_moons(n_samples=100, noise=0.1); MLP 2-16-16-1 with ReLU; hinge loss
mean(relu(1 - y * score)) + 1e-4 * sum(p**2); forward, backward, SGD (lr 1.0), as in
micrograd's demo notebook.

* scalar mode: one Value per number, the graph micrograd builds (about 60k nodes), for
  micrograd and for tinygrad_lite with the same weights; the baseline is micrograd.
* tensor mode: the same step on arrays, for tinygrad_lite, PyTorch (CPU) and numpy by hand;
  the baseline is PyTorch.
* jit: tinygrad_lite's step with forward, loss and backward in a ``tinygrad_lite.jit``
  function (recorded on its first two calls, then replayed); zero_grad() and the SGD update
  ``p.data -= LR * p.grad`` outside it, as the jit requires. In scalar mode the input Values
  are made once, outside, as constants (requires_grad=False). Before timing, the jit's losses
  over several steps must equal the eager engine's exactly.

Run: python benchmarks/bench_moons.py [--threads 1] [--rounds N] [--quick] [--json out.json]
"""
import _harness as H  # first: pins the thread count before numpy is imported

# isort: split

import random  # noqa: E402

import numpy as np  # noqa: E402

from tinygrad_lite import Value, jit  # noqa: E402

ALPHA = 1e-4
LR = 1.0
SIZES = (2, 16, 16, 1)


def make_moons(n_samples=100, noise=0.1, seed=0):
    """scikit-learn's make_moons when installed, else the same two half circles by hand."""
    try:
        from sklearn.datasets import make_moons as sk_moons

        return sk_moons(n_samples=n_samples, noise=noise, random_state=seed)
    except ImportError:
        rng = np.random.default_rng(seed)
        n_out = n_samples // 2
        n_in = n_samples - n_out
        t_out = np.linspace(0, np.pi, n_out)
        t_in = np.linspace(0, np.pi, n_in)
        X = np.vstack([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                       np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)])
        y = np.hstack([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
        return X + rng.normal(scale=noise, size=X.shape), y


def initial_weights(seed=1337):
    """micrograd's initialisation: uniform(-1, 1) weights, zero biases, one list per neuron."""
    random.seed(seed)
    layers = []
    for nin, nout in zip(SIZES[:-1], SIZES[1:], strict=True):
        layers.append([([random.uniform(-1, 1) for _ in range(nin)], 0.0) for _ in range(nout)])
    return layers


def as_matrices(layers):
    """The same weights as (W of shape (in, out), b of shape (out,)) per layer."""
    out = []
    for neurons in layers:
        W = np.array([w for w, _ in neurons]).T.copy()
        b = np.array([b for _, b in neurons])
        out.append((W, b))
    return out


# -- scalar mode --------------------------------------------------------------------------
class ScalarMLP:
    """micrograd's MLP, written for any scalar Value class with + * and relu()."""

    def __init__(self, value_cls, layers):
        self.layers = [[([value_cls(w) for w in ws], value_cls(b)) for ws, b in neurons]
                       for neurons in layers]

    def __call__(self, x):
        last = len(self.layers) - 1
        for i, neurons in enumerate(self.layers):
            out = []
            for ws, b in neurons:
                act = sum((wi * xi for wi, xi in zip(ws, x, strict=True)), b)
                out.append(act.relu() if i != last else act)
            x = out
        return x[0]

    def parameters(self):
        return [p for neurons in self.layers for ws, b in neurons for p in (*ws, b)]


def scalar_step(model, params, value_cls, X, y, zero_grad):
    """One step of micrograd's demo loop; returns the loss as a float."""
    inputs = [list(map(value_cls, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in params)
    total_loss = data_loss + reg_loss
    zero_grad()
    total_loss.backward()
    for p in params:
        p.data -= LR * p.grad
    return float(total_loss.data)


def micrograd_case(mg, layers, X, y):
    engine, nn = mg
    model = nn.MLP(2, [16, 16, 1])  # micrograd's own classes; weights then set to ours
    for layer, neurons in zip(model.layers, layers, strict=True):
        for neuron, (ws, b) in zip(layer.neurons, neurons, strict=True):
            for p, w in zip(neuron.w, ws, strict=True):
                p.data = w
            neuron.b.data = b
    params = model.parameters()
    return lambda: scalar_step(model, params, engine.Value, X, y, model.zero_grad)


def ours_scalar_case(layers, X, y):
    model = ScalarMLP(Value, layers)
    params = model.parameters()

    def zero_grad():
        for p in params:
            p.zero_grad()

    return lambda: scalar_step(model, params, Value, X, y, zero_grad)


def ours_scalar_jit_case(layers, X, y):
    """The same step, forward + loss + backward jitted; the inputs are constants made once."""
    model = ScalarMLP(Value, layers)
    params = model.parameters()
    inputs = [[Value(xi, requires_grad=False) for xi in xrow] for xrow in X]

    @jit
    def forward_backward():
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in params)
        total_loss = data_loss + reg_loss
        total_loss.backward()
        return total_loss

    def step():
        for p in params:
            p.zero_grad()
        total_loss = forward_backward()
        for p in params:
            p.data -= LR * p.grad
        return float(total_loss.data)

    return step


# -- tensor mode --------------------------------------------------------------------------
def ours_tensor_case(mats, X, y, use_jit=False):
    import tinygrad_lite.functional as F

    params = []
    for W, b in mats:
        params += [Value(W), Value(b)]
    Xv = Value(X, requires_grad=False)
    yf = y.astype(np.float64)

    def forward_backward():
        W1, b1, W2, b2, W3, b3 = params
        h1 = F.relu(F.linear(Xv, W1, b1))  # (N, 16)
        h2 = F.relu(F.linear(h1, W2, b2))  # (N, 16)
        scores = F.linear(h2, W3, b3).reshape(-1)  # (N,)
        data_loss = F.relu(1.0 - yf * scores).mean()
        reg_loss = ALPHA * sum((p * p).sum() for p in params)
        total_loss = data_loss + reg_loss
        total_loss.backward()
        return total_loss

    if use_jit:
        forward_backward = jit(forward_backward)

    def step():
        for p in params:
            p.zero_grad()
        total_loss = forward_backward()
        for p in params:
            p.data -= LR * p.grad
        return total_loss.item()

    return step


def torch_tensor_case(torch, mats, X, y):
    params = []
    for W, b in mats:
        params += [torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)]
    Xt = torch.tensor(X)
    yt = torch.tensor(y, dtype=torch.float64)

    def step():
        W1, b1, W2, b2, W3, b3 = params
        h1 = torch.relu(Xt @ W1 + b1)
        h2 = torch.relu(h1 @ W2 + b2)
        scores = (h2 @ W3 + b3).reshape(-1)
        data_loss = torch.relu(1.0 - yt * scores).mean()
        reg_loss = ALPHA * sum((p * p).sum() for p in params)
        total_loss = data_loss + reg_loss
        for p in params:
            p.grad = None
        total_loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        return total_loss.item()

    return step


def numpy_tensor_case(mats, X, y):
    """Forward and backward written by hand, in the plain style of CS231n's layers."""
    params = [a.copy() for W, b in mats for a in (W, b)]
    yf = y.astype(np.float64)

    def step():
        W1, b1, W2, b2, W3, b3 = params
        N = X.shape[0]
        # forward
        z1 = X.dot(W1) + b1
        h1 = np.maximum(0, z1)
        z2 = h1.dot(W2) + b2
        h2 = np.maximum(0, z2)
        scores = (h2.dot(W3) + b3).reshape(-1)
        margins = 1.0 - yf * scores
        data_loss = np.maximum(0, margins).mean()
        reg_loss = ALPHA * sum(np.sum(p * p) for p in params)
        loss = data_loss + reg_loss
        # backward
        dscores = np.where(margins > 0, -yf, 0.0) / N
        dz3 = dscores.reshape(-1, 1)
        dW3 = h2.T.dot(dz3) + 2 * ALPHA * W3
        db3 = dz3.sum(axis=0) + 2 * ALPHA * b3
        dh2 = dz3.dot(W3.T)
        dz2 = dh2 * (z2 > 0)
        dW2 = h1.T.dot(dz2) + 2 * ALPHA * W2
        db2 = dz2.sum(axis=0) + 2 * ALPHA * b2
        dh1 = dz2.dot(W2.T)
        dz1 = dh1 * (z1 > 0)
        dW1 = X.T.dot(dz1) + 2 * ALPHA * W1
        db1 = dz1.sum(axis=0) + 2 * ALPHA * b1
        for p, g in zip(params, (dW1, db1, dW2, db2, dW3, db3), strict=True):
            p -= LR * g
        return float(loss)

    return step


def main(argv=None):
    args = H.parser(__doc__.splitlines()[0]).parse_args(argv)
    X, y01 = make_moons(n_samples=100, noise=0.1)
    y = y01 * 2 - 1  # labels -1, +1, as in the demo
    layers = initial_weights()
    mats = as_matrices(layers)
    mg = H.import_micrograd()
    torch = H.import_torch()

    # the same first losses from every system (fresh models; the timed ones below step on)
    first = {"tinygrad_lite scalar": ours_scalar_case(layers, X, y)(),
             "tinygrad_lite tensor": ours_tensor_case(mats, X, y)(),
             "numpy by hand": numpy_tensor_case(mats, X, y)()}
    if mg:
        first["micrograd"] = micrograd_case(mg, layers, X, y)()
    if torch:
        first["PyTorch"] = torch_tensor_case(torch, mats, X, y)()
    ref = first["numpy by hand"]
    for name, loss in first.items():
        if not np.isclose(loss, ref, rtol=1e-9, atol=1e-12):
            raise AssertionError(f"moons: {name} computes loss {loss!r}, numpy by hand {ref!r}")

    H.check_jit("moons scalar", ours_scalar_case(layers, X, y), ours_scalar_jit_case(layers, X, y))
    H.check_jit("moons tensor", ours_tensor_case(mats, X, y), ours_tensor_case(mats, X, y, True))

    rows = []
    scalar = {"tinygrad_lite scalar": ours_scalar_case(layers, X, y),
              "tinygrad_lite scalar jit": ours_scalar_jit_case(layers, X, y)}
    if mg:
        scalar = {"micrograd": micrograd_case(mg, layers, X, y), **scalar}
    rounds = args.rounds or (3 if args.quick else 7)
    rows += H.compare("(a) moons scalar", scalar, baseline="micrograd" if mg else None,
                      rounds=rounds, min_time=0.0, gc_share=True)

    tensor = {"tinygrad_lite tensor": ours_tensor_case(mats, X, y),
              "tinygrad_lite tensor jit": ours_tensor_case(mats, X, y, use_jit=True),
              "numpy by hand": numpy_tensor_case(mats, X, y)}
    if torch:
        tensor = {"PyTorch": torch_tensor_case(torch, mats, X, y), **tensor}
    rows += H.compare("(a) moons tensor", tensor, baseline="PyTorch" if torch else "numpy by hand",
                      rounds=args.rounds or (5 if args.quick else 15),
                      min_time=0.05 if args.quick else 0.2)

    sc, sj = H.find(rows, "tinygrad_lite scalar"), H.find(rows, "tinygrad_lite scalar jit")
    tc, tj = H.find(rows, "tinygrad_lite tensor"), H.find(rows, "tinygrad_lite tensor jit")
    targets = []
    if mg:
        targets.append(H.target("(a)", "scalar moons step / micrograd's", sc.ratio, 0.5,
                                f"share of time in the cyclic GC: eager "
                                f"{sc.extra['gc_share']:.0%}, jit {sj.extra['gc_share']:.0%}",
                                sc.ratio_gc,
                                sj.ratio, 0.05, sj.ratio_gc))
    else:
        targets.append(H.target("(a)", "scalar moons step / micrograd's", None, 0.5,
                                "micrograd not installed (pip install .[bench])", jit_limit=0.05))
    if torch:
        hand = H.find(rows, "numpy by hand", "(a) moons tensor")
        targets.append(H.target("(a)", "tensor moons step / PyTorch's (reported, no limit)",
                                tc.ratio, None, f"numpy by hand: {hand.ratio:.3g}x", tc.ratio_gc,
                                tj.ratio, None, tj.ratio_gc))
    else:
        targets.append(H.target("(a)", "tensor moons step / PyTorch's", None, None,
                                "torch not installed (pip install .[bench])"))
    return H.finish(args, "(a) micrograd's moons demo: one full-batch SGD step", rows, targets,
                    notes=["Scalar mode builds one Value per number (the graph micrograd builds); "
                           "the garbage collector stays on, as in the demo."])


if __name__ == "__main__":
    main()
