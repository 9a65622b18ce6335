"""Batch normalization: it trains where a bad init does not, over a wider range of learning
rates, and it behaves differently in training and in evaluation.

A deep tanh network (6 hidden layers of 100 units) on the digits:

1. With W ~ N(0, 0.01^2) the activations shrink layer after layer (see weight_init.py) and the
   gradients with them: the loss stays near ln 10. Put a BatchNorm1d after every Linear and
   every layer's pre-activations are rescaled to zero mean and unit variance per feature, so
   the same bad init trains.
2. With Xavier init, sweep the learning rate: the batch-normalized network trains (at least
   50% validation accuracy, chance being 10%) at more learning rates than the plain one.
3. In training, batch norm uses the statistics of the current batch, so an example's output
   depends on the other examples of its batch. In evaluation it uses the running averages
   gathered in training: a fixed function of each example.

The experiments are tinygrad_lite.experiments.batch_norm; this script prints and plots them.

Run:  python examples/batch_norm.py [--quick] [--out DIR]
"""
import argparse
import os

from tinygrad_lite.experiments.batch_norm import TRAINS, bad_init, batch_dependence, lr_sweep
from tinygrad_lite.experiments.common import digits_split, one_blas_thread


def plot(curves, sweep, lrs, path):
    """Left: loss curves with the bad init. Right: validation accuracy per learning rate."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    fig = Figure(figsize=(10, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    for (name, losses), dash in zip(curves.items(), ("-", "--"), strict=True):
        ax1.plot(losses, linestyle=dash, label=name)
    ax1.set_title("W ~ N(0, 0.01^2): training loss")
    ax1.set_xlabel("step")
    ax1.legend(fontsize=8)
    for (name, accs), (marker, dash, size) in zip(sweep.items(), (("o", "-", 9), ("s", "--", 5)),
                                                  strict=True):
        ax2.semilogx(lrs, accs, marker=marker, linestyle=dash, markersize=size,
                     markerfacecolor="none", label=name)  # open markers: both show where equal
    ax2.axhline(TRAINS, color="grey", linestyle=":", label=f"trains (>= {TRAINS:.0%})")
    ax2.set_title("Xavier init: validation accuracy after training")
    ax2.set_xlabel("learning rate")
    ax2.set_ylim(0, 1)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return fig


def main(quick=False, out="figures"):
    """Run the three experiments; returns their numbers."""
    data = digits_split()  # standardized with the training split's mean and std
    epochs = 1 if quick else 3

    # 1. a bad init, with and without batch norm
    bad = bad_init(data, epochs, lr=0.05)
    print("claim: with a bad init the plain network does not train, the batch-normalized one does")
    print(f"measured (W ~ N(0, 0.01^2), lr 0.05, epochs {epochs}): plain loss "
          f"{bad.plain_losses[0]:.3f} -> {bad.plain_losses[-1]:.3f}, validation accuracy "
          f"{bad.plain_acc:.1%}; with batch norm {bad.bn_losses[0]:.3f} -> "
          f"{bad.bn_losses[-1]:.3f}, {bad.bn_acc:.1%}")

    # 2. the learning-rate range
    sweep = lr_sweep(data, epochs)
    good = sweep.good_lrs
    print()
    print("claim: batch norm trains over a wider range of learning rates")
    for name, accs in sweep.accs.items():
        row = "  ".join(f"{lr:g}: {a:.0%}" for lr, a in zip(sweep.lrs, accs, strict=True))
        print(f"measured {name:>10}: {row}  -> trains (>= 50%) at {len(good[name])} rates")

    # 3. training mode against evaluation mode, on the batch-normalized model of part 1
    shift = batch_dependence(bad.bn_model, data.X_val)
    print()
    print("claim: in training an example's output depends on its batch; in evaluation it does not")
    print(f"measured: the same example in two batches differs by {shift.train_shift:.3g} in "
          f"training mode, {shift.eval_shift:.3g} in evaluation mode")

    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (from a clone: pip install -e \".[viz]\"; "
              "from a wheel: pip install \"tinygrad_lite[viz]\"): no figure")
    else:
        os.makedirs(out, exist_ok=True)
        figure = os.path.join(out, "batch_norm.png")
        curves = {"plain": bad.plain_losses, "batch norm": bad.bn_losses}
        plot(curves, sweep.accs, sweep.lrs, figure)
        print(f"figure: {figure}")
    return {"bad_init": {"plain_acc": bad.plain_acc, "bn_acc": bad.bn_acc,
                         "plain_losses": bad.plain_losses, "bn_losses": bad.bn_losses},
            "lrs": sweep.lrs, "sweep": sweep.accs, "good_lrs": good,
            "train_shift": shift.train_shift, "eval_shift": shift.eval_shift, "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (CI)")
    parser.add_argument("--out", default="figures", help="folder for the figure")
    args = parser.parse_args()
    with one_blas_thread():  # small matrices: a second BLAS thread only waits for a core
        main(quick=args.quick, out=args.out)
