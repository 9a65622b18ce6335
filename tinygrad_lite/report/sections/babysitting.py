"""7. Babysitting the learning process: the checklist's verdicts and its training runs."""
from __future__ import annotations

import math

import numpy as np

from ...experiments.babysitting import checklist
from ..context import Context
from ..html import table
from ..registry import Section, section

INTRO = (
    "Before a long run, check cheaply that learning can work, in this order. With small "
    "weights and no regularization all 10 scores are about equal, so the softmax loss starts "
    "at ln 10 = 2.30. Adding regularization must raise the loss. The network must be able to "
    "overfit a tiny subset (20 examples, no regularization) to 100% training accuracy. Then, "
    "with a little regularization, look for a learning rate: one that is too low barely moves "
    "the loss (1e-6), one that is too high makes it explode (1e6: NaN, inf, or past 3x its "
    "first value, where the run is stopped). The network: 64-50-10 with ReLU and std 0.01 "
    "weights, on the digits.")


@section("babysitting", "7. Babysitting the learning process", INTRO)
def build(ctx: Context, s: Section) -> None:
    X, y, _, _ = ctx.digits()
    if ctx.quick:
        X, y = X[:500], y[:500]
    report = checklist(X, y)
    s.add("<h3>The babysitting run, in order</h3>" + table(
        ["check", "verdict", "measured"],
        [[v.check, v.status.upper(), v.message] for v in report.verdicts], "verdicts"))
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
    ax1.set(title=f"overfitting 20 examples ({over_v.numbers['train_acc']:.0%} accuracy)",
            xlabel="step", ylabel="loss")
    for lr, v in probes.items():
        h = np.array(v.history, dtype=float)
        ax2.plot(np.where(np.isfinite(h), h, np.nan), label=f"lr {lr:g}: {v.status}")
    ax2.set_yscale("log")
    ax2.set(xlabel="step", title="learning-rate probe: loss per step")
    ax2.legend(fontsize=8)
    s.add(ctx.figure(fig, "The 20-example overfit, and each learning rate's loss per step (a "
                          "run that explodes stops after its first bad step)."))
    s.numbers = report.to_dict()
