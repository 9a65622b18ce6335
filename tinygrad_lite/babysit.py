"""Babysitting the learning process: the lecture's checklist as functions with verdicts.

Before a long training run, CS231n lecture 6 checks, in this order:

1. ``check_initial_loss``: with small weights and no regularization every class scores about
   the same, so the softmax loss starts near ln C (the hinge loss near (C - 1) * margin).
   Far off means a bug in the loss or the initialization.
2. ``check_regularization``: adding a regularization term must raise the loss.
3. ``check_overfit``: a tiny subset (20 examples) with no regularization must reach 100%
   training accuracy; a network that cannot memorize 20 examples has a bug.
4. ``lr_probe``: a few steps at each learning rate. Too low: the loss barely moves. Too high:
   the loss turns NaN or inf, or passes 3x its first value (stopped early). Reasonable: the
   loss falls.

``babysit`` runs them in that order and returns a :class:`BabysitReport`. Every check returns
a :class:`Verdict` holding its numbers.

The model protocol (no nn needed)::

    model      a callable X -> scores (N, C), with parameters: an nn.Module, or a tuple
               (forward, params) where params is a list or dict of Values
    make_model a zero-argument callable returning a fresh model (overfit and the probe train
               from scratch; seed inside it for repeatable runs)
    loss       "softmax", "svm" (multiclass hinge, margin 1) or a callable(scores, y) -> Value

Regularization is L2 on the weights (parameters with ndim >= 2, not biases):
``0.5 * reg * sum(W ** 2)``. Training here is plain SGD (with optional momentum) in full
batches or minibatches, enough for the checks.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field

import numpy as np

from . import functional as F
from ._json import to_jsonable
from .engine import Value
from .function import no_grad
from .monitor import named_params

__all__ = [
    "Verdict", "BabysitReport", "TrainRun", "expected_initial_loss", "l2_penalty", "train",
    "accuracy", "check_initial_loss", "check_regularization", "check_overfit", "lr_probe",
    "classify_run", "babysit",
]


# ============================================================ verdicts


@dataclass
class Verdict:
    """The outcome of one check: its status, the lecture's claim, and the measured numbers.

    check    the check's name ("initial loss", "regularization", "overfit", "learning rate")
    status   "pass" / "fail"; for a learning-rate run "too low", "too high" or "reasonable"
    passed   True when the check passed (a learning-rate run: when it is reasonable)
    claim    what the lecture expects, in one sentence
    numbers  the measured values, by name
    message  one sentence with the numbers
    history  the loss per step where the check trained (else empty)
    """

    check: str
    status: str
    passed: bool
    claim: str
    numbers: dict = field(default_factory=dict)
    message: str = ""
    history: list = field(default_factory=list)

    def __str__(self):
        return f"[{self.status.upper()}] {self.check}: {self.message}"

    def to_dict(self) -> dict:
        """Plain JSON-able data; NaN and inf become None."""
        return to_jsonable({"check": self.check, "status": self.status, "passed": self.passed,
                            "claim": self.claim, "numbers": self.numbers,
                            "message": self.message, "history": self.history})


@dataclass
class BabysitReport:
    """Every verdict of a babysitting session, in the lecture's order.

    verdicts         list of Verdict (the learning-rate probe contributes one per rate)
    reasonable_lrs   the probed learning rates whose runs were reasonable
    passed           the three sanity checks passed and some learning rate was reasonable
    """

    verdicts: list

    @property
    def reasonable_lrs(self) -> list:
        return [v.numbers["lr"] for v in self.verdicts
                if v.check == "learning rate" and v.status == "reasonable"]

    @property
    def passed(self) -> bool:
        sanity = [v for v in self.verdicts if v.check != "learning rate"]
        return all(v.passed for v in sanity) and bool(self.reasonable_lrs)

    def __getitem__(self, check: str) -> Verdict:
        """The first verdict of a check by name (e.g. report["overfit"])."""
        for v in self.verdicts:
            if v.check == check:
                return v
        raise KeyError(f"BabysitReport: no check named {check!r}; have "
                       f"{sorted({v.check for v in self.verdicts})}")

    def __str__(self):
        lines = [str(v) for v in self.verdicts]
        lrs = ", ".join(f"{lr:g}" for lr in self.reasonable_lrs) or "none"
        lines.append(f"reasonable learning rates: {lrs}; overall: "
                     f"{'PASS' if self.passed else 'FAIL'}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "reasonable_lrs": self.reasonable_lrs,
                "verdicts": [v.to_dict() for v in self.verdicts]}


# ============================================================ the model protocol


def _unpack(model, who):
    """(forward, params dict) from an nn.Module, a (forward, params) tuple, or a callable."""
    if isinstance(model, tuple):
        if len(model) != 2 or not callable(model[0]):
            raise TypeError(f"{who}: a model tuple must be (forward, params), got {len(model)} "
                            f"items")
        return model[0], named_params(model[1])
    if not callable(model):
        raise TypeError(f"{who}: model must be callable (X -> scores), an nn.Module, or a tuple "
                        f"(forward, params); got {type(model).__name__}")
    if hasattr(model, "named_parameters") or hasattr(model, "parameters"):
        src = model if hasattr(model, "named_parameters") else list(model.parameters())
        return model, named_params(src)
    return model, None


def _loss_fn(loss, margin=1.0):
    if callable(loss):
        return loss
    if loss == "softmax":
        return F.softmax_cross_entropy
    if loss == "svm":
        return lambda scores, y: F.svm_loss(scores, y, margin=margin)
    raise ValueError(f"babysit: loss must be 'softmax', 'svm' or a callable, got {loss!r}")


def _n_classes(y, n_classes):
    return int(n_classes) if n_classes is not None else int(np.max(y)) + 1


def expected_initial_loss(loss: str, n_classes: int, margin: float = 1.0) -> float:
    """The loss of a network whose class scores are all equal.

    softmax: ln C (every class gets probability 1/C); svm: (C - 1) * margin.
    """
    if n_classes < 2:
        raise ValueError(f"expected_initial_loss: needs at least 2 classes, got {n_classes}")
    if loss == "softmax":
        return math.log(n_classes)
    if loss == "svm":
        return (n_classes - 1) * margin
    raise ValueError(f"expected_initial_loss: loss must be 'softmax' or 'svm', got {loss!r}")


def l2_penalty(params, reg: float) -> Value:
    """L2 regularization of the weights (ndim >= 2; biases are left out).

    R = 0.5 * reg * sum over weights W of sum(W ** 2)
    Shapes: any parameters -> a scalar Value.
    """
    total = Value(0.0, requires_grad=False)
    for p in named_params(params).values():
        if p.ndim >= 2:
            total = total + (p * p).sum()
    return total * (0.5 * reg)


def accuracy(scores, y) -> float:
    """Fraction of rows whose highest score is the label. Shapes: scores (N, C), y (N,)."""
    s = np.asarray(scores.data if isinstance(scores, Value) else scores)
    return float(np.mean(np.argmax(s, axis=1) == np.asarray(y)))


# ============================================================ training


@dataclass
class TrainRun:
    """What ``train`` did: losses and accuracies per step, and why it stopped.

    losses      the minibatch loss (data + regularization) before each update
    train_acc   the minibatch accuracy before each update
    stopped     "" when every step ran; "aborted: ..." when the loss went non-finite or
                passed abort_factor x the first loss; "target" when target_acc was reached
    """

    losses: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    stopped: str = ""

    @property
    def aborted(self) -> bool:
        return self.stopped.startswith("aborted")


def train(model, X, y, *, lr: float, steps: int, loss="softmax", reg: float = 0.0,
          batch_size: int | None = None, momentum: float = 0.0, rng=0,
          abort_factor: float | None = 3.0, target_acc: float | None = None,
          target_loss: float | None = None, monitor=None, margin: float = 1.0) -> TrainRun:
    """Plain SGD on (X, y) for ``steps`` updates; the model's parameters change in place.

    v = momentum * v - lr * dL/dW;  W += v        (L = data loss + l2_penalty(params, reg))
    Shapes: X (N, ...), y (N,) integer labels.

    batch_size None: full batch. abort_factor: stop when the loss is NaN/inf or exceeds
    abort_factor x the first loss (None: only non-finite stops). target_acc, target_loss:
    stop once a batch's accuracy is at least target_acc and its loss at most target_loss
    (either may be None). monitor: a monitor.Monitor, stepped around each update.
    """
    forward, params = _unpack(model, "train")
    if not params:
        raise TypeError("train: the model has no parameters; pass an nn.Module or "
                        "(forward, params)")
    loss_fn = _loss_fn(loss, margin)
    X = np.asarray(X)
    y = np.asarray(y)
    n = len(X)
    gen = np.random.default_rng(rng)
    vel = {k: np.zeros_like(p.data) for k, p in params.items()}
    run = TrainRun()
    order = np.arange(n)
    pos = n
    with np.errstate(all="ignore"):  # a too-high learning rate overflows: that is the point
        for step in range(int(steps)):
            if batch_size is None or batch_size >= n:
                Xb, yb = X, y
            else:
                if pos + batch_size > n:
                    order, pos = gen.permutation(n), 0
                idx = order[pos:pos + batch_size]
                pos += batch_size
                Xb, yb = X[idx], y[idx]
            for p in params.values():
                p.zero_grad()
            scores = forward(Value(Xb, requires_grad=False))
            data_loss = loss_fn(scores, yb)
            total = data_loss + l2_penalty(params, reg) if reg else data_loss
            value = float(total.item())
            run.losses.append(value)
            run.train_acc.append(accuracy(scores, yb))
            first = run.losses[0]
            if not math.isfinite(value):
                run.stopped = f"aborted: loss is {value} at step {step}"
                break
            if abort_factor is not None and first > 0 and value > abort_factor * first:
                run.stopped = (f"aborted: loss {value:.4g} at step {step} exceeds "
                               f"{abort_factor:g}x the first loss {first:.4g}")
                break
            if (target_acc is not None or target_loss is not None) and \
                    (target_acc is None or run.train_acc[-1] >= target_acc) and \
                    (target_loss is None or value <= target_loss):
                run.stopped = "target"
                break
            total.backward()
            if monitor is not None:
                monitor.before_step()
            for k, p in params.items():
                if p.grad is None:
                    continue
                vel[k] = momentum * vel[k] - lr * p.grad
                p.data = p.data + vel[k]
            if monitor is not None:
                monitor.after_step(loss=value)
    return run


# ============================================================ the checks


def _scores_and_loss(model, X, y, loss, margin, who):
    forward, params = _unpack(model, who)
    with no_grad():
        scores = forward(Value(np.asarray(X), requires_grad=False))
        value = _loss_fn(loss, margin)(scores, np.asarray(y))
    return forward, params, float(value.item())


def check_initial_loss(model, X, y, *, loss="softmax", n_classes: int | None = None,
                       tol: float | None = None, margin: float = 1.0) -> Verdict:
    """Is the loss of the untrained model (no regularization) near its expected value?

    expected = ln C (softmax) or (C - 1) * margin (svm); pass when |loss - expected| <= tol
    Shapes: X (N, ...), y (N,). tol: None means 5% of the expected value.
    """
    if callable(loss):
        raise ValueError("check_initial_loss: needs loss='softmax' or 'svm' to know the "
                         "expected value")
    c = _n_classes(y, n_classes)
    expected = expected_initial_loss(loss, c, margin)
    tol = 0.05 * expected if tol is None else float(tol)
    _, _, value = _scores_and_loss(model, X, y, loss, margin, "check_initial_loss")
    diff = abs(value - expected)
    ok = diff <= tol
    formula = f"ln({c})" if loss == "softmax" else f"({c} - 1) * {margin:g}"
    claim = (f"With small weights and no regularization all {c} class scores are about equal, "
             f"so the {loss} loss starts near {formula} = {expected:.4g}.")
    msg = (f"initial loss {value:.4f}, expected {formula} = {expected:.4f}: off by {diff:.3g} "
           f"({'within' if ok else 'outside'} the tolerance {tol:.3g})")
    return Verdict("initial loss", "pass" if ok else "fail", ok, claim,
                   {"loss": value, "expected": expected, "difference": diff, "tolerance": tol,
                    "n_classes": c}, msg)


def check_regularization(model, X, y, *, reg: float = 1e3, loss="softmax",
                         margin: float = 1.0) -> Verdict:
    """Does adding L2 regularization raise the loss?

    loss_reg = loss + 0.5 * reg * sum(W ** 2); pass when loss_reg > loss
    Shapes: X (N, ...), y (N,).
    """
    _, params, value = _scores_and_loss(model, X, y, loss, margin, "check_regularization")
    if not params:
        raise TypeError("check_regularization: the model has no parameters; pass an nn.Module "
                        "or (forward, params)")
    with no_grad():
        penalty = float(l2_penalty(params, reg).item())
    with_reg = value + penalty
    ok = with_reg > value
    claim = "Adding a regularization term to the data loss must make the loss go up."
    msg = (f"loss {value:.4f} without regularization, {with_reg:.4f} with reg={reg:g} "
           f"({'up' if ok else 'not up'} by {with_reg - value:.4g})")
    return Verdict("regularization", "pass" if ok else "fail", ok, claim,
                   {"loss": value, "loss_with_reg": with_reg, "reg": reg,
                    "increase": with_reg - value}, msg)


def check_overfit(make_model, X, y, *, n: int = 20, steps: int = 300, lr: float = 0.1,
                  momentum: float = 0.9, loss="softmax", target_acc: float = 1.0,
                  target_loss: float | None = 0.05, margin: float = 1.0) -> Verdict:
    """Can a fresh model reach 100% training accuracy on the first n examples, reg = 0?

    Trains full-batch SGD on X[:n], y[:n] for up to ``steps`` updates, stopping once the
    accuracy reaches target_acc and the loss is down to target_loss (the loss near 0 is what
    memorizing looks like); pass when the accuracy reaches target_acc.
    Shapes: X (N, ...), y (N,) with N >= n.
    """
    if len(X) < n:
        raise ValueError(f"check_overfit: needs at least n={n} examples, got {len(X)}")
    model = make_model()
    Xs, ys = np.asarray(X)[:n], np.asarray(y)[:n]
    run = train(model, Xs, ys, lr=lr, steps=steps, loss=loss, reg=0.0, momentum=momentum,
                abort_factor=None, target_acc=target_acc, target_loss=target_loss,
                margin=margin)
    forward, _ = _unpack(model, "check_overfit")
    final_loss, acc = _evaluate(forward, Xs, ys, loss, margin)
    ok = acc >= target_acc
    claim = (f"A network that works can memorize a tiny training set: {n} examples, no "
             f"regularization, {target_acc:.0%} training accuracy and a loss near 0.")
    msg = (f"{n} examples: training accuracy {acc:.0%} after {len(run.losses)} steps at "
           f"lr={lr:g}; loss {run.losses[0]:.4f} -> {final_loss:.4f}")
    return Verdict("overfit", "pass" if ok else "fail", ok, claim,
                   {"n": n, "train_acc": acc, "steps": len(run.losses), "lr": lr,
                    "initial_loss": run.losses[0], "final_loss": final_loss}, msg,
                   list(run.losses))


def _evaluate(forward, X, y, loss, margin):
    """(data loss, accuracy) of the whole set, without recording a graph."""
    with no_grad(), np.errstate(all="ignore"):
        scores = forward(Value(np.asarray(X), requires_grad=False))
        value = float(_loss_fn(loss, margin)(scores, np.asarray(y)).item())
    return value, accuracy(scores, y)


def classify_run(first: float, last: float, aborted: bool = False,
                 min_drop: float = 0.01) -> str:
    """"too high", "too low" or "reasonable" for a learning-rate run.

    too high:   aborted (NaN/inf, or past the abort factor), or the loss ended above where it
                started, or is not finite
    too low:    the loss fell by less than min_drop (a fraction) of its first value
    reasonable: otherwise
    """
    if aborted or not (math.isfinite(first) and math.isfinite(last)):
        return "too high"
    if last > first:
        return "too high"
    if first - last < min_drop * abs(first):
        return "too low"
    return "reasonable"


def lr_probe(make_model, X, y, lrs=(1e-6, 1e-3, 1e-1, 1e6), *, steps: int = 50,
             reg: float = 1e-6, batch_size: int | None = None, momentum: float = 0.0,
             loss="softmax", abort_factor: float = 3.0, min_drop: float = 0.01, rng=0,
             margin: float = 1.0) -> list[Verdict]:
    """Train a fresh model for a few steps at each learning rate and call each run.

    Each run: ``steps`` SGD updates with a small reg, stopped early when a step's loss is
    NaN/inf or passes abort_factor x the first step's loss. The data loss on all of (X, y)
    before and after decides, as in classify_run (minibatch losses are too noisy for it).
    Shapes: X (N, ...), y (N,). Returns one Verdict per learning rate, in order.
    """
    out = []
    for lr in lrs:
        model = make_model()
        forward, _ = _unpack(model, "lr_probe")
        first, _ = _evaluate(forward, X, y, loss, margin)
        run = train(model, X, y, lr=lr, steps=steps, loss=loss, reg=reg,
                    batch_size=batch_size, momentum=momentum, rng=rng,
                    abort_factor=abort_factor, margin=margin)
        last, acc = _evaluate(forward, X, y, loss, margin)
        status = classify_run(first, last, run.aborted, min_drop)
        if run.aborted:
            msg = f"lr={lr:g}: stopped, {run.stopped[len('aborted: '):]}"
        else:
            msg = (f"lr={lr:g}: loss {first:.4f} -> {last:.4f} in {len(run.losses)} steps "
                   f"({(first - last) / abs(first):+.2%} drop)")
        claim = {"too low": "Too low a learning rate barely moves the loss.",
                 "too high": "Too high a learning rate makes the loss explode: NaN, inf, or "
                             f"past {abort_factor:g}x its first value.",
                 "reasonable": "A reasonable learning rate makes the loss fall."}[status]
        out.append(Verdict("learning rate", status, status == "reasonable", claim,
                           {"lr": lr, "first_loss": first, "last_loss": last,
                            "steps": len(run.losses), "aborted": run.aborted,
                            "train_acc": acc}, msg, list(run.losses)))
    return out


def babysit(make_model, X, y, *, loss="softmax", n_classes: int | None = None,
            reg: float = 1e3, overfit_n: int = 20, overfit_steps: int = 300,
            overfit_lr: float = 0.1, lrs=(1e-6, 1e-4, 1e-2, 1.0, 1e6), probe_steps: int = 50,
            probe_reg: float = 1e-6, batch_size: int | None = None,
            initial_tol: float | None = None, margin: float = 1.0,
            progress: bool = True) -> BabysitReport:
    """Run the lecture's checklist in order on a fresh model from make_model().

    1. initial loss (no regularization) near ln C / (C - 1) * margin
    2. regularization (reg) raises the loss
    3. overfit the first overfit_n examples (no regularization) to 100%
    4. probe each learning rate in lrs for probe_steps steps with a small reg
    Shapes: X (N, ...), y (N,). progress: one line per check on stderr.
    """
    def say(text):
        if progress:
            sys.stderr.write(f"babysit: {text}\n")
            sys.stderr.flush()

    verdicts = []
    model = make_model()
    say("1/4 initial loss")
    verdicts.append(check_initial_loss(model, X, y, loss=loss, n_classes=n_classes,
                                       tol=initial_tol, margin=margin))
    say("2/4 regularization raises the loss")
    verdicts.append(check_regularization(model, X, y, reg=reg, loss=loss, margin=margin))
    say(f"3/4 overfit {overfit_n} examples")
    verdicts.append(check_overfit(make_model, X, y, n=overfit_n, steps=overfit_steps,
                                  lr=overfit_lr, loss=loss, margin=margin))
    say(f"4/4 learning-rate probe ({len(lrs)} rates)")
    verdicts.extend(lr_probe(make_model, X, y, lrs, steps=probe_steps, reg=probe_reg,
                             batch_size=batch_size, loss=loss, margin=margin))
    report = BabysitReport(verdicts)
    for v in verdicts:
        say(str(v))
    return report
