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

Run:  python examples/batch_norm.py [--quick] [--out DIR]
"""
import argparse
import os

import numpy as np

from tinygrad_lite import Value, nn, no_grad, optim
import tinygrad_lite.functional as F
import tinygrad_lite.init as init
from tinygrad_lite.data import Standardize, load_digits, minibatches, train_val_split


def small_init(shape, rng=None):
    """The lecture's "small random numbers": W ~ N(0, 0.01^2)."""
    return init.normal(shape, std=0.01, rng=rng)


def make_model(batch_norm, weight_init, depth=6, width=100):
    """depth x (Linear [-> BatchNorm1d] -> Tanh), then Linear to 10 classes."""
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


def accuracy(model, X, y):
    """Accuracy in evaluation mode (running statistics), without a graph."""
    model.eval()
    with no_grad():
        scores = model(Value(X, requires_grad=False))
    model.train()
    return float(np.mean(scores.data.argmax(axis=1) == y))


def train(model, X, y, lr, epochs):
    """SGD with momentum 0.9, batches of 64; returns the loss of every step."""
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    rng = np.random.default_rng(0)
    losses = []
    with np.errstate(all="ignore"):  # a too-high learning rate overflows: that is the point
        for epoch in range(epochs):
            for Xb, yb in minibatches(X, y, 64, rng=rng):
                scores = model(Value(Xb, requires_grad=False))
                loss = F.softmax_cross_entropy(scores, yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
    return losses


def plot(curves, sweep, lrs, path):
    """Left: loss curves with the bad init. Right: validation accuracy per learning rate."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    fig = Figure(figsize=(10, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    for name, losses in curves.items():
        ax1.plot(losses, label=name)
    ax1.set_title("W ~ N(0, 0.01^2): training loss")
    ax1.set_xlabel("step")
    ax1.legend(fontsize=8)
    for name, accs in sweep.items():
        ax2.semilogx(lrs, accs, "o-", label=name)
    ax2.set_title("Xavier init: validation accuracy after training")
    ax2.set_xlabel("learning rate")
    ax2.set_ylim(0, 1)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return fig


def main(quick=False, out="figures"):
    """Run the three experiments; returns their numbers."""
    X, y = load_digits()
    X = Standardize().fit_transform(X)
    X_train, y_train, X_val, y_val = train_val_split(X, y, 0.2, rng=0)
    epochs = 2 if quick else 3
    lrs = [1e-3, 1e-2, 1e-1, 1.0, 3.0]

    # 1. a bad init, with and without batch norm
    plain = make_model(batch_norm=False, weight_init=small_init)
    plain_losses = train(plain, X_train, y_train, lr=0.05, epochs=epochs)
    plain_acc = accuracy(plain, X_val, y_val)
    normed = make_model(batch_norm=True, weight_init=small_init)
    normed_losses = train(normed, X_train, y_train, lr=0.05, epochs=epochs)
    normed_acc = accuracy(normed, X_val, y_val)
    print("claim: with a bad init the plain network does not train, the batch-normalized one does")
    print(f"measured (W ~ N(0, 0.01^2), lr 0.05, {epochs} epochs): plain loss "
          f"{plain_losses[0]:.3f} -> {plain_losses[-1]:.3f}, validation accuracy {plain_acc:.1%}; "
          f"with batch norm {normed_losses[0]:.3f} -> {normed_losses[-1]:.3f}, {normed_acc:.1%}")

    # 2. the learning-rate range
    sweep = {"plain": [], "batch norm": []}
    for lr in lrs:
        for name in sweep:
            model = make_model(batch_norm=(name == "batch norm"), weight_init="xavier")
            train(model, X_train, y_train, lr=lr, epochs=epochs)
            sweep[name].append(accuracy(model, X_val, y_val))
    # "trains": validation accuracy at least 50% (chance is 10%)
    good = {name: [lr for lr, a in zip(lrs, accs) if a >= 0.5] for name, accs in sweep.items()}
    print()
    print("claim: batch norm trains over a wider range of learning rates")
    for name, accs in sweep.items():
        row = "  ".join(f"{lr:g}: {a:.0%}" for lr, a in zip(lrs, accs))
        print(f"measured {name:>10}: {row}  -> trains (>= 50%) at {len(good[name])} rates")

    # 3. training mode against evaluation mode, on the batch-normalized model of part 1
    example = X_val[:1]
    batch_a = np.concatenate([example, X_val[1:64]])
    batch_b = np.concatenate([example, X_val[64:127]])
    normed.eval()
    with no_grad():
        eval_a = normed(Value(batch_a, requires_grad=False)).data[0]
        eval_b = normed(Value(batch_b, requires_grad=False)).data[0]
    normed.train()
    with no_grad():
        train_a = normed(Value(batch_a, requires_grad=False)).data[0]
        train_b = normed(Value(batch_b, requires_grad=False)).data[0]
    eval_shift = float(np.abs(eval_a - eval_b).max())
    train_shift = float(np.abs(train_a - train_b).max())
    print()
    print("claim: in training an example's output depends on its batch; in evaluation it does not")
    print(f"measured: the same example in two batches differs by {train_shift:.3g} in training "
          f"mode, {eval_shift:.3g} in evaluation mode")

    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (pip install tinygrad_lite[viz]): no figure")
    else:
        os.makedirs(out, exist_ok=True)
        figure = os.path.join(out, "batch_norm.png")
        curves = {"plain": plain_losses, "batch norm": normed_losses}
        plot(curves, sweep, lrs, figure)
        print(f"figure: {figure}")
    return {"bad_init": {"plain_acc": plain_acc, "bn_acc": normed_acc,
                         "plain_losses": plain_losses, "bn_losses": normed_losses},
            "lrs": lrs, "sweep": sweep, "good_lrs": good,
            "train_shift": train_shift, "eval_shift": eval_shift, "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (CI)")
    parser.add_argument("--out", default="figures", help="folder for the figure")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out)
