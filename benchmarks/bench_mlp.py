"""Workload (c): one SGD step of an MLP 3072-512-512-10 with ReLU and softmax cross-entropy.

Batch 256 (a CIFAR-10 sized input), float32 and float64. Three systems run the same step from
the same weights (their first losses are checked equal): numpy by hand (the baseline: the
layers written out in the plain style of CS231n's assignments, with the same BLAS, so the
floor a numpy engine can reach), tinygrad_lite (nn.Sequential, F.cross_entropy, optim.SGD),
and PyTorch on the CPU (torch.nn, torch.optim.SGD). tinygrad_lite also runs with forward,
loss and backward in a ``tinygrad_lite.jit`` function (zero_grad() and opt.step() outside);
before timing, its losses over several steps must equal the eager step's exactly.

The hand-written step computes no gradient for the input images (nothing needs it), like
the engines: about 2 GFLOP per step, most of it in three matrix products forward and four
backward.

Run: python benchmarks/bench_mlp.py [--threads 1] [--rounds N] [--quick] [--json out.json]
"""
import _harness as H  # first: pins the thread count before numpy is imported

# isort: split

from functools import partial  # noqa: E402

import numpy as np  # noqa: E402

SIZES = (3072, 512, 512, 10)
BATCH = 256
LR = 1e-3


def make_problem(dtype, seed=0):
    """Inputs, labels and He-initialised weights [(W (in, out), b (out,)), ...]."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((BATCH, SIZES[0])).astype(dtype)
    y = rng.integers(0, SIZES[-1], size=BATCH)
    weights = []
    for nin, nout in zip(SIZES[:-1], SIZES[1:], strict=True):
        W = (rng.standard_normal((nin, nout)) * np.sqrt(2.0 / nin)).astype(dtype)
        weights.append((W, np.zeros(nout, dtype=dtype)))
    return X, y, weights


# -- numpy by hand, in the style of CS231n's layers.py ------------------------------------
def affine_forward(x, w, b):
    out = x.dot(w) + b
    cache = (x, w)
    return out, cache


def affine_backward(dout, cache, need_dx=True):
    x, w = cache
    dx = dout.dot(w.T) if need_dx else None
    dw = x.T.dot(dout)
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(0, x)
    return out, x


def relu_backward(dout, cache):
    x = cache
    return dout * (x > 0)


def batchnorm_forward(x, gamma, beta, bn_param, eps=1e-5, momentum=0.1):
    """Training mode: batch statistics; running statistics updated as PyTorch does."""
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc ** 2).mean(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = xc * inv_std
    out = gamma * xhat + beta
    n = x.shape[0]
    bn_param["running_mean"] = (1 - momentum) * bn_param["running_mean"] + momentum * mu
    bn_param["running_var"] = ((1 - momentum) * bn_param["running_var"]
                               + momentum * var * n / (n - 1))
    cache = (xhat, inv_std, gamma)
    return out, cache


def batchnorm_backward(dout, cache):
    xhat, inv_std, gamma = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dx = inv_std / n * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, dgamma, dbeta


def softmax_loss(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = x.shape[0]
    loss = -log_probs[np.arange(N), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


def numpy_case(X, y, weights, batchnorm=False):
    if batchnorm:
        return numpy_bn_case(X, y, weights)
    params = [a.copy() for W, b in weights for a in (W, b)]

    def step():
        W1, b1, W2, b2, W3, b3 = params
        a1, c1 = affine_forward(X, W1, b1)
        h1, r1 = relu_forward(a1)
        a2, c2 = affine_forward(h1, W2, b2)
        h2, r2 = relu_forward(a2)
        scores, c3 = affine_forward(h2, W3, b3)
        loss, dscores = softmax_loss(scores, y)
        dh2, dW3, db3 = affine_backward(dscores, c3)
        da2 = relu_backward(dh2, r2)
        dh1, dW2, db2 = affine_backward(da2, c2)
        da1 = relu_backward(dh1, r1)
        _, dW1, db1 = affine_backward(da1, c1, need_dx=False)
        for p, g in zip(params, (dW1, db1, dW2, db2, dW3, db3), strict=True):
            p -= LR * g
        return float(loss)

    return step


def numpy_bn_case(X, y, weights):
    """The same net with batch norm between each hidden affine layer and its ReLU."""
    params = [a.copy() for W, b in weights for a in (W, b)]
    for W, _ in weights[:-1]:
        params += [np.ones(W.shape[1], W.dtype), np.zeros(W.shape[1], W.dtype)]
    bn = [{"running_mean": np.zeros(W.shape[1], W.dtype),
           "running_var": np.ones(W.shape[1], W.dtype)} for W, _ in weights[:-1]]

    def step():
        W1, b1, W2, b2, W3, b3, g1, be1, g2, be2 = params
        a1, c1 = affine_forward(X, W1, b1)
        n1, cb1 = batchnorm_forward(a1, g1, be1, bn[0])
        h1, r1 = relu_forward(n1)
        a2, c2 = affine_forward(h1, W2, b2)
        n2, cb2 = batchnorm_forward(a2, g2, be2, bn[1])
        h2, r2 = relu_forward(n2)
        scores, c3 = affine_forward(h2, W3, b3)
        loss, dscores = softmax_loss(scores, y)
        dh2, dW3, db3 = affine_backward(dscores, c3)
        dn2 = relu_backward(dh2, r2)
        da2, dg2, dbe2 = batchnorm_backward(dn2, cb2)
        dh1, dW2, db2 = affine_backward(da2, c2)
        dn1 = relu_backward(dh1, r1)
        da1, dg1, dbe1 = batchnorm_backward(dn1, cb1)
        _, dW1, db1 = affine_backward(da1, c1, need_dx=False)
        grads = (dW1, db1, dW2, db2, dW3, db3, dg1, dbe1, dg2, dbe2)
        for p, g in zip(params, grads, strict=True):
            p -= LR * g
        return float(loss)

    return step


# -- tinygrad_lite --------------------------------------------------------------------------
def ours_case(X, y, weights, batchnorm=False, use_jit=False):
    import tinygrad_lite.functional as F
    from tinygrad_lite import jit, nn, optim

    layers = []
    for i, (W, _) in enumerate(weights):
        lin = nn.Linear(*W.shape)
        layers.append(lin)
        if i < len(weights) - 1:
            if batchnorm:
                layers.append(nn.BatchNorm1d(W.shape[1]))
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers).to(X.dtype)
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    for lin, (W, b) in zip(linears, weights, strict=True):
        lin.weight.data = W.copy()
        lin.bias.data = b.copy()
    opt = optim.SGD(model.parameters(), lr=LR)

    def forward_backward(X, y):
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        return loss

    if use_jit:
        forward_backward = jit(forward_backward)

    def step():
        opt.zero_grad()
        loss = forward_backward(X, y)
        opt.step()
        return loss.item()

    return step


def ours_anomaly_case(X, y, weights):
    """tinygrad_lite's step inside detect_anomaly(): every saved array copied at forward and
    compared at backward, every gradient checked for NaN and inf."""
    from tinygrad_lite import detect_anomaly

    step = ours_case(X, y, weights)

    def anomaly_step():
        with detect_anomaly():
            return step()

    return anomaly_step


# -- PyTorch ------------------------------------------------------------------------------
def torch_case(torch, X, y, weights, batchnorm=False):
    layers = []
    for i, (W, b) in enumerate(weights):
        lin = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < len(weights) - 1:
            if batchnorm:
                layers.append(torch.nn.BatchNorm1d(W.shape[1]))
            layers.append(torch.nn.ReLU())
    dtype = torch.float32 if X.dtype == np.float32 else torch.float64
    model = torch.nn.Sequential(*layers).to(dtype)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(Xt), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def main(argv=None):
    args = H.parser(__doc__.splitlines()[0]).parse_args(argv)
    torch = H.import_torch()
    rows, targets = [], []
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        X, y, weights = make_problem(dtype)
        makers = {"numpy by hand": partial(numpy_case, X, y, weights),
                  "tinygrad_lite": partial(ours_case, X, y, weights),
                  "tinygrad_lite jit": partial(ours_case, X, y, weights, use_jit=True)}
        H.check_jit(f"mlp {name}", makers["tinygrad_lite"](), makers["tinygrad_lite jit"](),
                    steps=4)
        if dtype == np.float32:  # what anomaly mode costs (stated, no target)
            makers["tinygrad_lite, detect_anomaly"] = partial(ours_anomaly_case, X, y, weights)
        if torch:
            makers["PyTorch"] = partial(torch_case, torch, X, y, weights)
        first = {k: m()() for k, m in makers.items()}
        tol = 1e-4 if dtype == np.float32 else 1e-10
        for k, v in first.items():
            if not np.isclose(v, first["numpy by hand"], rtol=tol):
                raise AssertionError(f"mlp {name}: {k} computes loss {v!r}, numpy by hand "
                                     f"{first['numpy by hand']!r}")
        cases = {k: m() for k, m in makers.items()}
        rows += H.compare(f"(c) MLP {name}", cases, baseline="numpy by hand",
                          rounds=args.rounds or (5 if args.quick else 21),
                          min_time=0.1 if args.quick else 0.3)
        ours = H.find(rows, "tinygrad_lite", f"(c) MLP {name}")
        oj = H.find(rows, "tinygrad_lite jit", f"(c) MLP {name}")
        pt = H.find(rows, "PyTorch", f"(c) MLP {name}")
        targets.append(H.target("(c)", f"{name} MLP step / numpy by hand's", ours.ratio, 1.05,
                                f"PyTorch: {pt.ratio:.3g}x" if pt else "torch not installed",
                                ours.ratio_gc, oj.ratio, 1.02, oj.ratio_gc))
        if dtype == np.float32:
            anomaly = H.find(rows, "tinygrad_lite, detect_anomaly", f"(c) MLP {name}")
            targets.append(H.target("(c)", "float32 step in detect_anomaly() / the plain step",
                                    H.paired_median([anomaly, ours], lambda a, o: a / o), None,
                                    "stated: the issue sets no limit",
                                    H.paired_median([anomaly, ours], lambda a, o: a / o,
                                                    "times_gc")))
    return H.finish(args, "(c) MLP 3072-512-512-10, batch 256, one SGD step", rows, targets)


if __name__ == "__main__":
    main()
