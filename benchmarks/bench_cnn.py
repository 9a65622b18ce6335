"""Workload (e): one SGD step of a small CNN on a CIFAR-10 sized batch, float32.

conv 3x3 with 16 filters and padding 1 -> spatial batch norm -> ReLU -> 2x2 max pool ->
linear to 10 -> softmax cross-entropy, on x of shape (64, 3, 32, 32). Three systems run the
same step from the same weights (first losses checked equal): PyTorch on the CPU (the
baseline), tinygrad_lite (nn.Sequential, optim.SGD) and numpy by hand in the plain style of
CS231n's layers (im2col by fancy indexing, spatial batch norm through a transpose to (N*H*W, C),
max pooling by reshaping into 2x2 blocks). Like the engines, the hand-written step computes no
gradient for the input images. tinygrad_lite also runs with forward, loss and backward in a
``tinygrad_lite.jit`` function (zero_grad() and opt.step() outside); its first four losses
(two recorded calls, two replays) must equal the eager step's exactly.

Run: python benchmarks/bench_cnn.py [--threads 1] [--rounds N] [--quick] [--json out.json]
"""
import _harness as H  # first: pins the thread count before numpy is imported

# isort: split

import numpy as np  # noqa: E402
from bench_mlp import batchnorm_backward, batchnorm_forward, softmax_loss  # noqa: E402

N, C, HW, FILTERS, CLASSES = 64, 3, 32, 16, 10
LR = 1e-2


def make_problem(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, C, HW, HW)).astype(dtype)
    y = rng.integers(0, CLASSES, size=N)
    w = (rng.standard_normal((FILTERS, C, 3, 3)) * np.sqrt(2.0 / (C * 9))).astype(dtype)
    b = np.zeros(FILTERS, dtype)
    feat = FILTERS * (HW // 2) ** 2
    W = (rng.standard_normal((feat, CLASSES)) * np.sqrt(1.0 / feat)).astype(dtype)
    bW = np.zeros(CLASSES, dtype)
    return X, y, (w, b, W, bW)


# -- numpy by hand --------------------------------------------------------------------------
def im2col_index(x_shape, kh, kw, pad, stride):
    """Row, column and channel indices that gather every receptive field as one column.

    Shapes: -> (C*kh*kw, 1) channels, (C*kh*kw, Ho*Wo) rows and columns into the padded input.
    """
    _, c, h, w = x_shape
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (w + 2 * pad - kw) // stride + 1
    di = np.tile(np.repeat(np.arange(kh), kw), c)  # kernel row of each column entry
    dj = np.tile(np.arange(kw), kh * c)  # kernel column
    oi = stride * np.repeat(np.arange(ho), wo)  # output row of each position
    oj = stride * np.tile(np.arange(wo), ho)
    rows = di[:, None] + oi[None, :]
    cols = dj[:, None] + oj[None, :]
    chans = np.repeat(np.arange(c), kh * kw)[:, None]
    return chans, rows, cols, ho, wo


def conv_forward(x, w, b, pad=1, stride=1):
    f, _, kh, kw = w.shape
    n = x.shape[0]
    chans, rows, cols, ho, wo = im2col_index(x.shape, kh, kw, pad, stride)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    x_cols = xp[:, chans, rows, cols]  # (N, C*kh*kw, Ho*Wo)
    x_cols = x_cols.transpose(1, 2, 0).reshape(x_cols.shape[1], -1)  # (C*kh*kw, Ho*Wo*N)
    out = w.reshape(f, -1).dot(x_cols) + b[:, None]  # (F, Ho*Wo*N)
    out = out.reshape(f, ho, wo, n).transpose(3, 0, 1, 2)
    return out, (x_cols, w)


def conv_backward_weights(dout, cache):
    """dw and db only: the input needs no gradient."""
    x_cols, w = cache
    f = w.shape[0]
    db = dout.sum(axis=(0, 2, 3))
    dout_r = dout.transpose(1, 2, 3, 0).reshape(f, -1)  # (F, Ho*Wo*N)
    dw = dout_r.dot(x_cols.T).reshape(w.shape)
    return dw, db


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    n, c, h, w = x.shape
    x_flat = x.transpose(0, 2, 3, 1).reshape(-1, c)
    out, cache = batchnorm_forward(x_flat, gamma, beta, bn_param)
    return out.reshape(n, h, w, c).transpose(0, 3, 1, 2), cache


def spatial_batchnorm_backward(dout, cache):
    n, c, h, w = dout.shape
    dflat = dout.transpose(0, 2, 3, 1).reshape(-1, c)
    dx, dgamma, dbeta = batchnorm_backward(dflat, cache)
    return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dgamma, dbeta


def max_pool_2x2_forward(x):
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = blocks.max(axis=(3, 5))
    return out, (blocks, out)


def max_pool_2x2_backward(dout, cache):
    blocks, out = cache
    mask = blocks == out[:, :, :, None, :, None]  # ties all receive it (ReLU's zeros: no effect)
    dx = mask * dout[:, :, :, None, :, None]
    n, c, h2, _, w2, _ = blocks.shape
    return dx.reshape(n, c, 2 * h2, 2 * w2)


def numpy_case(X, y, weights):
    w, b, W, bW = (a.copy() for a in weights)
    gamma, beta = np.ones(FILTERS, X.dtype), np.zeros(FILTERS, X.dtype)
    params = [w, b, gamma, beta, W, bW]
    bn_param = {"running_mean": np.zeros(FILTERS, X.dtype),
                "running_var": np.ones(FILTERS, X.dtype)}

    def step():
        conv, conv_cache = conv_forward(X, w, b)
        bn, bn_cache = spatial_batchnorm_forward(conv, gamma, beta, bn_param)
        act = np.maximum(0, bn)
        pooled, pool_cache = max_pool_2x2_forward(act)
        flat = pooled.reshape(pooled.shape[0], -1)
        scores = flat.dot(W) + bW
        loss, dscores = softmax_loss(scores, y)
        dW = flat.T.dot(dscores)
        dbW = dscores.sum(axis=0)
        dflat = dscores.dot(W.T)
        dpooled = dflat.reshape(pooled.shape)
        dact = max_pool_2x2_backward(dpooled, pool_cache)
        dbn = dact * (bn > 0)
        dconv, dgamma, dbeta = spatial_batchnorm_backward(dbn, bn_cache)
        dw, db = conv_backward_weights(dconv, conv_cache)
        for p, g in zip(params, (dw, db, dgamma, dbeta, dW, dbW), strict=True):
            p -= LR * g
        return float(loss)

    return step


# -- tinygrad_lite ---------------------------------------------------------------------------
def ours_case(X, y, weights, use_jit=False):
    import tinygrad_lite.functional as F
    from tinygrad_lite import jit, nn, optim

    w, b, W, bW = weights
    conv = nn.Conv2d(C, FILTERS, 3, padding=1)
    lin = nn.Linear(W.shape[0], CLASSES)
    model = nn.Sequential(conv, nn.BatchNorm2d(FILTERS), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          lin).to(X.dtype)
    conv.weight.data, conv.bias.data = w.copy(), b.copy()
    lin.weight.data, lin.bias.data = W.copy(), bW.copy()
    opt = optim.SGD(model.parameters(), lr=LR)

    def forward_backward(X, y):
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        return loss

    if use_jit:  # forward, loss and backward recorded, then replayed; the update outside
        forward_backward = jit(forward_backward)

    def step():
        opt.zero_grad()
        loss = forward_backward(X, y)
        opt.step()
        return loss.item()

    return step


# -- PyTorch ---------------------------------------------------------------------------------
def torch_case(torch, X, y, weights):
    w, b, W, bW = weights
    nn = torch.nn
    conv = nn.Conv2d(C, FILTERS, 3, padding=1)
    lin = nn.Linear(W.shape[0], CLASSES)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w))
        conv.bias.copy_(torch.from_numpy(b))
        lin.weight.copy_(torch.from_numpy(W.T.copy()))
        lin.bias.copy_(torch.from_numpy(bW))
    model = nn.Sequential(conv, nn.BatchNorm2d(FILTERS), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          lin)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

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
    X, y, weights = make_problem()
    makers = {"numpy by hand": lambda: numpy_case(X, y, weights),
              "tinygrad_lite": lambda: ours_case(X, y, weights),
              "tinygrad_lite jit": lambda: ours_case(X, y, weights, use_jit=True)}
    if torch:
        makers = {"PyTorch": lambda: torch_case(torch, X, y, weights), **makers}
    firsts = {}
    for k, make in makers.items():
        step = make()
        firsts[k] = [step() for _ in range(4)]  # four steps: the updates agree too
    ref = firsts["numpy by hand"]
    for k, losses in firsts.items():
        if not np.allclose(losses, ref, rtol=1e-4):
            raise AssertionError(f"cnn: {k} computes losses {losses}, numpy by hand {ref}")
    # two recorded calls, then a replay: the jit's losses equal eager's exactly
    if firsts["tinygrad_lite jit"] != firsts["tinygrad_lite"]:
        raise AssertionError(f"cnn: jit losses {firsts['tinygrad_lite jit']} differ from "
                             f"eager's {firsts['tinygrad_lite']}")
    cases = {k: m() for k, m in makers.items()}
    base = "PyTorch" if torch else "numpy by hand"
    rows = H.compare("(e) CNN step (64, 3, 32, 32) float32", cases, baseline=base,
                     rounds=args.rounds or (5 if args.quick else 15),
                     min_time=0.1 if args.quick else 0.3)
    ours, oj = H.find(rows, "tinygrad_lite"), H.find(rows, "tinygrad_lite jit")
    hand = H.find(rows, "numpy by hand")
    if torch:
        targets = [H.target("(e)", "CNN step / PyTorch's", ours.ratio, 1.5,
                            f"numpy by hand: {hand.ratio:.3g}x", ours.ratio_gc, oj.ratio, 1.2,
                            oj.ratio_gc)]
    else:
        targets = [H.target("(e)", "CNN step / PyTorch's", None, 1.5, "torch not installed",
                            jit_limit=1.2)]
    return H.finish(args, "(e) CNN step: conv 3x3x16, batch norm, ReLU, max pool, linear, "
                    "cross-entropy", rows, targets)


if __name__ == "__main__":
    main()
