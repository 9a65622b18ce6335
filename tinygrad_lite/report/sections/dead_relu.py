"""3. Dead ReLUs: dead fraction per layer and epoch at three learning rates; their gradient."""
from __future__ import annotations

from ...experiments.common import sgd_epochs
from ...experiments.dead_relu import compare_learning_rates, gradient_into_dead, make_model
from ..context import Context
from ..html import fmt, table
from ..registry import Section, section

INTRO = (
    "A ReLU unit whose input is negative for every example outputs 0 for all of them; its "
    "local gradient is then 0 everywhere, no gradient reaches its weights, and nothing ever "
    "brings it back. A bad initialization can start units dead; more often a learning rate "
    "that is too high throws a unit's weights off the data with one big update. Here one "
    "network (64-100-100-10, He init) is trained on the digits at a sane learning rate and at "
    "two that are too high; the dead fraction of each ReLU layer is measured on the whole "
    "training set after every epoch.")

SANE, HIGH, FAR = "sane (lr 0.01)", "too high (lr 0.3)", "far too high (lr 1.0)"
#: on the 80% training split, 0.2 kills few units within 3 epochs; 0.3 kills many
LEARNING_RATES = {SANE: 0.01, HIGH: 0.3, FAR: 1.0}


@section("dead-relu", "3. Dead ReLUs", INTRO)
def build(ctx: Context, s: Section) -> None:
    import viz

    X, y, _, _ = ctx.digits()
    runs = compare_learning_rates(X, y, epochs=3, lrs=LEARNING_RATES)  # 3 epochs kill enough
    layers = list(runs[SANE].dead)
    rows = [[name, f"{run.lr:g}"] + [f"{run.dead[k]:.0%}" for k in layers]
            + [f"{run.train_acc:.1%}"] for name, run in runs.items()]
    s.add("<h3>Dead units after training</h3>" + table(
        ["run", "learning rate"] + [f"dead in ReLU '{k}'" for k in layers]
        + ["training accuracy"], rows, "num"))
    sane, high, far = (max(runs[k].dead.values()) for k in (SANE, HIGH, FAR))
    s.check("A sane learning rate leaves (almost) no unit dead.",
            f"largest dead fraction at lr {runs[SANE].lr:g}: {sane:.0%}", sane <= 0.02)
    s.check("Too high a learning rate kills a large part of a layer.",
            f"largest dead fraction: {high:.0%} at lr {runs[HIGH].lr:g}, {far:.0%} at lr "
            f"{runs[FAR].lr:g}", high >= 0.2 and far >= 0.5)

    # a dead unit gets exactly zero gradient: measured on one batch of the too-high run
    model = runs[HIGH].model
    dead = gradient_into_dead(model, X[:64], y[:64])
    s.check("A dead unit receives no gradient at all.",
            f"{dead.n_dead} units of ReLU '3' dead on a batch of 64; largest |dL/dW| into "
            f"them: {fmt(dead.max_grad or 0.0)}", dead.n_dead > 0 and dead.max_grad == 0)
    s.add(ctx.graph(viz.draw_graph(dead.loss, params=model,
                                   title=f"ReLU net after lr {runs[HIGH].lr:g}", rankdir="TB"),
                    f"The ReLU network trained at lr {runs[HIGH].lr:g}, on a batch of 64 digits: "
                    "the second ReLU layer is marked red for its units that are dead on every "
                    "example of this batch (the strip shows them unit by unit); the gradient "
                    "that reaches them is zero."))

    fig = ctx.Figure(figsize=(10, 3.4))
    axes = fig.subplots(1, len(layers), sharey=True)
    for (name, run), colour in zip(runs.items(), ("tab:green", "tab:orange", "tab:red"),
                                   strict=True):
        for ax, layer in zip(axes, layers, strict=True):
            ax.plot(run.history.epochs, run.history.dead[layer], "o-", color=colour,
                    label=name)
            ax.set(title=f"ReLU '{layer}': fraction of dead units",
                   xlabel="epoch (0 = at init)")
    axes[0].set_ylim(-0.05, 1.05)
    axes[0].legend(fontsize=8)
    s.add(ctx.figure(fig, "Dead fraction per epoch, measured on all training examples."))

    # the too-high run once more, every step recorded (same init, batches and updates); quick
    # mode records its first epoch only
    rec = viz.Recorder(make_model(0))
    recorded = 1 if ctx.quick else 3
    sgd_epochs(rec.model, X, y, runs[HIGH].lr, recorded, momentum=0.9, batch_size=64,
               monitor=rec)
    rec.close()
    on_batch = rec.series("3 relu #0", "dead")
    s.attach("explore_dead_relu.html",
             viz.explore(rec, title=f"ReLU net at lr {runs[HIGH].lr:g}, step by step").html,
             title="Units dying, step by step",
             text=f"The run at lr {runs[HIGH].lr:g}, every SGD step of its first {recorded} "
                  f"epoch(s) recorded: move the slider or "
                  f"press play to watch the gradient reaching each layer and the units of ReLU "
                  f"'3' dying (dead on each step's batch of 64: {on_batch[0]:.0%} at the first "
                  f"step, {on_batch[-1]:.0%} at the last). Click a node for its numbers.",
             embed=True)
    s.numbers = {"final": {name: {"lr": run.lr, "dead": run.dead, "train_acc": run.train_acc}
                           for name, run in runs.items()},
                 "series": {name: run.history.dead for name, run in runs.items()},
                 "dead_on_batch": dead.n_dead, "grad_into_dead": dead.max_grad,
                 "explorer_dead_per_step": on_batch}
