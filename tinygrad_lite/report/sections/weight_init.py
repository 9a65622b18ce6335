"""5. Weight initialization: activation statistics per scheme and layer, gradients, a graph."""
from __future__ import annotations

import numpy as np

from ... import nn
from ...experiments.common import sgd_epochs
from ...experiments.weight_init import (
    SCHEMES,
    compare_schemes,
    saturated_tanh_net,
    weight_grad_norms,
)
from ..context import Context
from ..html import fmt, table
from ..registry import Section, section

INTRO = (
    "Ten layers of 500 units on 1000 unit-gaussian inputs. With weights of std 0.01 every layer "
    "multiplies the activations' spread by about 0.22, so by layer 10 they have collapsed "
    "toward 0, and so have the gradients of the weights (they are proportional to the inputs "
    "of each layer). With std 1.0 the pre-activations are huge, tanh sits at +-1 and its "
    "gradient is 0. Xavier (std 1/sqrt(fan_in)) keeps the variance from layer to layer for "
    "tanh. ReLU zeroes half of its inputs, so with Xavier the variance halves at every layer; "
    "He (std sqrt(2/fan_in)) makes up for that factor of 2.")


@section("weight-init", "5. Weight initialization", INTRO)
def build(ctx: Context, s: Section) -> None:
    import viz

    width = 250 if ctx.quick else 500  # quick: layers of 250 units (a quarter of the work)
    r = compare_schemes(n_examples=200 if ctx.quick else 1000, width=width)
    if ctx.quick:
        s.add(f"<p>Quick mode: layers of {width} units, {len(r.inputs)} examples.</p>")
    std = {name: r.std(name) for name in r.stats}
    s.add("<h3>Activation std per layer</h3>" + table(
        ["scheme"] + [f"L{i}" for i in range(1, 11)],
        [[k] + [fmt(x, 2) for x in v] for k, v in std.items()], "num small"))
    s.check("std 0.01: the activations collapse toward 0 (layer 10's std below 1e-3 of "
            "layer 1's).", f"layer 10 / layer 1 = {fmt(r.collapse)}", r.collapse < 1e-3)
    sat = r.saturated("tanh, std 1.0")
    s.check("std 1.0: tanh saturates (most units in the flat tails, |f'| < 0.01, in every layer).",
            f"saturated fraction per layer from {min(sat):.0%} to {max(sat):.0%}",
            min(sat) > 0.5)
    xav = std["tanh, Xavier"]
    xav_sat = max(r.saturated("tanh, Xavier")[1:])
    s.check("Xavier keeps a spread with tanh: neither collapsed nor saturated.",
            f"std from {xav[0]:.2f} (layer 1) to {xav[-1]:.2f} (layer 10); saturated at most "
            f"{xav_sat:.1%} past layer 1", xav[-1] > 0.1 and xav_sat < 0.05)
    ratio = r.relu_xavier_variance_ratio
    s.check("ReLU with Xavier halves the variance at every layer.",
            f"mean variance ratio between consecutive layers {ratio:.3f}", 0.4 < ratio < 0.6)
    s.check("ReLU with He keeps it: every layer's std within a factor 2 of layer 1's.",
            f"largest factor {r.he_spread:.2f}", r.he_spread < 2.0)

    shown = list(range(1, 10, 2)) if ctx.quick else list(range(10))  # quick: layers 2, 4, ..
    fig = ctx.Figure(figsize=(15 * len(shown) / 10 + 1.5 * ctx.quick, 8.5))
    axes = fig.subplots(len(r.stats), len(shown))
    for row, (name, layer_stats) in enumerate(r.stats.items()):
        for col, layer in enumerate(shown):
            st = layer_stats[layer]
            ax = axes[row, col]
            ax.stairs(st.hist, st.bin_edges, fill=True,
                      color="tab:blue" if name.startswith("tanh") else "tab:orange")
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            ax.set_title(f"L{layer + 1} std {st.std:.2g}", fontsize=7)
            if name.startswith("ReLU"):  # cut the spike at 0 so that the rest shows
                ax.set_ylim(0, 1.1 * max(st.hist[1:].max(), 1))
            if col == 0:
                ax.set_ylabel(name, fontsize=8)
    fig.subplots_adjust(left=0.05 + 0.04 * ctx.quick, right=0.99, bottom=0.04, top=0.95,
                        wspace=0.25, hspace=0.7)
    which = "every second layer's" if ctx.quick else "every layer's"
    s.add(ctx.figure(fig, f"Histograms of {which} activations (rows: schemes; ReLU rows cut "
                          "the spike at 0, which holds half the units).", dpi=78,
                     tight=False))
    fig = ctx.Figure(figsize=(6.5, 3.6))
    ax = fig.subplots()
    for name, v in std.items():
        ax.semilogy(range(1, 11), v, "o-", label=name)
    ax.set(xlabel="layer", ylabel="activation std", title="std per layer")
    ax.legend(fontsize=8)
    s.add(ctx.figure(fig, "The same, one line per scheme (log scale)."))

    # the weights' gradients collapse with the activations (std 0.01 against Xavier)
    grad_norms = weight_grad_norms(r.inputs[:200], width=width)
    small_g = np.array(grad_norms["tanh, std 0.01"])
    xav_g = np.array(grad_norms["tanh, Xavier"])
    s.check("std 0.01: the weights' gradients collapse too (every layer's below 1e-4 of "
            "Xavier's).", f"||dL/dW|| per layer: {fmt(small_g.min())} to {fmt(small_g.max())} "
            f"with std 0.01, {fmt(xav_g.min())} to {fmt(xav_g.max())} with Xavier",
            np.all(small_g < 1e-4 * xav_g))
    fig = ctx.Figure(figsize=(6.5, 3.4))
    ax = fig.subplots()
    for name, norms in grad_norms.items():
        ax.semilogy(range(1, 11), norms, "o-", label=name)
    ax.set(xlabel="layer", ylabel="||dL/dW||",
           title="weight gradient norm per layer (softmax loss, 200 examples)")
    ax.legend(fontsize=8)
    s.add(ctx.figure(fig, "With std 0.01 the gradient of every weight matrix is about a "
                          "millionth of what Xavier gives: nothing learns."))

    loss, net = saturated_tanh_net()
    s.add(ctx.graph(viz.draw_graph(loss, params=net, title="tanh net, std 1.0 init",
                                   rankdir="TB"),
                    "A small tanh network initialized with std 1.0, on a batch of 32: its tanh "
                    "layers are marked orange for saturated units, where the local gradient is "
                    "nearly 0."))

    # the two tanh nets over training time: one explorer each (pages beside index.html)
    steps = 3 if ctx.quick else 20
    X64 = r.inputs[:64]
    y64 = np.random.default_rng(2).integers(0, 10, len(X64))
    recs = {}
    for scheme in ("tanh, std 0.01", "tanh, Xavier"):
        make = SCHEMES[scheme][1]
        layers: list[nn.Module] = []
        for i in range(10):
            layers += [nn.Linear(X64.shape[1] if i == 0 else width, width, init=make, rng=i),
                       nn.Tanh()]
        rec = recs[scheme] = viz.Recorder(nn.Sequential(*layers,
                                                        nn.Linear(width, 10, init=make,
                                                                  rng=10)))
        sgd_epochs(rec.model, X64, y64, 0.01, steps, batch_size=64, monitor=rec)
        rec.close()
    scale = _common_range(recs.values())  # one colour scale: the two pages compare
    first_grad = {k: rec.series("1 tanh #0", "grad_norm") for k, rec in recs.items()}
    for (scheme, rec), name in zip(recs.items(), ("explore_init_std001.html",
                                                  "explore_init_xavier.html"), strict=True):
        s.attach(name, viz.explore(rec, title=f"10 x {width} {scheme}, step by step",
                                   grad_range=scale).html,
                 title=f"{scheme}: the gradients over {steps} SGD steps",
                 text=f"Ten tanh layers of {width} units ({scheme}), one batch of 64, every step "
                      f"recorded; both pages share one colour scale. The heat map on the right "
                      f"shows each op's gradient at each step; the first tanh layer's gradient "
                      f"norm is {fmt(first_grad[scheme][0])} at the first step and "
                      f"{fmt(first_grad[scheme][-1])} at the last.", embed=True)
    s.numbers = {"std": {k: v.tolist() for k, v in std.items()}, "saturated_std1": sat,
                 "relu_xavier_variance_ratio": ratio, "weight_grad_norms": grad_norms,
                 "he_spread": r.he_spread, "explorer_first_tanh_grad": first_grad}


def _common_range(recs) -> tuple | None:
    """The gradient RMS range spanning every Recorder's own (one colour scale for all)."""
    ranges = [r for r in (rec.grad_rms_range() for rec in recs) if r is not None]
    if not ranges:
        return None
    return min(r[0] for r in ranges), max(r[1] for r in ranges)
