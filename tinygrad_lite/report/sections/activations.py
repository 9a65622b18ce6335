"""2. Activation functions: local gradients, saturation, and the zig-zag of positive inputs."""
from __future__ import annotations

import numpy as np

from ...experiments.activations import gradient_curves, gradients_at, zigzag_experiment
from ..context import Context
from ..html import fmt, table
from ..registry import Section, section

INTRO = (
    "Sigmoid squashes to (0, 1) and tanh to (-1, 1); both are flat far from 0, so a saturated "
    "unit multiplies its upstream gradient by almost nothing and the layers below stop "
    "learning. Sigmoid's gradient is at most 0.25 even at its best. ReLU does not saturate for "
    "x > 0, but passes no gradient for x < 0: a unit stuck there is dead. Leaky ReLU and ELU "
    "keep some gradient on the negative side. Sigmoid outputs are also all positive: a neuron "
    "fed only positive inputs gets a gradient whose components all share one sign, so its "
    "weights can only all grow or all shrink together, and reaching a target with mixed signs "
    "takes a zig-zag path.")


@section("activations", "2. Activation functions", INTRO)
def build(ctx: Context, s: Section) -> None:
    grads = gradients_at((-10.0, 0.0, 10.0))
    s.add("<h3>Local gradient at x = -10, 0, 10</h3>" + table(
        ["activation", "x = -10", "x = 0", "x = 10"],
        [[k] + [fmt(g) for g in v] for k, v in grads.items()], "num"))
    sig, tanh, relu = grads["sigmoid"], grads["tanh"], grads["relu"]
    s.check("Sigmoid and tanh saturate: almost no gradient at x = +-10.",
            f"sigmoid {fmt(sig[0])} and {fmt(sig[2])}, tanh {fmt(tanh[0])} and {fmt(tanh[2])}",
            max(sig[0], sig[2], tanh[0], tanh[2]) < 1e-4)
    s.check("Sigmoid's gradient is at most 0.25 (at x = 0); tanh's is 1 there.",
            f"sigmoid'(0) = {fmt(sig[1])}, tanh'(0) = {fmt(tanh[1])}",
            abs(sig[1] - 0.25) < 1e-12 and abs(tanh[1] - 1) < 1e-12)
    s.check("ReLU passes nothing for x < 0 and everything for x > 0; leaky ReLU keeps a small "
            "slope for x < 0.",
            f"relu' = {fmt(relu[0])} at -10, {fmt(relu[2])} at 10; leaky "
            f"{fmt(grads['leaky_relu'][0])} at -10",
            relu[0] == 0 and relu[2] == 1 and grads["leaky_relu"][0] > 0)

    zig = zigzag_experiment(steps=100 if ctx.quick else 300)
    pos, cen = "all-positive inputs", "zero-centred inputs"
    s.check("With all-positive inputs every update moves both weights in the same direction; "
            "with zero-centred inputs they can move apart.",
            f"same-sign updates: {zig.same_sign[pos]:.0%} (positive) against "
            f"{zig.same_sign[cen]:.0%} (zero-centred)",
            zig.same_sign[pos] == 1.0 and zig.same_sign[cen] < 0.8)
    s.check("So the weights zig-zag toward a target with mixed signs.",
            f"path walked / straight distance: {zig.zigzag[pos]:.2f} (positive) against "
            f"{zig.zigzag[cen]:.2f} (zero-centred)", zig.zigzag[pos] > zig.zigzag[cen])

    fig = ctx.Figure(figsize=(11, 3.8))
    ax1, ax2 = fig.subplots(1, 2)
    xs = np.linspace(-10, 10, 401)
    for name, grad in gradient_curves(xs).items():
        ax1.plot(xs, grad, label=name)
    ax1.set(title="local gradient f'(x)", xlabel="x")
    ax1.legend(fontsize=8)
    for (name, path), colour in zip(zig.paths.items(), ("tab:red", "tab:green"), strict=True):
        ax2.plot(path[:, 0], path[:, 1], ".-", color=colour, ms=3, lw=0.8, label=name)
    ax2.plot(*zig.w_true, "k*", ms=12, label="target w*")
    ax2.set(title="SGD path of a neuron's two weights", xlabel="w1", ylabel="w2")
    ax2.legend(fontsize=8)
    s.add(ctx.figure(fig, "Left: the gradient each activation passes back. Right: per-example "
                          "SGD on a linear neuron, from (0, 0) to w* = (1, -1)."))
    s.numbers = {"grads": grads, "same_sign_positive": zig.same_sign[pos],
                 "same_sign_centred": zig.same_sign[cen], "zigzag_positive": zig.zigzag[pos],
                 "zigzag_centred": zig.zigzag[cen]}
