"""Training plots from the lecture, with matplotlib: every function returns a Figure.

Figures are matplotlib Figures made without pyplot: nothing is ever shown, no global state
changes, and ``fig.savefig(path)`` writes PNG/SVG/PDF. In Jupyter a returned figure, as a
cell's last expression, displays as an image with no ``%matplotlib`` magic (see
viz.figure.Figure). matplotlib is imported on the first plot, not at ``import viz``.

Inputs are plain: lists, arrays and dicts of name -> list, as ``tinygrad_lite.monitor``'s
``History`` holds them (``history.loss``, ``history.ratios``, ``history.grad_norms``,
``history.train_acc``, ``history.val_acc``), and ``SearchResult.records()`` from tune.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # matplotlib loads on the first plot, not at ``import viz``
    from matplotlib.figure import Figure

__all__ = ["activation_histograms", "loss_curve", "accuracy_plot", "update_ratio_plot",
           "grad_norm_plot", "hyperparam_scatter"]

TARGET_RATIO = 1e-3
NAME_LIMIT = 60  # characters of a series, layer or hyperparameter name shown in a plot
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
DASHES = ("-", "--", "-.", ":")


def _text(name, limit: int = NAME_LIMIT) -> str:
    """A name as matplotlib shows it literally: ``$`` escaped (no mathtext), control
    characters visible, one line, at most ``limit`` characters."""
    from .escape import one_line, shorten

    return shorten(one_line(name), limit).replace("$", r"\$")


def _style(i: int, n: int) -> dict:
    """Line style of series ``i`` of ``n``: its own marker and dash pattern, so that a line
    hidden under another still shows its markers (placed apart from its neighbours')."""
    return {"marker": MARKERS[i % len(MARKERS)], "linestyle": DASHES[i % len(DASHES)],
            "markersize": 5, "markevery": (i / max(n, 1) / 10, 0.1), "markerfacecolor": "none"}


def _coinciding(runs: dict) -> list[tuple[str, str]]:
    """Pairs of series (by name) with the same values: drawn over each other."""
    items = [(k, v) for k, v in runs.items() if len(v) and np.isfinite(v).any()]
    pairs = []
    for i, (a, ya) in enumerate(items):
        for b, yb in items[i + 1:]:
            if len(ya) == len(yb) and np.allclose(ya, yb, rtol=1e-9, atol=0.0, equal_nan=True):
                pairs.append((a, b))
    return pairs


def _note_coinciding(ax, runs: dict) -> None:
    """Say under the plot which series coincide (one line hides the other)."""
    pairs = _coinciding(runs)
    if not pairs:
        return
    said = "; ".join(f"{_text(a or 'series', 30)} and {_text(b or 'series', 30)}"
                     for a, b in pairs[:4])
    more = f" (and {len(pairs) - 4} more pairs)" if len(pairs) > 4 else ""
    ax.annotate(f"Identical series, drawn on top of each other: {said}{more}",
                (0.0, 0.0), xycoords="axes fraction", xytext=(0, -30),
                textcoords="offset points", ha="left", va="top", fontsize=8,
                color="#b2182b", annotation_clip=False)


def _figure(**kwargs: Any) -> Figure:
    """A new Figure (no pyplot) that Jupyter shows inline; matplotlib is imported here."""
    from .figure import Figure

    return Figure(**kwargs)


def _series(values, what) -> np.ndarray:
    """A 1-D float array from a list (None becomes nan) or a Value/array."""
    if hasattr(values, "data") and not isinstance(values, np.ndarray):
        values = values.data
    arr = np.array([np.nan if v is None else float(np.asarray(getattr(v, "data", v)))
                    for v in np.ravel(np.asarray(values, dtype=object))], dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{what}: expected a 1-D sequence, got shape {arr.shape}")
    return arr


def _named(series, what) -> dict:
    """name -> 1-D array, from a dict of sequences or one sequence (named "")."""
    if isinstance(series, dict):
        return {str(k): _series(v, what) for k, v in series.items()}
    return {"": _series(series, what)}


def _smooth(y: np.ndarray, window: int) -> np.ndarray:
    """Moving average over ``window`` points (nan ignored), same length as y."""
    ok = np.isfinite(y)
    c = np.cumsum(np.where(ok, y, 0.0))
    n = np.cumsum(ok)
    c = np.concatenate([[0.0], c])
    n = np.concatenate([[0], n])
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(idx - window, 0)
    cnt = n[idx] - n[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, (c[idx] - c[lo]) / np.maximum(cnt, 1), np.nan)


# -- activations ---------------------------------------------------------------------------------
def activation_histograms(activations, bins: int = 50, range=None, cols: int = 10) -> Figure:
    """Per-layer activation histograms with each layer's mean and std (the weight-init figure).

    mean_l = mean(a_l), std_l = std(a_l) per layer l, plotted against l on top; below, one
    histogram per layer titled with its mean and std.
    activations: dict name -> activations (ndarray or Value of any shape, e.g. (N, D)), or a
    list of such arrays (named 1, 2, ...), or monitor.ActivationStats (dict or list), whose
    stored histograms are drawn as they are. range: the x range of every histogram (None:
    each layer's own; tanh-like data in [-1, 1] usually wants (-1, 1)).
    """
    items = _activation_items(activations)
    if not items:
        raise ValueError("activation_histograms: no layers given")
    n = len(items)
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    fig = _figure(figsize=(max(6.0, 1.9 * cols), 2.6 + 1.9 * rows), layout="constrained")
    grid = fig.add_gridspec(rows + 1, cols, height_ratios=[1.3] + [1.0] * rows)
    means = [it[1] for it in items]
    stds = [it[2] for it in items]
    xs = np.arange(1, n + 1)
    half = max(1, cols // 2)
    ax_m = fig.add_subplot(grid[0, :half])
    ax_s = fig.add_subplot(grid[0, half:] if cols > 1 else grid[0, :])
    ax_m.plot(xs, means, "o-", color="#3182bd")
    ax_m.set_title("mean per layer")
    ax_s.plot(xs, stds, "o-", color="#e6550d")
    ax_s.set_title("std per layer")
    for ax in (ax_m, ax_s):
        ax.set_xticks(xs, [_text(it[0], 20) for it in items], rotation=45 if n > 6 else 0,
                      fontsize=8)
        ax.grid(alpha=0.3)
    shared = None
    for k, (name, mean, std, data) in enumerate(items):
        ax = fig.add_subplot(grid[1 + k // cols, k % cols], sharey=shared)
        if isinstance(data, tuple):  # (counts, edges) from ActivationStats
            counts, edges = data
            ax.stairs(counts, edges, fill=True, color="#6baed6")
        else:
            finite = data[np.isfinite(data)]
            ax.hist(finite, bins=bins, range=range, color="#6baed6")
        ax.set_title(f"{_text(name, 24)}\nmean {mean:.3g}  std {std:.3g}", fontsize=8)
        ax.tick_params(labelsize=7)
        if k % cols:
            ax.tick_params(labelleft=False)
    fig.suptitle("Activations per layer")
    return fig


def _activation_items(activations) -> list:
    """[(name, mean, std, data)], data a flat array or (hist, bin_edges)."""
    if isinstance(activations, dict):
        pairs = list(activations.items())
    else:
        pairs = [(getattr(a, "name", "") or str(i + 1), a) for i, a in enumerate(activations)]
    out: list[tuple[str, float, float, Any]] = []
    for name, a in pairs:
        if hasattr(a, "hist") and hasattr(a, "bin_edges"):
            out.append((str(name), float(a.mean), float(a.std),
                        (np.asarray(a.hist), np.asarray(a.bin_edges))))
            continue
        arr = np.asarray(getattr(a, "data", a), dtype=np.float64).ravel()
        if arr.size == 0:
            raise ValueError(f"activation_histograms: layer {name!r} has no activations")
        finite = arr[np.isfinite(arr)]
        out.append((str(name), float(finite.mean()) if finite.size else math.nan,
                    float(finite.std()) if finite.size else math.nan, arr))
    return out


# -- curves --------------------------------------------------------------------------------------
def loss_curve(loss, steps=None, smooth: int | None = None, log: bool = False,
               title: str = "Loss") -> Figure:
    """Loss against step: the raw values thin, a moving average thick.

    loss: a sequence of numbers (None allowed, e.g. history.loss), or dict name -> sequence
    for several runs. steps: the x values (default 0, 1, ...). smooth: the moving-average
    window (default about len/20; 1 for none). log: a log y axis.
    """
    runs = _named(loss, "loss_curve")
    fig = _figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    colours = _colours(len(runs))
    for i, ((name, y), c) in enumerate(zip(runs.items(), colours, strict=True)):
        x = np.arange(len(y)) if steps is None else _series(steps, "loss_curve steps")
        w = smooth if smooth is not None else max(1, len(y) // 20)
        label = _text(name) if name else "loss"
        style = _style(i, len(runs)) if len(runs) > 1 else {}
        if w > 1:
            ax.plot(x, y, color=c, alpha=0.3, linewidth=0.8)
            ax.plot(x, _smooth(y, w), color=c, linewidth=2.0, label=f"{label} (mean of {w})",
                    **style)
        else:
            ax.plot(x, y, color=c, linewidth=1.5, label=label, **style)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(_text(title, 120))
    _note_coinciding(ax, runs)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def accuracy_plot(train_acc, val_acc=None, epochs=None, title: str = "Accuracy") -> Figure:
    """Training and validation accuracy per epoch; the gap between them is shaded.

    A big gap means overfitting (more regularization); no gap at low accuracy means
    underfitting (a bigger model). train_acc, val_acc: sequences (None allowed).
    """
    tr = _series(train_acc, "accuracy_plot")
    x = np.arange(len(tr)) if epochs is None else _series(epochs, "accuracy_plot epochs")
    fig = _figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(x, tr, "o-", color="#3182bd", label="train")
    if val_acc is not None:
        va = _series(val_acc, "accuracy_plot")
        if len(va) != len(tr):
            raise ValueError(f"accuracy_plot: {len(tr)} training and {len(va)} validation values")
        ax.plot(x, va, "s--", color="#e6550d", label="validation", markerfacecolor="none")
        ax.fill_between(x, tr, va, color="#bbbbbb", alpha=0.3, label="gap")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title(_text(title, 120))
    if val_acc is not None:
        _note_coinciding(ax, {"train": tr, "validation": va})
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def update_ratio_plot(ratios: dict, steps=None, target: float = TARGET_RATIO,
                      weights_only: bool = False) -> Figure:
    """Update-to-weight ratio per layer over steps, on a log axis, with the lecture's 1e-3.

    ratio = ||W_after - W_before|| / ||W_before||. ratios: dict name -> sequence per step
    (history.ratios; None where undefined). weights_only: drop names ending in "bias".
    About 1e-3 is healthy; far below, the learning rate is too low; far above, too high.
    """
    runs = _named(ratios, "update_ratio_plot")
    if weights_only:
        runs = {k: v for k, v in runs.items() if not k.endswith("bias")}
    fig = _figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for i, ((name, y), c) in enumerate(zip(runs.items(), _colours(len(runs)), strict=True)):
        x = np.arange(len(y)) if steps is None else _series(steps, "update_ratio_plot steps")
        y = np.where(y > 0, y, np.nan)
        ax.plot(x, y, color=c, linewidth=1.2, label=_text(name) if name else "ratio",
                **_style(i, len(runs)))
    ax.axhline(target, color="black", linestyle="--", linewidth=1, label=f"target {target:g}")
    ax.axhspan(target / 10, target * 10, color="#a6d96a", alpha=0.15)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("||update|| / ||weight||")
    ax.set_title("Update-to-weight ratio per layer")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, ncol=2 if len(runs) > 6 else 1)
    _note_coinciding(ax, runs)
    return fig


def grad_norm_plot(norms: dict, steps=None) -> Figure:
    """Gradient norm per layer: bars for one number per layer, lines for a series per layer.

    norms: dict name -> float (one backward pass; e.g. monitor.grad_norms(model)) or
    name -> sequence per step (history.grad_norms). A log axis shows vanishing gradients
    as a staircase down toward the input layers.
    """
    if not norms:
        raise ValueError("grad_norm_plot: no layers given")
    scalar = all(np.ndim(getattr(v, "data", v)) == 0 or v is None for v in norms.values())
    fig = _figure(figsize=(max(6.4, 0.5 * len(norms)), 4.0), layout="constrained")
    ax = fig.add_subplot()
    if scalar:
        names = [_text(k, 30) for k in norms]
        vals = np.array([np.nan if v is None else float(np.asarray(getattr(v, "data", v)))
                         for v in norms.values()])
        shown = np.where(vals > 0, vals, np.nan)
        ax.bar(np.arange(len(names)), shown, color="#3182bd")
        ax.set_xticks(np.arange(len(names)), names, rotation=45, ha="right", fontsize=8)
        for i, v in enumerate(vals):
            if not v > 0:
                ax.annotate("0" if v == 0 else "n/a", (i, 0), xycoords=("data", "axes fraction"),
                            ha="center", va="bottom", color="#d73027")
        ax.set_xlabel("layer (input to output)")
    else:
        runs = _named(norms, "grad_norm_plot")
        for i, ((name, y), c) in enumerate(zip(runs.items(), _colours(len(runs)), strict=True)):
            x = np.arange(len(y)) if steps is None else _series(steps, "grad_norm_plot steps")
            ax.plot(x, np.where(y > 0, y, np.nan), color=c, linewidth=1.2, label=_text(name),
                    **_style(i, len(runs)))
        ax.set_xlabel("step")
        ax.legend(fontsize=8, ncol=2 if len(runs) > 6 else 1)
        _note_coinciding(ax, runs)
    ax.set_yscale("log")
    ax.set_ylabel("gradient norm")
    ax.set_title("Gradient norm per layer")
    ax.grid(alpha=0.3, which="both")
    return fig


def hyperparam_scatter(records, x: str = "lr", y: str | None = "reg", metric: str | None = None,
                       mode: str = "max", logx: bool = True, logy: bool = True) -> Figure:
    """Hyperparameter search results on log axes, coloured by the metric; the best starred.

    records: SearchResult (its .records()) or a list of flat dicts with keys x, y and the
    metric (id, status, ... as tune writes them). metric: the column to colour by (default:
    "val_acc" if present, else the first numeric column that is not a hyperparameter).
    y None: the metric against x. Trials whose status is not "ok" (aborted, failed) are
    drawn as grey crosses at their hyperparameters.
    """
    rows = records.records() if hasattr(records, "records") else list(records)
    space = set(getattr(records, "space", None) or ())
    if not rows:
        raise ValueError("hyperparam_scatter: no trials")
    for key in (x, y):
        if key is not None and not any(key in r for r in rows):
            raise KeyError(f"hyperparam_scatter: no column {key!r}; columns: {sorted(rows[0])}")
    metric = metric or _pick_metric(rows, {x, y} | space)
    if metric is None:
        raise ValueError("hyperparam_scatter: no metric column found; pass metric=")
    ok = [r for r in rows if r.get("status", "ok") == "ok" and _num(r.get(metric)) is not None
          and _num(r.get(x)) is not None and (y is None or _num(r.get(y)) is not None)]
    bad = [r for r in rows if r not in ok and _num(r.get(x)) is not None
           and (y is None or _num(r.get(y)) is not None)]
    fig = _figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    xs = np.array([_num(r[x]) for r in ok])
    ms = np.array([_num(r[metric]) for r in ok])
    if y is None:
        ax.scatter(xs, ms, c="#3182bd", edgecolors="black", linewidths=0.4, label="ok")
        ax.set_ylabel(_text(metric))
        if ok:
            b = int(np.argmax(ms) if mode == "max" else np.argmin(ms))
            ax.scatter([xs[b]], [ms[b]], marker="*", s=300, c="gold", edgecolors="black",
                       zorder=3, label=f"best {_text(metric)} {ms[b]:.4g}")
    else:
        ys = np.array([_num(r[y]) for r in ok])
        if ok:
            sc = ax.scatter(xs, ys, c=ms, cmap="viridis", edgecolors="black", linewidths=0.4,
                            s=40)
            fig.colorbar(sc, ax=ax, label=_text(metric))
            b = int(np.argmax(ms) if mode == "max" else np.argmin(ms))
            ax.scatter([xs[b]], [ys[b]], marker="*", s=300, c="gold", edgecolors="black",
                       zorder=3, label=f"best {_text(metric)} {ms[b]:.4g}")
        if bad:
            ax.scatter([_num(r[x]) for r in bad], [_num(r[y]) for r in bad], marker="x",
                       c="#999999", label="aborted / failed")
        ax.set_ylabel(_text(y))
    if logx:
        ax.set_xscale("log")
    if logy and y is not None:
        ax.set_yscale("log")
    ax.set_xlabel(_text(x))
    ax.set_title(f"Hyperparameter search: {len(rows)} trials")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig


def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _pick_metric(rows, exclude) -> str | None:
    keys = list(rows[0])
    if "val_acc" in keys:
        return "val_acc"
    skip = set(exclude) | {"id", "status", "steps", "seconds", "error"}
    for k in keys:
        if k not in skip and any(_num(r.get(k)) is not None for r in rows):
            return k
    return None


def _colours(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "viridis"]
    return [cmap(i if n <= 10 else i / max(n - 1, 1)) for i in range(n)]
