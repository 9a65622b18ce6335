"""The lecture as a report: run every experiment of CS231n lecture 6 and write one HTML page.

``build_report(out="report", quick=False)`` runs, in the lecture's order, backprop through a
neuron, activation functions, dead ReLUs, data preprocessing, weight initialization, batch
normalization, babysitting the learning process, hyperparameter search and monitoring, on
built-in data (a 2-D cloud, random gaussians and scikit-learn's bundled 8x8 digits: nothing is
downloaded). It writes:

    out/index.html      the report: the lecture's claims in our words beside the measured
                        numbers and a verdict, figures as inline PNG, graphs as inline SVG
    out/backprop.html   the backprop animation (self-contained, embedded in index.html)
    out/results.json    every check and number, for scripts and CI
    out/search_*.csv|json  the hyperparameter-search tables

Nothing in the pages is fetched from the network. The command line is
``tinygrad-lite report [--quick] [--out DIR]`` (or ``python -m tinygrad_lite report``).

This module imports matplotlib, graphviz and ``viz`` only inside functions: it needs the viz
extra (and scikit-learn, the data extra, for the digits) when it runs, never at import.
"""
from __future__ import annotations

import base64
import contextlib
import html
import io
import json
import math
import os
import platform
import re
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = ["build_report", "Check", "Section", "SECTIONS", "MissingExtraError"]


class MissingExtraError(ImportError):
    """The report needs an optional dependency that is not installed."""


# ============================================================ the page's building blocks


@dataclass
class Check:
    """One verdict: the lecture's claim, what we measured, and whether it holds."""

    claim: str
    measured: str
    passed: bool

    def to_dict(self):
        return {"claim": self.claim, "measured": self.measured, "passed": bool(self.passed)}


@dataclass
class Section:
    """One part of the lecture: prose, checks, and HTML blocks (figures, graphs, tables)."""

    key: str
    title: str
    intro: str = ""
    checks: list = field(default_factory=list)
    blocks: list = field(default_factory=list)
    numbers: dict = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""

    def check(self, claim, measured, passed):
        self.checks.append(Check(claim, measured, bool(passed)))

    def add(self, block: str):
        self.blocks.append(block)


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _png(fig, dpi=90, tight=True) -> str:
    """A matplotlib figure as an inline <img> (base64 PNG)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img class="fig" alt="figure" src="data:image/png;base64,{data}">'


def _figure_block(fig, caption="", dpi=90, tight=True) -> str:
    cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
    return f"<figure>{_png(fig, dpi, tight)}{cap}</figure>"


_svg_count = [0]


def _svg_inline(svg: str) -> str:
    """SVG text ready to sit inside HTML: no XML prologue, comments or namespace URLs, and
    ids prefixed so that several graphs on one page never share one."""
    _svg_count[0] += 1
    prefix = f"g{_svg_count[0]}_"
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r'\bid="', f'id="{prefix}', svg)
    svg = re.sub(r'url\(#', f'url(#{prefix}', svg)
    svg = re.sub(r'href="#', f'href="#{prefix}', svg)
    return svg


def _graph_block(graph, caption) -> str:
    svg = graph.pipe(format="svg", encoding="utf-8")
    return (f'<figure class="graph"><div class="svgwrap">{_svg_inline(svg)}</div>'
            f"<figcaption>{_esc(caption)}</figcaption></figure>")


def _table(header, rows, cls="") -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _pre(text) -> str:
    return f"<pre>{_esc(text)}</pre>"


def _g(x, digits=3) -> str:
    """A number in a few significant digits ('nan', 'inf' as such)."""
    if x is None:
        return "n/a"
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}"


# ============================================================ shared state


class _Context:
    """What the sections share: output folder, mode, the digits, and the figure class."""

    def __init__(self, out, quick):
        self.out = out
        self.quick = quick
        self._digits = None
        from matplotlib.figure import Figure

        self.Figure = Figure

    def digits(self):
        """Standardized digits split 80/20: (X_train, y_train, X_val, y_val)."""
        if self._digits is None:
            from .data import Standardize, load_digits, train_val_split

            X, y = load_digits()
            X_train, y_train, X_val, y_val = train_val_split(X, y, 0.2, rng=0)
            scaler = Standardize().fit(X_train)
            self._digits = (scaler.transform(X_train), y_train, scaler.transform(X_val), y_val)
        return self._digits


def _sgd_epochs(model, X, y, lr, epochs, *, momentum=0.9, batch=64, seed=0, monitor=None,
                on_epoch=None):
    """Minibatch SGD on an nn model; returns every step's loss (non-finite ones included)."""
    from . import functional as F
    from .data import minibatches
    from .engine import Value
    from .optim import SGD

    opt = SGD(list(model.parameters()), lr=lr, momentum=momentum)
    rng = np.random.default_rng(seed)
    losses = []
    with np.errstate(all="ignore"):
        for epoch in range(epochs):
            for Xb, yb in minibatches(X, y, batch, rng=rng):
                loss = F.softmax_cross_entropy(model(Value(Xb, requires_grad=False)), yb)
                opt.zero_grad()
                loss.backward()
                if monitor is not None:
                    with monitor.step(loss=loss):
                        opt.step()
                else:
                    opt.step()
                losses.append(loss.item())
            if on_epoch is not None:
                on_epoch(epoch, losses[-1])
    return losses


def _accuracy(model, X, y):
    from .engine import Value
    from .function import no_grad

    was = getattr(model, "training", True)
    model.eval()
    with no_grad(), np.errstate(all="ignore"):
        scores = model(Value(X, requires_grad=False))
    model.train(was)
    return float(np.mean(scores.data.argmax(axis=1) == y))


# ============================================================ 1. backprop


def _sec_backprop(ctx):
    import viz

    from . import functional as F
    from .engine import Value, backward_order

    s = Section("backprop", "1. Backpropagation through a neuron")
    s.intro = (
        "Backpropagation is the chain rule applied one gate at a time. Each gate knows only "
        "its local gradient (how its output moves with each input); during the backward pass "
        "it receives the upstream gradient (how the loss moves with its output), multiplies "
        "the two, and passes the product to its inputs. The worked example is one sigmoid "
        "neuron f = sigmoid(w0*x0 + w1*x1 + w2) with w0=2, x0=-1, w1=-3, x1=-2, w2=-3.")
    w0, x0 = Value(2.0, label="w0"), Value(-1.0, label="x0")
    w1, x1 = Value(-3.0, label="w1"), Value(-2.0, label="x1")
    w2 = Value(-3.0, label="w2")
    a = w0 * x0
    a.label = "w0*x0"
    b = w1 * x1
    b.label = "w1*x1"
    c = a + b
    c.label = "w0*x0 + w1*x1"
    z = c + w2
    z.label = "z"
    f = F.sigmoid(z)
    f.label = "f"
    f.backward()

    rows = []
    for node in reversed(backward_order(f)):
        for i, parent in enumerate(node.parents):
            local = float(node._ctx.local_grad(i))
            rows.append([node.label, _g(node.item(), 4), _g(node.grad.item(), 4),
                         parent.label, _g(local, 4), _g(local * node.grad.item(), 4)])
    s.add("<h3>Every edge: downstream = upstream x local</h3>" + _table(
        ["gate output", "value", "upstream grad", "input", "local grad", "sent to input"],
        rows, "num"))
    expected = {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}
    grads = {v.label: v.grad.item() for v in (w0, x0, w1, x1, w2)}
    s.check("The neuron outputs 0.73.", f"f = {f.item():.4f}", abs(f.item() - 0.73) < 0.005)
    s.check("Gradients: w0 -0.20, x0 0.39, w1 -0.39, x1 -0.59, w2 0.20.",
            ", ".join(f"{k} {v:+.4f}" for k, v in grads.items()),
            all(abs(grads[k] - v) < 0.005 for k, v in expected.items()))
    s.check("The sigmoid gate's local gradient is (1 - f) f = 0.20, so z receives 0.20.",
            f"dL/dz = {z.grad.item():.4f}; (1 - f) f = {(1 - f.item()) * f.item():.4f}",
            abs(z.grad.item() - (1 - f.item()) * f.item()) < 1e-12)
    s.add(_graph_block(viz.draw_graph(f, title="sigmoid neuron"),
                       "The neuron's graph: every node shows its value and gradient; every "
                       "edge shows upstream x local = downstream."))
    viz.animate_backward(f, os.path.join(ctx.out, "backprop.html"),
                         title="Backprop through a sigmoid neuron")
    s.add('<h3>The backward pass, one node at a time</h3>'
          '<p>Use the buttons, the slider or the arrow keys; the page is '
          '<a href="backprop.html">backprop.html</a> in this folder.</p>'
          '<iframe class="anim" src="backprop.html" title="backprop animation"></iframe>')
    s.numbers = {"f": f.item(), "grads": grads}
    return s


# ============================================================ 2. activation functions


def _activation_fns():
    from . import functional as F

    return {"sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu,
            "leaky_relu": F.leaky_relu, "elu": F.elu}


def _zigzag_path(X, w_true, steps, lr, seed):
    """Per-example SGD of a linear neuron toward w_true: the path and the same-sign fraction."""
    from .engine import Value

    rng = np.random.default_rng(seed)
    w = Value(np.zeros(2))
    path = [w.data.copy()]
    same = []
    for _ in range(steps):
        x = X[rng.integers(len(X))]
        loss = (w @ x - float(x @ w_true)) ** 2
        w.zero_grad()
        loss.backward()
        update = -lr * w.grad
        if np.all(update != 0):
            same.append(bool(np.sign(update[0]) == np.sign(update[1])))
        w.data = w.data + update
        path.append(w.data.copy())
    path = np.array(path)
    walked = np.linalg.norm(np.diff(path, axis=0), axis=1).sum()
    return path, float(np.mean(same)), float(walked / np.linalg.norm(path[-1] - path[0]))


def _sec_activations(ctx):
    from .engine import Value

    s = Section("activations", "2. Activation functions")
    s.intro = (
        "Sigmoid squashes to (0, 1) and tanh to (-1, 1); both are flat far from 0, so a "
        "saturated unit multiplies its upstream gradient by almost nothing and the layers "
        "below stop learning. Sigmoid's gradient is at most 0.25 even at its best. ReLU does "
        "not saturate for x > 0, but passes no gradient for x < 0: a unit stuck there is dead. "
        "Leaky ReLU and ELU keep some gradient on the negative side. Sigmoid outputs are also "
        "all positive: a neuron fed only positive inputs gets a gradient whose components all "
        "share one sign, so its weights can only all grow or all shrink together, and reaching "
        "a target with mixed signs takes a zig-zag path.")
    fns = _activation_fns()
    points = (-10.0, 0.0, 10.0)
    grads = {}
    for name, fn in fns.items():
        row = []
        for x in points:
            v = Value(x)
            fn(v).backward()
            row.append(v.grad.item())
        grads[name] = row
    s.add("<h3>Local gradient at x = -10, 0, 10</h3>" + _table(
        ["activation", "x = -10", "x = 0", "x = 10"],
        [[k] + [_g(g) for g in v] for k, v in grads.items()], "num"))
    s.check("Sigmoid and tanh saturate: almost no gradient at x = +-10.",
            f"sigmoid {_g(grads['sigmoid'][0])} and {_g(grads['sigmoid'][2])}, tanh "
            f"{_g(grads['tanh'][0])} and {_g(grads['tanh'][2])}",
            max(grads["sigmoid"][0], grads["sigmoid"][2], grads["tanh"][0],
                grads["tanh"][2]) < 1e-4)
    s.check("Sigmoid's gradient is at most 0.25 (at x = 0); tanh's is 1 there.",
            f"sigmoid'(0) = {_g(grads['sigmoid'][1])}, tanh'(0) = {_g(grads['tanh'][1])}",
            abs(grads["sigmoid"][1] - 0.25) < 1e-12 and abs(grads["tanh"][1] - 1) < 1e-12)
    s.check("ReLU passes nothing for x < 0 and everything for x > 0; leaky ReLU keeps a "
            "small slope for x < 0.",
            f"relu' = {_g(grads['relu'][0])} at -10, {_g(grads['relu'][2])} at 10; leaky "
            f"{_g(grads['leaky_relu'][0])} at -10",
            grads["relu"][0] == 0 and grads["relu"][2] == 1 and grads["leaky_relu"][0] > 0)

    rng = np.random.default_rng(0)
    w_true = np.array([1.0, -1.0])
    positive = rng.uniform(0.0, 1.0, size=(500, 2))
    centred = positive - positive.mean(axis=0)
    steps = 100 if ctx.quick else 300
    path_p, same_p, zig_p = _zigzag_path(positive, w_true, steps, 0.5, 1)
    path_c, same_c, zig_c = _zigzag_path(centred, w_true, steps, 0.5, 1)
    s.check("With all-positive inputs every update moves both weights in the same direction; "
            "with zero-centred inputs they can move apart.",
            f"same-sign updates: {same_p:.0%} (positive) against {same_c:.0%} (zero-centred)",
            same_p == 1.0 and same_c < 0.8)
    s.check("So the weights zig-zag toward a target with mixed signs.",
            f"path walked / straight distance: {zig_p:.2f} (positive) against "
            f"{zig_c:.2f} (zero-centred)", zig_p > zig_c)

    fig = ctx.Figure(figsize=(11, 3.8))
    ax1, ax2 = fig.subplots(1, 2)
    xs = np.linspace(-10, 10, 401)
    for name, fn in fns.items():
        v = Value(xs)
        fn(v).backward(np.ones_like(xs))
        ax1.plot(xs, v.grad, label=name)
    ax1.set_title("local gradient f'(x)")
    ax1.set_xlabel("x")
    ax1.legend(fontsize=8)
    ax2.plot(path_p[:, 0], path_p[:, 1], ".-", color="tab:red", ms=3, lw=0.8,
             label="all-positive inputs")
    ax2.plot(path_c[:, 0], path_c[:, 1], ".-", color="tab:green", ms=3, lw=0.8,
             label="zero-centred inputs")
    ax2.plot(*w_true, "k*", ms=12, label="target w*")
    ax2.set_title("SGD path of a neuron's two weights")
    ax2.set_xlabel("w1")
    ax2.set_ylabel("w2")
    ax2.legend(fontsize=8)
    s.add(_figure_block(fig, "Left: the gradient each activation passes back. Right: per-example "
                             "SGD on a linear neuron, from (0, 0) to w* = (1, -1)."))
    s.numbers = {"grads": grads, "same_sign_positive": same_p, "same_sign_centred": same_c,
                 "zigzag_positive": zig_p, "zigzag_centred": zig_c}
    return s


# ============================================================ 3. dead ReLUs


def _relu_model(seed=0):
    from . import nn

    return nn.Sequential(nn.Linear(64, 100, init="he", rng=seed), nn.ReLU(),
                         nn.Linear(100, 100, init="he", rng=seed + 1), nn.ReLU(),
                         nn.Linear(100, 10, rng=seed + 2))


def _dead_on(model, X):
    """{relu module name: fraction of its units at 0 for every row of X}."""
    from .engine import Value
    from .function import no_grad
    from .monitor import watch_activations

    with watch_activations(model) as w, no_grad(), np.errstate(all="ignore"):
        model(Value(X, requires_grad=False))
    return {k: v.dead for k, v in w.last().items()}


def _sec_dead_relu(ctx):
    import viz

    from . import functional as F
    from .engine import Value

    s = Section("dead-relu", "3. Dead ReLUs")
    s.intro = (
        "A ReLU unit whose input is negative for every example outputs 0 for all of them; its "
        "local gradient is then 0 everywhere, no gradient reaches its weights, and nothing "
        "ever brings it back. A bad initialization can start units dead; more often a "
        "learning rate that is too high throws a unit's weights off the data with one big "
        "update. Here one network (64-100-100-10, He init) is trained on the digits at a "
        "sane learning rate and at two that are too high; the dead fraction of each ReLU layer "
        "is measured on the whole training set after every epoch.")
    X, y, _, _ = ctx.digits()
    epochs = 3  # a few epochs are enough to kill units (and cheap)
    runs = {"sane (lr 0.01)": 0.01, "too high (lr 0.3)": 0.3, "far too high (lr 1.0)": 1.0}
    series = {}
    final = {}
    models = {}
    for name, lr in runs.items():
        model = _relu_model()
        hist = [_dead_on(model, X)]
        _sgd_epochs(model, X, y, lr, epochs,
                    on_epoch=lambda e, loss, m=model: hist.append(_dead_on(m, X)))
        series[name] = hist
        final[name] = {"dead": hist[-1], "train_acc": _accuracy(model, X, y)}
        models[name] = model
    rows = [[name, f"{lr:g}"] + [f"{final[name]['dead'][k]:.0%}" for k in final[name]["dead"]]
            + [f"{final[name]['train_acc']:.1%}"] for name, lr in runs.items()]
    layers = list(final["sane (lr 0.01)"]["dead"])
    s.add("<h3>Dead units after training</h3>" + _table(
        ["run", "learning rate"] + [f"dead in ReLU '{k}'" for k in layers]
        + ["training accuracy"], rows, "num"))
    sane = max(final["sane (lr 0.01)"]["dead"].values())
    high = max(final["too high (lr 0.3)"]["dead"].values())
    far = max(final["far too high (lr 1.0)"]["dead"].values())
    s.check("A sane learning rate leaves (almost) no unit dead.",
            f"largest dead fraction at lr 0.01: {sane:.0%}", sane <= 0.02)
    s.check("Too high a learning rate kills a large part of a layer.",
            f"largest dead fraction: {high:.0%} at lr 0.3, {far:.0%} at lr 1.0",
            high >= 0.2 and far >= 0.5)

    # a dead unit gets exactly zero gradient: measured on the lr 0.3 run
    model = models["too high (lr 0.3)"]
    batch = X[:64]
    hidden = model[3](model[2](model[1](model[0](Value(batch, requires_grad=False)))))
    dead_all = np.all(_relu_pre(model, X) <= 0, axis=0)
    loss = F.softmax_cross_entropy(model[4](hidden), y[:64])
    model.zero_grad()
    loss.backward()
    g = model[2].weight.grad[:, dead_all]
    s.check("A dead unit receives no gradient at all.",
            f"{int(dead_all.sum())} dead units in ReLU '3'; largest |dL/dW| into them: "
            f"{_g(np.abs(g).max() if g.size else 0.0)}", g.size == 0 or np.abs(g).max() == 0)
    s.add(_graph_block(viz.draw_graph(loss, params=model, title="ReLU net after lr 0.3",
                                      rankdir="TB"),
                       "The ReLU network trained at lr 0.3, on a batch of 64 digits: the "
                       "second ReLU layer is marked red for its units that are dead on every "
                       "example of this batch (the strip shows them unit by unit); the "
                       "gradient that reaches them is zero."))

    fig = ctx.Figure(figsize=(10, 3.4))
    axes = fig.subplots(1, len(layers), sharey=True)
    for (name, hist), colour in zip(series.items(), ("tab:green", "tab:orange", "tab:red")):
        for ax, layer in zip(axes, layers):
            ax.plot(range(len(hist)), [h[layer] for h in hist], "o-", color=colour, label=name)
            ax.set_title(f"ReLU '{layer}': fraction of dead units")
            ax.set_xlabel("epoch (0 = at init)")
    axes[0].set_ylim(-0.05, 1.05)
    axes[0].legend(fontsize=8)
    s.add(_figure_block(fig, "Dead fraction per epoch, measured on all training examples."))
    s.numbers = {"final": final, "series": series}
    return s


def _relu_pre(model, X):
    """Pre-activations of the second ReLU layer on all of X (no graph)."""
    h = np.maximum(X @ model[0].weight.data + model[0].bias.data, 0)
    return h @ model[2].weight.data + model[2].bias.data


# ============================================================ 4. preprocessing


def _sec_preprocessing(ctx):
    from .data import PCA, Standardize, Whiten, ZeroCenter

    s = Section("preprocessing", "4. Data preprocessing")
    s.intro = (
        "Zero-centring subtracts the mean of the training data, so that inputs are not all "
        "positive (see the zig-zag above); normalization then divides each feature by its "
        "standard deviation. PCA rotates the centred data onto the axes of its covariance, so "
        "the features become uncorrelated; whitening also scales each of those axes to unit "
        "variance. Every transform is fitted on training data and applied unchanged to test "
        "data. For images the lecture stops at zero-centring (a mean image, or a mean per "
        "channel).")
    rng = np.random.default_rng(0)
    n = 500 if ctx.quick else 2000
    angle = np.deg2rad(30.0)
    rot = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    X = rng.standard_normal((n, 2)) @ np.diag([2.0, 0.5]) @ rot + np.array([4.0, 2.0])
    X_test = rng.standard_normal((n, 2)) @ np.diag([2.0, 0.5]) @ rot + np.array([4.0, 2.0])
    clouds = {"original": X, "zero-centred": ZeroCenter().fit_transform(X),
              "normalized": Standardize().fit_transform(X),
              "decorrelated (PCA)": PCA(2).fit_transform(X)}
    whitener = Whiten().fit(X)
    clouds["whitened"] = whitener.transform(X)
    clouds["whitened test data"] = whitener.transform(X_test)
    rows = []
    stats = {}
    for name, C in clouds.items():
        cov = np.cov(C, rowvar=False, bias=True)
        stats[name] = {"mean": C.mean(axis=0).tolist(), "std": C.std(axis=0).tolist(),
                       "cov": cov.tolist()}
        rows.append([name, f"({C.mean(0)[0]:+.3f}, {C.mean(0)[1]:+.3f})",
                     f"({C.std(0)[0]:.3f}, {C.std(0)[1]:.3f})",
                     f"[[{cov[0, 0]:.3f}, {cov[0, 1]:+.3f}], [{cov[1, 0]:+.3f}, {cov[1, 1]:.3f}]]"])
    s.add(_table(["data", "mean", "std per feature", "covariance"], rows, "num"))
    cen = np.abs(clouds["zero-centred"].mean(0)).max()
    s.check("Zero-centring moves the mean to 0.", f"largest |mean| {_g(cen)}", cen < 1e-10)
    std = clouds["normalized"].std(0)
    s.check("Normalization gives every feature std 1.", f"stds {std.round(6).tolist()}",
            np.allclose(std, 1.0))
    off = abs(np.cov(clouds["decorrelated (PCA)"], rowvar=False)[0, 1])
    s.check("PCA decorrelates: the covariance becomes diagonal.",
            f"off-diagonal covariance {_g(off)} (was {np.cov(X, rowvar=False)[0, 1]:.3f})",
            off < 1e-10)
    err = np.abs(np.cov(clouds["whitened"], rowvar=False, bias=True) - np.eye(2)).max()
    s.check("Whitening gives the identity covariance.", f"max |cov - I| = {_g(err)}",
            err < 1e-3)
    test_err = np.abs(np.cov(clouds["whitened test data"], rowvar=False, bias=True)
                      - np.eye(2)).max()
    s.check("Fitted on training data, the transform carries over to test data (close to, not "
            "exactly, the identity).", f"test data: max |cov - I| = {_g(test_err)}",
            test_err < 0.25)

    fig = ctx.Figure(figsize=(11, 7))
    axes = fig.subplots(2, 3)
    layout = (("original", "zero-centred", "normalized"),
              ("original", "decorrelated (PCA)", "whitened"))
    for r, names in enumerate(layout):
        for c, name in enumerate(names):
            ax = axes[r, c]
            C = clouds[name]
            ax.scatter(C[:, 0], C[:, 1], s=4, alpha=0.5,
                       color=("tab:red", "tab:green", "tab:blue")[c])
            ax.axhline(0, color="k", lw=0.5)
            ax.axvline(0, color="k", lw=0.5)
            ax.set_xlim(-8, 10)
            ax.set_ylim(-8, 10)
            ax.set_aspect("equal")
            ax.set_title(name)
    s.add(_figure_block(fig, "The lecture's two pictures, on a correlated 2-D cloud centred "
                             "at (4, 2)."))
    s.numbers = stats
    return s


# ============================================================ 5. weight initialization


def _sec_weight_init(ctx):
    import viz

    from . import functional as F
    from . import init, nn
    from .engine import Value
    from .function import no_grad
    from .monitor import activation_stats

    s = Section("weight-init", "5. Weight initialization")
    s.intro = (
        "Ten layers of 500 units on 1000 unit-gaussian inputs. With weights of std 0.01 every "
        "layer multiplies the activations' spread by about 0.22, so by layer 10 they have "
        "collapsed toward 0, and so have the gradients of the weights (they are proportional "
        "to the inputs of each layer). With std 1.0 the pre-activations are huge, tanh sits "
        "at +-1 and its gradient is 0. Xavier (std 1/sqrt(fan_in)) keeps the variance from "
        "layer to layer for tanh. ReLU zeroes half of its inputs, so with Xavier the variance "
        "halves at every layer; He (std sqrt(2/fan_in)) makes up for that factor of 2.")
    n = 200 if ctx.quick else 1000
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 1000))
    schemes = {
        "tanh, std 0.01": ("tanh", lambda sh, r: init.normal(sh, std=0.01, rng=r)),
        "tanh, std 1.0": ("tanh", lambda sh, r: init.normal(sh, std=1.0, rng=r)),
        "tanh, Xavier": ("tanh", init.xavier),
        "ReLU, Xavier": ("relu", init.xavier),
        "ReLU, He": ("relu", init.he),
    }
    stats = {}
    with no_grad():
        for name, (act, make) in schemes.items():
            h = Value(X, requires_grad=False)
            layer_stats = []
            for layer in range(10):
                W = Value(make((h.shape[1], 500), rng), requires_grad=False)
                h = F.tanh(h @ W) if act == "tanh" else F.relu(h @ W)
                layer_stats.append(activation_stats(
                    h, kind=act, name=f"L{layer + 1}",
                    range=(-1.0, 1.0) if act == "tanh" else (0.0, 3.0)))
            stats[name] = layer_stats
    std = {k: np.array([st.std for st in v]) for k, v in stats.items()}
    rows = [[k] + [_g(x, 2) for x in v] for k, v in std.items()]
    s.add("<h3>Activation std per layer</h3>" + _table(
        ["scheme"] + [f"L{i}" for i in range(1, 11)], rows, "num small"))
    small = std["tanh, std 0.01"]
    s.check("std 0.01: the activations collapse toward 0 (layer 10's std below 1e-3 of "
            "layer 1's).", f"layer 10 / layer 1 = {_g(small[-1] / small[0])}",
            small[-1] / small[0] < 1e-3)
    sat = [st.saturated for st in stats["tanh, std 1.0"]]
    s.check("std 1.0: tanh saturates (most units in the flat tails, |f'| < 0.01, in every layer).",
            f"saturated fraction per layer from {min(sat):.0%} to {max(sat):.0%}",
            min(sat) > 0.5)
    xav = std["tanh, Xavier"]
    xav_sat = max(st.saturated for st in stats["tanh, Xavier"][1:])
    s.check("Xavier keeps a spread with tanh: neither collapsed nor saturated.",
            f"std from {xav[0]:.2f} (layer 1) to {xav[-1]:.2f} (layer 10); saturated at most "
            f"{xav_sat:.1%} past layer 1", xav[-1] > 0.1 and xav_sat < 0.05)
    relu = std["ReLU, Xavier"]
    ratio = float(np.mean((relu[1:] / relu[:-1]) ** 2))
    s.check("ReLU with Xavier halves the variance at every layer.",
            f"mean variance ratio between consecutive layers {ratio:.3f}",
            0.4 < ratio < 0.6)
    he = std["ReLU, He"]
    spread = float(max(he.max() / he[0], he[0] / he.min()))
    s.check("ReLU with He keeps it: every layer's std within a factor 2 of layer 1's.",
            f"largest factor {spread:.2f}", spread < 2.0)

    fig = ctx.Figure(figsize=(15, 8.5))
    axes = fig.subplots(len(stats), 10)
    for r, (name, layer_stats) in enumerate(stats.items()):
        for c, st in enumerate(layer_stats):
            ax = axes[r, c]
            ax.stairs(st.hist, st.bin_edges, fill=True,
                      color="tab:blue" if name.startswith("tanh") else "tab:orange")
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            ax.set_title(f"L{c + 1} std {st.std:.2g}", fontsize=7)
            if name.startswith("ReLU"):  # cut the spike at 0 so that the rest shows
                ax.set_ylim(0, 1.1 * max(st.hist[1:].max(), 1))
            if c == 0:
                ax.set_ylabel(name, fontsize=8)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.04, top=0.95, wspace=0.25, hspace=0.7)
    s.add(_figure_block(fig, "Histograms of every layer's activations (rows: schemes; ReLU "
                             "rows cut the spike at 0, which holds half the units).", dpi=78,
                        tight=False))
    fig = ctx.Figure(figsize=(6.5, 3.6))
    ax = fig.subplots()
    for name, v in std.items():
        ax.semilogy(range(1, 11), v, "o-", label=name)
    ax.set_xlabel("layer")
    ax.set_ylabel("activation std")
    ax.legend(fontsize=8)
    ax.set_title("std per layer")
    s.add(_figure_block(fig, "The same, one line per scheme (log scale)."))

    # the weights' gradients collapse with the activations (std 0.01 against Xavier)
    Xg = X[:200]
    yg = np.random.default_rng(2).integers(0, 10, len(Xg))
    grad_norms = {}
    for name in ("tanh, std 0.01", "tanh, Xavier"):
        make = schemes[name][1]
        g_rng = np.random.default_rng(3)
        h = Value(Xg, requires_grad=False)
        weights = []
        for layer in range(10):
            W = Value(make((h.shape[1], 500), g_rng))
            weights.append(W)
            h = F.tanh(h @ W)
        head = Value(make((500, 10), g_rng))
        F.softmax_cross_entropy(h @ head, yg).backward()
        grad_norms[name] = [float(np.linalg.norm(W.grad)) for W in weights]
    small_g, xav_g = np.array(grad_norms["tanh, std 0.01"]), np.array(grad_norms["tanh, Xavier"])
    s.check("std 0.01: the weights' gradients collapse too (every layer's below 1e-4 of "
            "Xavier's).", f"||dL/dW|| per layer: {_g(small_g.min())} to {_g(small_g.max())} "
            f"with std 0.01, {_g(xav_g.min())} to {_g(xav_g.max())} with Xavier",
            np.all(small_g < 1e-4 * xav_g))
    fig = ctx.Figure(figsize=(6.5, 3.4))
    ax = fig.subplots()
    for name, v in grad_norms.items():
        ax.semilogy(range(1, 11), v, "o-", label=name)
    ax.set_xlabel("layer")
    ax.set_ylabel("||dL/dW||")
    ax.set_title("weight gradient norm per layer (softmax loss, 200 examples)")
    ax.legend(fontsize=8)
    s.add(_figure_block(fig, "With std 0.01 the gradient of every weight matrix is about a "
                             "millionth of what Xavier gives: nothing learns."))

    # a small tanh net with std 1.0 weights, drawn with its saturated units
    g_rng = np.random.default_rng(1)
    net = nn.Sequential(nn.Linear(20, 30, init=lambda sh, rng: init.normal(sh, 1.0, rng),
                                  rng=2), nn.Tanh(),
                        nn.Linear(30, 30, init=lambda sh, rng: init.normal(sh, 1.0, rng),
                                  rng=3), nn.Tanh(),
                        nn.Linear(30, 10, rng=4))
    xb = Value(g_rng.standard_normal((32, 20)), requires_grad=False, label="x")
    loss = F.softmax_cross_entropy(net(xb), g_rng.integers(0, 10, 32))
    loss.backward()
    s.add(_graph_block(viz.draw_graph(loss, params=net, title="tanh net, std 1.0 init",
                                      rankdir="TB"),
                       "A small tanh network initialized with std 1.0, on a batch of 32: its "
                       "tanh layers are marked orange for saturated units, where the local "
                       "gradient is nearly 0."))
    s.numbers = {"std": {k: v.tolist() for k, v in std.items()},
                 "saturated_std1": sat, "relu_xavier_variance_ratio": ratio,
                 "weight_grad_norms": grad_norms,
                 "he_spread": spread}
    return s


# ============================================================ 6. batch normalization


def _bn_model(batch_norm, weight_init, depth=6, width=100):
    from . import nn

    layers = []
    fan_in = 64
    for i in range(depth):
        layers.append(nn.Linear(fan_in, width, init=weight_init, rng=i))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.Tanh())
        fan_in = width
    layers.append(nn.Linear(fan_in, 10, init=weight_init, rng=depth))
    return nn.Sequential(*layers)


def _small_init(shape, rng=None):
    from . import init

    return init.normal(shape, std=0.01, rng=rng)


def _sec_batch_norm(ctx):
    from .engine import Value
    from .function import no_grad

    s = Section("batch-norm", "6. Batch normalization")
    s.intro = (
        "Batch norm makes each feature's pre-activations zero-mean and unit-variance over the "
        "batch, then lets the network scale and shift them back (gamma, beta) if that helps. "
        "The activations keep a healthy spread whatever the weights' scale, so a network "
        "trains from an initialization that would otherwise stall, and tolerates a wider "
        "range of learning rates. In training the statistics come from the current batch, so "
        "an example's output depends on the rest of its batch; at test time fixed running "
        "averages from training are used instead. The network: 6 hidden tanh layers of 100 "
        "units on the digits.")
    X, y, Xv, yv = ctx.digits()
    epochs = 2 if ctx.quick else 3
    plain = _bn_model(False, _small_init)
    plain_losses = _sgd_epochs(plain, X, y, 0.05, epochs)
    normed = _bn_model(True, _small_init)
    normed_losses = _sgd_epochs(normed, X, y, 0.05, epochs)
    pa, na = _accuracy(plain, Xv, yv), _accuracy(normed, Xv, yv)
    s.check("With a bad init (std 0.01) the plain network does not train; with batch norm "
            "the same init trains.",
            f"validation accuracy {pa:.1%} plain (loss {plain_losses[0]:.3f} -> "
            f"{plain_losses[-1]:.3f}) against {na:.1%} with batch norm (loss "
            f"{normed_losses[0]:.3f} -> {normed_losses[-1]:.3f})", pa < 0.3 and na > 0.7)
    lrs = [1e-3, 1e-2, 1e-1, 1.0, 3.0]
    sweep = {"plain": [], "batch norm": []}
    for lr in lrs:
        for name in sweep:
            model = _bn_model(name == "batch norm", "xavier")
            _sgd_epochs(model, X, y, lr, epochs)
            sweep[name].append(_accuracy(model, Xv, yv))
    good = {k: [lr for lr, a in zip(lrs, v) if a >= 0.5] for k, v in sweep.items()}
    s.add("<h3>Validation accuracy per learning rate (Xavier init)</h3>" + _table(
        ["network"] + [f"lr {lr:g}" for lr in lrs],
        [[k] + [f"{a:.0%}" for a in v] for k, v in sweep.items()], "num"))
    s.check("Batch norm trains over a wider range of learning rates.",
            f"trains (validation accuracy >= 50%) at {len(good['batch norm'])} of {len(lrs)} "
            f"rates with batch norm, {len(good['plain'])} without",
            len(good["batch norm"]) > len(good["plain"]))
    example = Xv[:1]
    batch_a = np.concatenate([example, Xv[1:64]])
    batch_b = np.concatenate([example, Xv[64:127]])
    outs = {}
    for mode in ("eval", "train"):
        normed.train(mode == "train")
        with no_grad():
            outs[mode] = [normed(Value(b, requires_grad=False)).data[0] for b in (batch_a, batch_b)]
    normed.train()
    train_shift = float(np.abs(outs["train"][0] - outs["train"][1]).max())
    eval_shift = float(np.abs(outs["eval"][0] - outs["eval"][1]).max())
    s.check("In training mode an example's output depends on its batch; in evaluation mode "
            "(running statistics) it does not.",
            f"one example in two different batches: outputs differ by {_g(train_shift)} in "
            f"training mode, {_g(eval_shift)} in evaluation mode",
            train_shift > 1e-3 and eval_shift == 0.0)

    fig = ctx.Figure(figsize=(10, 3.5))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(plain_losses, label="plain")
    ax1.plot(normed_losses, label="batch norm")
    ax1.set_title("std 0.01 init: training loss")
    ax1.set_xlabel("step")
    ax1.legend(fontsize=8)
    for name, accs in sweep.items():
        ax2.semilogx(lrs, accs, "o-", label=name)
    ax2.set_ylim(0, 1)
    ax2.set_xlabel("learning rate")
    ax2.set_title("Xavier init: validation accuracy")
    ax2.legend(fontsize=8)
    s.add(_figure_block(fig, "Left: a bad init stalls without batch norm. Right: the range of "
                             "learning rates that train."))
    s.numbers = {"bad_init_acc": {"plain": pa, "batch norm": na}, "lrs": lrs, "sweep": sweep,
                 "train_shift": train_shift, "eval_shift": eval_shift}
    return s


# ============================================================ 7. babysitting


def _sec_babysitting(ctx):
    from . import nn
    from .babysit import babysit

    s = Section("babysitting", "7. Babysitting the learning process")
    s.intro = (
        "Before a long run, check cheaply that learning can work, in this order. With small "
        "weights and no regularization all 10 scores are about equal, so the softmax loss "
        "starts at ln 10 = 2.30. Adding regularization must raise the loss. The network must "
        "be able to overfit a tiny subset (20 examples, no regularization) to 100% training "
        "accuracy. Then, with a little regularization, look for a learning rate: one that is "
        "too low barely moves the loss (1e-6), one that is too high makes it explode (1e6: "
        "NaN, inf, or past 3x its first value, where the run is stopped). The network: "
        "64-50-10 with ReLU and std 0.01 weights, on the digits.")
    X, y, _, _ = ctx.digits()
    if ctx.quick:
        X, y = X[:500], y[:500]

    def make_model():
        return nn.Sequential(nn.Linear(64, 50, init="normal", rng=0), nn.ReLU(),
                             nn.Linear(50, 10, init="normal", rng=1))

    report = babysit(make_model, X, y, reg=1e3, overfit_n=20, overfit_steps=300,
                     overfit_lr=0.1, lrs=(1e-6, 1e-2, 1e-1, 1.0, 1e6), probe_steps=30,
                     batch_size=100, progress=False)
    rows = [[v.check, v.status.upper(), v.message] for v in report.verdicts]
    s.add("<h3>The babysitting run, in order</h3>" + _table(["check", "verdict", "measured"],
                                                            rows, "verdicts"))
    init_v, reg_v, over_v = report["initial loss"], report["regularization"], report["overfit"]
    s.check("The initial loss is near ln 10 = 2.303 (within 0.1).", init_v.message,
            abs(init_v.numbers["loss"] - math.log(10)) < 0.1)
    s.check("Regularization raises the loss.", reg_v.message, reg_v.passed)
    s.check("20 examples overfit to 100% training accuracy.", over_v.message, over_v.passed)
    probes = {v.numbers["lr"]: v for v in report.verdicts if v.check == "learning rate"}
    s.check("lr 1e-6 is too low: the loss barely moves.", probes[1e-6].message,
            probes[1e-6].status == "too low")
    s.check("lr 1e6 is too high: NaN/inf, or past 3x the initial loss (stopped early).",
            probes[1e6].message, probes[1e6].status == "too high")
    s.check("Some learning rate in between makes the loss fall.",
            "reasonable: " + (", ".join(f"{lr:g}" for lr in report.reasonable_lrs) or "none"),
            bool(report.reasonable_lrs))

    fig = ctx.Figure(figsize=(10, 3.5))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(over_v.history)
    ax1.set_title(f"overfitting 20 examples ({over_v.numbers['train_acc']:.0%} accuracy)")
    ax1.set_xlabel("step")
    ax1.set_ylabel("loss")
    for lr, v in probes.items():
        h = np.array(v.history, dtype=float)
        ax2.plot(np.where(np.isfinite(h), h, np.nan), label=f"lr {lr:g}: {v.status}")
    ax2.set_yscale("log")
    ax2.set_xlabel("step")
    ax2.set_title("learning-rate probe: loss per step")
    ax2.legend(fontsize=8)
    s.add(_figure_block(fig, "The 20-example overfit, and each learning rate's loss per step "
                             "(a run that explodes stops after its first bad step)."))
    s.numbers = report.to_dict()
    return s


# ============================================================ 8. hyperparameter search

_SEARCH_DATA = {}


def _search_objective(config, report):
    """Softmax classifier on the digits for config["epochs"] epochs (module level: picklable)."""
    from . import functional as F
    from .babysit import l2_penalty
    from .data import Standardize, load_digits, minibatches, train_val_split
    from .engine import Value

    if not _SEARCH_DATA:
        X, y = load_digits()
        X_train, y_train, X_val, y_val = train_val_split(X, y, 0.2, rng=0)
        scaler = Standardize().fit(X_train)
        _SEARCH_DATA["d"] = (scaler.transform(X_train), y_train, scaler.transform(X_val), y_val)
    X_train, y_train, X_val, y_val = _SEARCH_DATA["d"]
    rng = np.random.default_rng(0)
    W = Value(rng.standard_normal((64, 10)) * 0.01)
    b = Value(np.zeros(10))
    with np.errstate(all="ignore"):
        for _ in range(config["epochs"]):
            for Xb, yb in minibatches(X_train, y_train, 100, rng=rng):
                loss = F.softmax_cross_entropy(F.linear(Value(Xb, requires_grad=False), W, b),
                                               yb) + l2_penalty([W], config["reg"])
                W.zero_grad()
                b.zero_grad()
                loss.backward()
                W.data = W.data - config["lr"] * W.grad
                b.data = b.data - config["lr"] * b.grad
            scores = F.linear(Value(X_val, requires_grad=False), W, b)
            val_acc = float(np.mean(scores.data.argmax(axis=1) == y_val))
            report(loss.item(), val_acc=val_acc)
    return {"val_acc": val_acc}


def _sec_search(ctx):
    import viz

    from .tune import EdgeWarning, LogUniform, coarse_to_fine, grid_search, random_search

    s = Section("search", "8. Hyperparameter search")
    s.intro = (
        "Search the learning rate and the regularization strength on a log scale. Prefer "
        "random to grid search: when one hyperparameter matters much more than the other, a "
        "3 x 3 grid tries only 3 values of it, while 9 random trials try 9. Search coarse to "
        "fine: a few epochs over wide ranges first, then narrow the ranges around the best "
        "trials and train longer. Stop any trial whose loss passes 3x its first value. And "
        "if the best value sits at the edge of its range, the optimum may lie outside: widen "
        "the range. The objective: a softmax classifier on the digits.")
    ctx.digits()  # loaded before any worker starts
    executor = "serial" if ctx.quick else None
    opts = dict(metric="val_acc", mode="max", executor=executor, workers=2, progress=False)
    space = {"lr": LogUniform(1e-5, 10.0), "reg": LogUniform(1e-6, 1e-4)}
    rnd = random_search(_search_objective, space, 9, seed=0, fixed={"epochs": 2},
                        warn_edges=False, **opts)
    grd = grid_search(_search_objective, space, 3, fixed={"epochs": 2}, warn_edges=False, **opts)
    n_r = len({t.config["lr"] for t in rnd.trials})
    n_g = len({t.config["lr"] for t in grd.trials})
    best_r, best_g = rnd.best.metrics["val_acc"], grd.best.metrics["val_acc"]
    s.check("With 9 trials, random search tries 9 values of the hyperparameter that matters; "
            "a 3 x 3 grid tries 3.", f"random: {n_r} learning rates; grid: {n_g}",
            n_r == 9 and n_g == 3)
    s.check("So random search tends to find the better value.",
            f"best validation accuracy: random {best_r:.1%} (lr {rnd.best.config['lr']:.3g}), "
            f"grid {best_g:.1%} (lr {grd.best.config['lr']:.3g})", best_r >= best_g)
    narrow = {"lr": LogUniform(1e-6, 1e-2), "reg": LogUniform(1e-6, 1e-1)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EdgeWarning)
        rounds = coarse_to_fine(_search_objective, narrow, rounds=2, n_trials=[16, 10],
                                top_k=3, seed=0, fixed=[{"epochs": 1}, {"epochs": 3}], **opts)
    edges = [str(w.message) for w in caught if issubclass(w.category, EdgeWarning)]
    r1, r2 = rounds[0].space["lr"], rounds[-1].space["lr"]
    width = (math.log10(r1.high / r1.low), math.log10(r2.high / r2.low))
    s.check("Coarse to fine narrows the ranges around the best trials.",
            f"lr range [{r1.low:.2g}, {r1.high:.2g}] ({width[0]:.1f} decades) -> "
            f"[{r2.low:.2g}, {r2.high:.2g}] ({width[1]:.1f} decades); best "
            f"{rounds[0].best.metrics['val_acc']:.1%} -> {rounds[-1].best.metrics['val_acc']:.1%}",
            width[1] < width[0])
    s.check("A best value at the edge of its range is flagged: widen the range.",
            edges[0] if edges else "no EdgeWarning", any("lr" in e for e in edges))
    aborted = sum(t.status == "aborted" for r in (rnd, grd, *rounds) for t in r.trials)
    files = []
    for name, res in (("random", rnd), ("grid", grd), ("coarse", rounds[0]),
                      ("fine", rounds[-1])):
        res.to_csv(os.path.join(ctx.out, f"search_{name}.csv"))
        res.to_json(os.path.join(ctx.out, f"search_{name}.json"))
        files.append(f'<a href="search_{name}.csv">search_{name}.csv</a> '
                     f'(<a href="search_{name}.json">json</a>)')
    rows = [[t.id, f"{t.config['lr']:.3g}", f"{t.config['reg']:.3g}", t.status,
             _g(t.metrics.get("val_acc")), len(t.history)] for t in rnd.trials]
    s.add("<h3>Random search trials</h3>" + _table(
        ["trial", "lr", "reg", "status", "val_acc", "epochs run"], rows, "num")
        + f"<p>Tables: {', '.join(files)}. Trials stopped early (loss past 3x its first "
          f"value, or NaN): {aborted}.</p>")
    fig_r = viz.hyperparam_scatter(rnd, x="lr", y="reg", metric="val_acc")
    fig_g = viz.hyperparam_scatter(grd, x="lr", y="reg", metric="val_acc")
    s.add('<div class="row">' + _figure_block(fig_r, "Random search: 9 distinct learning rates.")
          + _figure_block(fig_g, "Grid search: 3 distinct learning rates.") + "</div>")
    fig = ctx.Figure(figsize=(6.5, 3.6))
    ax = fig.subplots()
    for i, res in enumerate(rounds):
        ok = [t for t in res.trials if t.status == "ok"]
        ax.scatter([t.config["lr"] for t in ok], [t.metrics["val_acc"] for t in ok],
                   label=f"round {i + 1}: lr in [{res.space['lr'].low:.2g}, "
                         f"{res.space['lr'].high:.2g}]")
    ax.axvline(narrow["lr"].high, color="grey", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("validation accuracy")
    ax.legend(fontsize=8)
    ax.set_title("coarse to fine, with a range that stops too low")
    s.add(_figure_block(fig, "Coarse to fine: the best learning rate presses against the "
                             "range's upper end (dashed), hence the edge warning."))
    s.numbers = {"random_best": best_r, "grid_best": best_g, "random_lrs": n_r,
                 "grid_lrs": n_g, "edge_warnings": edges, "aborted": aborted,
                 "ranges": [[r1.low, r1.high], [r2.low, r2.high]]}
    return s


# ============================================================ 9. monitoring


def _sec_monitoring(ctx):
    import viz

    from .monitor import Monitor, UpdateRatioWarning, watch_activations

    s = Section("monitoring", "9. Monitoring the learning process")
    s.intro = (
        "While a network trains, watch the loss (it should fall; flat at first means a bad "
        "init), the training and validation accuracy (a big gap means overfitting: more "
        "regularization; no gap at low accuracy means the model is too small), and the ratio "
        "of each weight update's size to the weight's size, which the lecture puts near 1e-3: "
        "far below, the learning rate is too low; far above, too high. The network: "
        "64-100-100-10 with ReLU and He init on the digits, SGD with momentum.")
    X, y, Xv, yv = ctx.digits()
    epochs = 4 if ctx.quick else 12
    model = _relu_model(seed=10)
    monitor = Monitor(model, warn=False)

    def on_epoch(epoch, loss):
        with watch_activations(model) as w:
            from .engine import Value
            from .function import no_grad

            with no_grad():
                model(Value(X, requires_grad=False))
        monitor.log_epoch(loss=loss, train_acc=_accuracy(model, X, y),
                          val_acc=_accuracy(model, Xv, yv), activations=w.last())

    _sgd_epochs(model, X, y, 0.01, epochs, monitor=monitor, on_epoch=on_epoch)
    h = monitor.history
    weights = [k for k in h.ratios if k.endswith("weight")]
    medians = {k: h.median_ratio(k) for k in weights}
    s.check("The loss falls.", f"first step {h.loss[0]:.3f}, last step {h.loss[-1]:.3f}",
            h.loss[-1] < 0.5 * h.loss[0])
    s.check("Updates are about 1e-3 of the weights (within a factor 10) at a good learning "
            "rate (0.01 here).",
            ", ".join(f"{k} {_g(v, 2)}" for k, v in medians.items()),
            all(1e-4 <= v <= 1e-2 for v in medians.values()))
    gap = h.train_acc[-1] - h.val_acc[-1]
    s.check("Training accuracy runs ahead of validation accuracy; the gap measures "
            "overfitting.", f"train {h.train_acc[-1]:.1%}, validation {h.val_acc[-1]:.1%}, "
            f"gap {gap:+.1%}", h.train_acc[-1] >= h.val_acc[-1])
    dead = {k: v[-1] for k, v in h.dead.items()}
    s.check("No ReLU layer dies at this learning rate.",
            ", ".join(f"ReLU '{k}' {v:.0%} dead" for k, v in dead.items()),
            all(v <= 0.02 for v in dead.values()))
    warned = {}
    for lr in (1e-5, 3.0):
        probe = _relu_model(seed=10)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UpdateRatioWarning)
            mon = Monitor(probe)
            Xs, ys = X[:256], y[:256]
            _sgd_epochs(probe, Xs, ys, lr, 1, monitor=mon)
        warned[lr] = [str(w.message) for w in caught
                      if issubclass(w.category, UpdateRatioWarning)]
    s.check("The monitor warns when the ratio is orders of magnitude off: too low at lr 1e-5, "
            "too high at lr 3.",
            f"lr 1e-5: {warned[1e-5][0] if warned[1e-5] else 'no warning'}; lr 3: "
            f"{warned[3.0][0] if warned[3.0] else 'no warning'}",
            any("too low" in w for w in warned[1e-5]) and any("too high" in w
                                                               for w in warned[3.0]))
    s.add('<div class="row">'
          + _figure_block(viz.loss_curve(h.loss, title="training loss per step"),
                          "Loss per step (thin) and its moving average (thick).")
          + _figure_block(viz.accuracy_plot(h.train_acc, h.val_acc, epochs=[e + 1 for e in
                                                                          h.epochs]),
                          "Training and validation accuracy per epoch, the gap shaded.")
          + "</div>")
    s.add('<div class="row">'
          + _figure_block(viz.update_ratio_plot({k: h.ratios[k] for k in weights}),
                          "Update-to-weight ratio per weight matrix and step; the band is "
                          "1e-4 to 1e-2.")
          + _figure_block(viz.grad_norm_plot({k: h.grad_norms[k] for k in weights}),
                          "Gradient norm per weight matrix and step.")
          + "</div>")
    fig = ctx.Figure(figsize=(6.4, 3.2))
    ax = fig.subplots()
    for k, v in h.dead.items():
        ax.plot([e + 1 for e in h.epochs], v, "o-", label=f"ReLU '{k}'")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("epoch")
    ax.set_ylabel("fraction of dead units")
    ax.legend(fontsize=8)
    s.add(_figure_block(fig, "Dead fraction of each ReLU layer per epoch (all training "
                             "examples)."))
    s.numbers = {"median_ratios": medians, "train_acc": h.train_acc, "val_acc": h.val_acc,
                 "dead": dead, "warnings": {str(k): v for k, v in warned.items()}}
    return s


SECTIONS = (
    ("backprop", _sec_backprop),
    ("activations", _sec_activations),
    ("dead-relu", _sec_dead_relu),
    ("preprocessing", _sec_preprocessing),
    ("weight-init", _sec_weight_init),
    ("batch-norm", _sec_batch_norm),
    ("babysitting", _sec_babysitting),
    ("search", _sec_search),
    ("monitoring", _sec_monitoring),
)


# ============================================================ the page


_CSS = """
body { font-family: Helvetica, Arial, sans-serif; max-width: 1200px; margin: 0 auto;
       padding: 16px 24px; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0; } .sub { color: #666; margin-top: 4px; }
h2 { border-bottom: 2px solid #3182bd; padding-bottom: 4px; margin-top: 48px; }
h3 { margin-bottom: 6px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; }
th { background: #f0f4f8; text-align: left; }
table.num td { font-variant-numeric: tabular-nums; }
table.small td, table.small th { font-size: 12px; padding: 3px 5px; }
table.checks td.claim { width: 45%; }
.pass { color: #1a7f37; font-weight: bold; } .fail { color: #cf222e; font-weight: bold; }
td.verdict { white-space: nowrap; }
figure { margin: 12px 0; } figcaption { color: #555; font-size: 13px; max-width: 900px; }
img.fig { max-width: 100%; height: auto; border: 1px solid #eee; }
.row { display: flex; flex-wrap: wrap; gap: 12px; } .row figure { flex: 1 1 420px; }
.svgwrap { overflow-x: auto; border: 1px solid #eee; padding: 4px; }
.svgwrap svg { max-width: 100%; height: auto; }
iframe.anim { width: 100%; height: 720px; border: 1px solid #ccc; }
.intro { background: #f7f9fb; border-left: 4px solid #3182bd; padding: 8px 12px; }
.error { background: #fff0f0; border-left: 4px solid #cf222e; padding: 8px 12px; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 12px; }
.time { color: #888; font-size: 12px; }
"""


def _checks_table(checks) -> str:
    rows = "".join(
        f'<tr><td class="verdict"><span class="{"pass" if c.passed else "fail"}">'
        f'{"PASS" if c.passed else "FAIL"}</span></td><td class="claim">{_esc(c.claim)}</td>'
        f"<td>{_esc(c.measured)}</td></tr>" for c in checks)
    return ('<table class="checks"><thead><tr><th>verdict</th><th>the lecture says</th>'
            f"<th>measured</th></tr></thead><tbody>{rows}</tbody></table>")


def _page(sections, quick, seconds) -> str:
    from . import __version__

    n_checks = sum(len(s.checks) for s in sections)
    n_pass = sum(c.passed for s in sections for c in s.checks)
    n_err = sum(bool(s.error) for s in sections)
    summary_rows = "".join(
        f'<tr><td><a href="#{s.key}">{_esc(s.title)}</a></td>'
        f'<td>{"error" if s.error else f"{sum(c.passed for c in s.checks)}/{len(s.checks)}"}'
        f"</td><td>{s.seconds:.1f} s</td></tr>" for s in sections)
    body = []
    for s in sections:
        parts = [f'<section id="{s.key}"><h2>{_esc(s.title)}</h2>',
                 f'<p class="intro">{_esc(s.intro)}</p>']
        if s.checks:
            parts.append("<h3>Verdicts</h3>" + _checks_table(s.checks))
        parts.extend(s.blocks)
        if s.error:
            parts.append(f'<div class="error"><b>This section failed:</b>{_pre(s.error)}</div>')
        parts.append(f'<p class="time">{s.seconds:.1f} s</p></section>')
        body.append("\n".join(parts))
    mode = "quick mode (smaller experiments)" if quick else "full mode"
    verdict = "pass" if n_pass == n_checks and not n_err else "fail"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tinygrad_lite: Training Neural Networks I, measured</title>
<style>{_CSS}</style>
</head>
<body>
<h1>Training Neural Networks I, measured</h1>
<p class="sub">Every claim of CS231n lecture 6, run on built-in data with tinygrad_lite
{_esc(__version__)} (numpy {_esc(np.__version__)}, Python {_esc(platform.python_version())}),
{mode}, in {seconds:.0f} s.</p>
<p><span class="{verdict}">{n_pass} of {n_checks} checks pass</span>{
    f', <span class="fail">{n_err} sections failed</span>' if n_err else ''}.</p>
<table><thead><tr><th>section</th><th>checks passed</th><th>time</th></tr></thead>
<tbody>{summary_rows}</tbody></table>
{"".join(body)}
</body>
</html>
"""


def _require_extras():
    missing = []
    for mod, pkg in (("matplotlib", "matplotlib"), ("graphviz", "graphviz"), ("viz", "viz"),
                     ("sklearn", "scikit-learn")):
        try:
            __import__(mod)
        except ImportError:
            missing.append(pkg)
    if missing:
        raise MissingExtraError(
            f"report: needs {', '.join(missing)}, which cannot be imported; install the viz and "
            f"data extras: pip install 'tinygrad_lite[viz,data]' (from a clone: pip install -e "
            f"'.[viz,data]')")
    try:
        from viz.render import find_dot

        find_dot()
    except Exception as e:  # noqa: BLE001 - any failure to find a renderer
        raise MissingExtraError(f"report: no Graphviz renderer ({e}); install the viz extra, "
                                f"which brings graphviz-pure: pip install 'tinygrad_lite[viz]'")


@contextlib.contextmanager
def _one_blas_thread():
    """Small matrices: one BLAS thread avoids threads spinning against each other."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def build_report(out="report", quick=False, progress=True, sections=None) -> str:
    """Run the experiments and write out/index.html; returns the path of index.html.

    quick: smaller experiments (for CI: well under a minute). progress: one line per section
    on stderr. sections: a list of section keys to run (default: all, in the lecture's order;
    see SECTIONS). A section that raises is shown with its traceback; the others still run.
    Also writes out/results.json (every check and number) and out/backprop.html.
    """
    _require_extras()
    import matplotlib

    matplotlib.use("Agg")  # no window, whatever the environment says
    os.makedirs(out, exist_ok=True)
    ctx = _Context(out, quick)
    chosen = [(k, fn) for k, fn in SECTIONS if sections is None or k in sections]
    if sections is not None:
        unknown = set(sections) - {k for k, _ in SECTIONS}
        if unknown:
            raise ValueError(f"build_report: unknown sections {sorted(unknown)}; choose from "
                             f"{[k for k, _ in SECTIONS]}")

    def say(text):
        if progress:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    done = []
    start = time.perf_counter()
    say(f"tinygrad-lite report: {len(chosen)} sections, {'quick' if quick else 'full'} mode, "
        f"writing {os.path.join(out, 'index.html')}")
    with _one_blas_thread():
        for i, (key, fn) in enumerate(chosen, 1):
            t0 = time.perf_counter()
            say(f"[{i}/{len(chosen)}] {key} ...")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # overflow is the point
                    sec = fn(ctx)
            except Exception:  # noqa: BLE001 - shown in the report, the rest goes on
                sec = Section(key, dict(_TITLES).get(key, key), error=traceback.format_exc())
            sec.seconds = time.perf_counter() - t0
            done.append(sec)
            passed = sum(c.passed for c in sec.checks)
            status = "ERROR" if sec.error else f"{passed}/{len(sec.checks)} checks pass"
            say(f"[{i}/{len(chosen)}] {key}: {status} ({sec.seconds:.1f} s)")
            for c in sec.checks:
                if not c.passed:
                    say(f"    FAIL {c.claim} -- {c.measured}")
    seconds = time.perf_counter() - start
    page = _page(done, quick, seconds)
    path = os.path.join(out, "index.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    results = {"quick": quick, "seconds": seconds,
               "sections": [{"key": s.key, "title": s.title, "seconds": s.seconds,
                             "error": s.error, "checks": [c.to_dict() for c in s.checks],
                             "numbers": s.numbers} for s in done]}
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(_clean(results), f, indent=1, allow_nan=False, default=_json_default)
    n_pass = sum(c.passed for s in done for c in s.checks)
    n_checks = sum(len(s.checks) for s in done)
    say(f"done in {seconds:.0f} s: {n_pass}/{n_checks} checks pass; open {path}")
    return path


_TITLES = (("backprop", "1. Backpropagation through a neuron"),
           ("activations", "2. Activation functions"), ("dead-relu", "3. Dead ReLUs"),
           ("preprocessing", "4. Data preprocessing"), ("weight-init", "5. Weight initialization"),
           ("batch-norm", "6. Batch normalization"),
           ("babysitting", "7. Babysitting the learning process"),
           ("search", "8. Hyperparameter search"),
           ("monitoring", "9. Monitoring the learning process"))


def _clean(x):
    """Plain JSON data: numpy to Python, NaN and inf to None."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    return str(o)
