"""6. Batch normalization: a bad init, the learning-rate range, training against evaluation."""
from __future__ import annotations

from ...experiments.batch_norm import (
    bad_init,
    batch_dependence,
    lr_sweep,
    make_model,
    small_init,
)
from ...experiments.common import Split, sgd_epochs
from ..context import Context
from ..html import fmt, table
from ..registry import Section, section

INTRO = (
    "Batch norm makes each feature's pre-activations zero-mean and unit-variance over the "
    "batch, then lets the network scale and shift them back (gamma, beta) if that helps. The "
    "activations keep a healthy spread whatever the weights' scale, so a network trains from an "
    "initialization that would otherwise stall, and tolerates a wider range of learning rates. "
    "In training the statistics come from the current batch, so an example's output depends on "
    "the rest of its batch; at test time fixed running averages from training are used "
    "instead. The network: 6 hidden tanh layers of 100 units on the digits.")


@section("batch-norm", "6. Batch normalization", INTRO)
def build(ctx: Context, s: Section) -> None:
    data = ctx.digits()
    if ctx.quick:  # 800 of the 1438 training digits: every check still holds, in half the time
        data = Split(data.X_train[:800], data.y_train[:800], data.X_val, data.y_val)
    epochs = 2 if ctx.quick else 3
    bad = bad_init(data, epochs, lr=0.05)
    s.check("With a bad init (std 0.01) the plain network does not train; with batch norm the "
            "same init trains.",
            f"validation accuracy {bad.plain_acc:.1%} plain (loss {bad.plain_losses[0]:.3f} -> "
            f"{bad.plain_losses[-1]:.3f}) against {bad.bn_acc:.1%} with batch norm (loss "
            f"{bad.bn_losses[0]:.3f} -> {bad.bn_losses[-1]:.3f})",
            bad.plain_acc < 0.3 and bad.bn_acc > 0.7)
    sweep = lr_sweep(data, epochs)
    good = sweep.good_lrs
    s.add("<h3>Validation accuracy per learning rate (Xavier init)</h3>" + table(
        ["network"] + [f"lr {lr:g}" for lr in sweep.lrs],
        [[k] + [f"{a:.0%}" for a in v] for k, v in sweep.accs.items()], "num"))
    s.check("Batch norm trains over a wider range of learning rates.",
            f"trains (validation accuracy >= 50%) at {len(good['batch norm'])} of "
            f"{len(sweep.lrs)} rates with batch norm, {len(good['plain'])} without",
            len(good["batch norm"]) > len(good["plain"]))
    shift = batch_dependence(bad.bn_model, data.X_val)
    s.check("In training mode an example's output depends on its batch; in evaluation mode "
            "(running statistics) it does not.",
            f"one example in two different batches: outputs differ by {fmt(shift.train_shift)} "
            f"in training mode, {fmt(shift.eval_shift)} in evaluation mode",
            shift.train_shift > 1e-3 and shift.eval_shift == 0.0)

    fig = ctx.Figure(figsize=(10, 3.5))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(bad.plain_losses, label="plain")
    ax1.plot(bad.bn_losses, label="batch norm")
    ax1.set(title="std 0.01 init: training loss", xlabel="step")
    ax1.legend(fontsize=8)
    for name, accs in sweep.accs.items():
        ax2.semilogx(sweep.lrs, accs, "o-", label=name)
    ax2.set(ylim=(0, 1), xlabel="learning rate", title="Xavier init: validation accuracy")
    ax2.legend(fontsize=8)
    s.add(ctx.figure(fig, "Left: a bad init stalls without batch norm. Right: the range of "
                          "learning rates that train."))

    # the first epoch of both bad-init runs again, every step recorded: one explorer each
    import viz

    runs = {}
    for normed, label in ((False, "plain"), (True, "batch norm")):
        rec = runs[label] = viz.Recorder(make_model(batch_norm=normed, weight_init=small_init))
        sgd_epochs(rec.model, data.X_train, data.y_train, 0.05, 1, monitor=rec)
        rec.close()
    ranges = [r for r in (rec.grad_rms_range() for rec in runs.values()) if r is not None]
    scale = (min(r[0] for r in ranges), max(r[1] for r in ranges)) if ranges else None
    for (label, rec), name in zip(runs.items(), ("explore_bn_plain.html",
                                                 "explore_bn_normalized.html"), strict=True):
        s.attach(name, viz.explore(rec, title=f"std 0.01 init, {label}: first epoch",
                                   grad_range=scale).html,
                 title=f"std 0.01 init, {label}: the gradients step by step",
                 text=f"The first epoch ({len(rec.steps)} SGD steps) of the {label} network "
                      f"above, every step recorded; both pages share one colour scale. Move "
                      f"the slider or press play; the heat map shows each op's gradient at "
                      f"each step.", embed=True)
    s.numbers = {"bad_init_acc": {"plain": bad.plain_acc, "batch norm": bad.bn_acc},
                 "lrs": sweep.lrs, "sweep": sweep.accs, "train_shift": shift.train_shift,
                 "eval_shift": shift.eval_shift}
