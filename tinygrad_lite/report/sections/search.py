"""8. Hyperparameter search: random against grid, coarse to fine, the edge warning; tables."""
from __future__ import annotations

import math

from ...experiments.common import digits_split
from ...experiments.search import (
    NARROW_SPACE,
    best_trial,
    coarse_to_fine_search,
    random_vs_grid,
)
from ..context import Context
from ..html import fmt, table
from ..registry import Section, section

INTRO = (
    "Search the learning rate and the regularization strength on a log scale. Prefer random to "
    "grid search: when one hyperparameter matters much more than the other, a 3 x 3 grid tries "
    "only 3 values of it, while 9 random trials try 9. Search coarse to fine: a few epochs over "
    "wide ranges first, then narrow the ranges around the best trials and train longer. Stop "
    "any trial whose loss passes 3x its first value. And if the best value sits at the edge of "
    "its range, the optimum may lie outside: widen the range. The objective: a softmax "
    "classifier on the digits.")


@section("search", "8. Hyperparameter search", INTRO)
def build(ctx: Context, s: Section) -> None:
    import viz

    digits_split()  # loaded before any worker process starts, which then inherits it
    executor = None  # worker processes in both modes: serial was the slowest part of --quick
    versus = random_vs_grid(executor=executor, workers=2)
    rnd, grd = versus.random, versus.grid
    s.check("With 9 trials, random search tries 9 values of the hyperparameter that matters; "
            "a 3 x 3 grid tries 3.", f"random: {versus.random_lrs} learning rates; grid: "
            f"{versus.grid_lrs}", versus.random_lrs == 9 and versus.grid_lrs == 3)
    s.check("So random search tends to find the better value.",
            f"best validation accuracy: random {versus.random_best:.1%} (lr "
            f"{best_trial(rnd).config['lr']:.3g}), grid {versus.grid_best:.1%} (lr "
            f"{best_trial(grd).config['lr']:.3g})", versus.random_best >= versus.grid_best)
    # quick: the fine round trains 2 epochs instead of 3 (every check still holds)
    search = coarse_to_fine_search(epochs=(1, 2) if ctx.quick else (1, 3), executor=executor,
                                   workers=2)
    rounds = search.rounds
    (lo1, hi1), (lo2, hi2) = search.lr_ranges[0], search.lr_ranges[-1]
    width = (math.log10(hi1 / lo1), math.log10(hi2 / lo2))
    s.check("Coarse to fine narrows the ranges around the best trials.",
            f"lr range [{lo1:.2g}, {hi1:.2g}] ({width[0]:.1f} decades) -> [{lo2:.2g}, "
            f"{hi2:.2g}] ({width[1]:.1f} decades); best "
            f"{best_trial(rounds[0]).metrics['val_acc']:.1%} -> "
            f"{best_trial(rounds[-1]).metrics['val_acc']:.1%}",
            width[1] < width[0])
    edges = search.edge_warnings
    s.check("A best value at the edge of its range is flagged: widen the range.",
            edges[0] if edges else "no EdgeWarning", any("lr" in e for e in edges))
    aborted = sum(t.status == "aborted" for r in (rnd, grd, *rounds) for t in r.trials)
    links = []
    for name, res in (("random", rnd), ("grid", grd), ("coarse", rounds[0]),
                      ("fine", rounds[-1])):
        s.attach(f"search_{name}.csv", res.to_csv)
        s.attach(f"search_{name}.json", res.to_json)
        links.append(f'<a href="search_{name}.csv">search_{name}.csv</a> '
                     f'(<a href="search_{name}.json">json</a>)')
    rows = [[t.id, f"{t.config['lr']:.3g}", f"{t.config['reg']:.3g}", t.status,
             fmt(t.metrics.get("val_acc")), len(t.history)] for t in rnd.trials]
    s.add("<h3>Random search trials</h3>" + table(
        ["trial", "lr", "reg", "status", "val_acc", "epochs run"], rows, "num")
        + f"<p>Tables: {', '.join(links)}. Trials stopped early (loss past 3x its first "
          f"value, or NaN): {aborted}.</p>")
    fig_r = viz.hyperparam_scatter(rnd, x="lr", y="reg", metric="val_acc")
    fig_g = viz.hyperparam_scatter(grd, x="lr", y="reg", metric="val_acc")
    s.add('<div class="row">' + ctx.figure(fig_r, "Random search: 9 distinct learning rates.")
          + ctx.figure(fig_g, "Grid search: 3 distinct learning rates.") + "</div>")
    fig = ctx.Figure(figsize=(6.5, 3.6))
    ax = fig.subplots()
    for i, res in enumerate(rounds):
        ok = [t for t in res.trials if t.status == "ok"]
        ax.scatter([t.config["lr"] for t in ok], [t.metrics["val_acc"] for t in ok],
                   label=f"round {i + 1}: lr in [{res.space['lr'].low:.2g}, "
                         f"{res.space['lr'].high:.2g}]")
    ax.axvline(NARROW_SPACE["lr"].high, color="grey", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set(xlabel="learning rate", ylabel="validation accuracy",
           title="coarse to fine, with a range that stops too low")
    ax.legend(fontsize=8)
    s.add(ctx.figure(fig, "Coarse to fine: the best learning rate presses against the range's "
                          "upper end (dashed), hence the edge warning."))
    s.numbers = {"random_best": versus.random_best, "grid_best": versus.grid_best,
                 "random_lrs": versus.random_lrs, "grid_lrs": versus.grid_lrs,
                 "edge_warnings": edges, "aborted": aborted,
                 "ranges": [list(search.lr_ranges[0]), list(search.lr_ranges[-1])]}
