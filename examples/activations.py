"""Activation functions: where their gradients vanish, and why zero-centred outputs matter.

Part 1. The gradient of each activation at x = -10, 0 and 10. Sigmoid and tanh are flat at
both ends: a saturated unit passes almost no gradient back (sigmoid's is at most 0.25 even at
0). ReLU passes 1 for x > 0 and nothing for x < 0 (a unit stuck there is dead); leaky ReLU
and ELU keep a small gradient on the negative side.

Part 2. The zig-zag. A neuron w . x with every input positive (such as sigmoid outputs) gets
dL/dw = (dL/d(w . x)) * x: every component has the sign of the one upstream number. All
weights go up together or down together, so reaching a w* with mixed signs takes a zig-zag
path. Zero-centred inputs allow any direction.

Run:  python examples/activations.py [--quick] [--out DIR]
"""
import argparse
import os

import numpy as np

from tinygrad_lite import Value
import tinygrad_lite.functional as F

ACTIVATIONS = {
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
}


def gradient_at(fn, x):
    """d fn(x) / dx at one point."""
    v = Value(float(x))
    out = fn(v)
    out.backward()
    return v.grad.item()


def sgd_path(X, w_true, steps, lr, rng):
    """Per-example SGD on a linear neuron w . x fitted to w_true . x; returns the w's visited
    and, for every update, whether its two components had the same sign."""
    w = Value(np.zeros(2), label="w")
    path = [w.data.copy()]
    same_sign = []
    for step in range(steps):
        i = rng.integers(len(X))
        x = X[i]
        target = float(x @ w_true)
        loss = (w @ x - target) ** 2
        w.zero_grad()
        loss.backward()
        update = -lr * w.grad
        if np.all(update != 0):
            same_sign.append(bool(np.sign(update[0]) == np.sign(update[1])))
        w.data = w.data + update
        path.append(w.data.copy())
    return np.array(path), float(np.mean(same_sign))


def zigzag(path):
    """Length of the path walked divided by the straight distance from its start to its end."""
    walked = np.linalg.norm(np.diff(path, axis=0), axis=1).sum()
    return float(walked / np.linalg.norm(path[-1] - path[0]))


def plot(grads, paths, w_true, path):
    """Left: gradient at -10, 0, 10 per activation. Right: the two SGD paths."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    fig = Figure(figsize=(11, 4))
    ax1, ax2 = fig.subplots(1, 2)
    xs = np.linspace(-10, 10, 401)
    for name, fn in ACTIVATIONS.items():
        v = Value(xs)
        out = fn(v)
        out.backward(np.ones_like(xs))
        ax1.plot(xs, v.grad, label=name)
    for x in (-10, 0, 10):
        ax1.axvline(x, color="grey", lw=0.5, ls=":")
    ax1.set_title("local gradient f'(x)")
    ax1.set_xlabel("x")
    ax1.legend(fontsize=8)
    for (name, p), color in zip(paths.items(), ("tab:red", "tab:green")):
        ax2.plot(p[:, 0], p[:, 1], ".-", color=color, ms=3, lw=0.8, label=name)
    ax2.plot(*w_true, "k*", ms=12, label="w* (the target)")
    ax2.set_title("SGD path of w = (w1, w2)")
    ax2.set_xlabel("w1")
    ax2.set_ylabel("w2")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return fig


def main(quick=False, out="figures"):
    """Print and return the gradients and the zig-zag numbers."""
    points = (-10.0, 0.0, 10.0)
    grads = {}
    for name, fn in ACTIVATIONS.items():
        grads[name] = [gradient_at(fn, x) for x in points]
    print(f"{'gradient at':>12} {'x=-10':>10} {'x=0':>10} {'x=10':>10}")
    for name, g in grads.items():
        print(f"{name:>12} {g[0]:>10.3g} {g[1]:>10.3g} {g[2]:>10.3g}")
    print("claim: sigmoid and tanh pass almost nothing at +-10 (saturated); sigmoid at most "
          "0.25; ReLU passes nothing for x < 0, 1 for x > 0")
    print()

    rng = np.random.default_rng(0)
    steps = 100 if quick else 300
    w_true = np.array([1.0, -1.0])
    positive = rng.uniform(0.0, 1.0, size=(500, 2))
    centred = positive - positive.mean(axis=0)
    path_pos, same_pos = sgd_path(positive, w_true, steps, 0.5, np.random.default_rng(1))
    path_cen, same_cen = sgd_path(centred, w_true, steps, 0.5, np.random.default_rng(1))
    zigzag_pos = zigzag(path_pos)
    zigzag_cen = zigzag(path_cen)
    print("claim: with all-positive inputs every update moves both weights the same way")
    print(f"measured: same-sign updates {same_pos:.0%} with positive inputs, "
          f"{same_cen:.0%} with zero-centred inputs")
    print(f"path walked / straight distance: {zigzag_pos:.2f} (positive), "
          f"{zigzag_cen:.2f} (zero-centred)")

    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (pip install tinygrad_lite[viz]): no figure")
    else:
        os.makedirs(out, exist_ok=True)
        figure = os.path.join(out, "activations.png")
        paths = {"all-positive inputs": path_pos, "zero-centred inputs": path_cen}
        plot(grads, paths, w_true, figure)
        print(f"figure: {figure}")
    return {"points": points, "grads": grads, "same_sign_positive": same_pos,
            "same_sign_centred": same_cen, "zigzag_positive": zigzag_pos,
            "zigzag_centred": zigzag_cen, "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer SGD steps (CI)")
    parser.add_argument("--out", default="figures", help="folder for the figure")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out)
