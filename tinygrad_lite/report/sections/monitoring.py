"""9. Monitoring: loss, train/val gap, update-to-weight ratios, dead units, the warnings."""
from __future__ import annotations

from ...experiments.common import Split
from ...experiments.dead_relu import make_model
from ...experiments.monitoring import train_monitored
from ..context import Context
from ..html import fmt
from ..registry import Section, section

INTRO = (
    "While a network trains, watch the loss (it should fall; flat at first means a bad init), "
    "the training and validation accuracy (a big gap means overfitting: more regularization; "
    "no gap at low accuracy means the model is too small), and the ratio of each weight "
    "update's size to the weight's size, which the lecture puts near 1e-3: far below, the "
    "learning rate is too low; far above, too high. The network: 64-100-100-10 with ReLU and "
    "He init on the digits, SGD with momentum.")


@section("monitoring", "9. Monitoring the learning process", INTRO)
def build(ctx: Context, s: Section) -> None:
    import viz

    data = ctx.digits()
    run = train_monitored(make_model(seed=10), data, 0.01, 3 if ctx.quick else 12,
                          momentum=0.9, warn=False)
    h = run.history
    medians = run.median_ratios()
    s.check("The loss falls.", f"first step {h.loss[0]:.3f}, last step {h.loss[-1]:.3f}",
            h.loss[-1] < 0.5 * h.loss[0])
    s.check("Updates are about 1e-3 of the weights (within a factor 10) at a good learning "
            f"rate ({run.lr:g} here).", ", ".join(f"{k} {fmt(v, 2)}" for k, v in medians.items()),
            all(v is not None and 1e-4 <= v <= 1e-2 for v in medians.values()))
    train, val = h.train_acc[-1], h.val_acc[-1]
    s.check("Training accuracy runs ahead of validation accuracy; the gap measures overfitting.",
            f"train {train:.1%}, validation {val:.1%}, gap {run.gap:+.1%}", run.gap >= 0)
    dead = {k: v[-1] for k, v in h.dead.items()}
    s.check("No ReLU layer dies at this learning rate.",
            ", ".join(f"ReLU '{k}' {v:.0%} dead" for k, v in dead.items()),
            all(v <= 0.02 for v in dead.values()))
    warned = {}
    small = Split(data.X_train[:256], data.y_train[:256], data.X_val, data.y_val)
    for lr in (1e-5, 3.0):
        warned[lr] = train_monitored(make_model(seed=10), small, lr, 1, momentum=0.9).warnings
    s.check("The monitor warns when the ratio is orders of magnitude off: too low at lr 1e-5, "
            "too high at lr 3.",
            f"lr 1e-5: {warned[1e-5][0] if warned[1e-5] else 'no warning'}; lr 3: "
            f"{warned[3.0][0] if warned[3.0] else 'no warning'}",
            any("too low" in w for w in warned[1e-5])
            and any("too high" in w for w in warned[3.0]))
    epochs = [e + 1 for e in h.epochs]
    s.add('<div class="row">'
          + ctx.figure(viz.loss_curve(h.loss, title="training loss per step"),
                       "Loss per step (thin) and its moving average (thick).")
          + ctx.figure(viz.accuracy_plot(h.train_acc, h.val_acc, epochs=epochs),
                       "Training and validation accuracy per epoch, the gap shaded.")
          + "</div>")
    s.add('<div class="row">'
          + ctx.figure(viz.update_ratio_plot({k: h.ratios[k] for k in run.weights}),
                       "Update-to-weight ratio per weight matrix and step; the band is 1e-4 to "
                       "1e-2.")
          + ctx.figure(viz.grad_norm_plot({k: h.grad_norms[k] for k in run.weights}),
                       "Gradient norm per weight matrix and step.")
          + "</div>")
    fig = ctx.Figure(figsize=(6.4, 3.2))
    ax = fig.subplots()
    for k, v in h.dead.items():
        ax.plot(epochs, v, "o-", label=f"ReLU '{k}'")
    ax.set(ylim=(-0.05, 1.05), xlabel="epoch", ylabel="fraction of dead units")
    ax.legend(fontsize=8)
    s.add(ctx.figure(fig, "Dead fraction of each ReLU layer per epoch (all training examples)."))
    s.numbers = {"median_ratios": medians, "train_acc": h.train_acc, "val_acc": h.val_acc,
                 "dead": dead, "warnings": {str(k): v for k, v in warned.items()}}
