"""4. Data preprocessing: zero-centring, normalization, PCA and whitening of a 2-D cloud."""
from __future__ import annotations

import numpy as np

from ...experiments.preprocessing import preprocess
from ..context import Context
from ..html import fmt, table
from ..registry import Section, section

INTRO = (
    "Zero-centring subtracts the mean of the training data, so that inputs are not all "
    "positive (see the zig-zag above); normalization then divides each feature by its standard "
    "deviation. PCA rotates the centred data onto the axes of its covariance, so the features "
    "become uncorrelated; whitening also scales each of those axes to unit variance. Every "
    "transform is fitted on training data and applied unchanged to test data. For images the "
    "lecture stops at zero-centring (a mean image, or a mean per channel).")


@section("preprocessing", "4. Data preprocessing", INTRO)
def build(ctx: Context, s: Section) -> None:
    r = preprocess(n=500 if ctx.quick else 2000)
    rows = []
    for name, st in r.stats.items():
        mean, std, cov = st["mean"], st["std"], st["cov"]
        rows.append([name, f"({mean[0]:+.3f}, {mean[1]:+.3f})", f"({std[0]:.3f}, {std[1]:.3f})",
                     f"[[{cov[0, 0]:.3f}, {cov[0, 1]:+.3f}], [{cov[1, 0]:+.3f}, {cov[1, 1]:.3f}]]"])
    s.add(table(["data", "mean", "std per feature", "covariance"], rows, "num"))
    centred = np.abs(r.stats["zero-centred"]["mean"]).max()
    s.check("Zero-centring moves the mean to 0.", f"largest |mean| {fmt(centred)}",
            centred < 1e-10)
    std = r.stats["normalized"]["std"]
    s.check("Normalization gives every feature std 1.", f"stds {std.round(6).tolist()}",
            np.allclose(std, 1.0))
    off = abs(r.stats["decorrelated (PCA)"]["cov"][0, 1])
    s.check("PCA decorrelates: the covariance becomes diagonal.",
            f"off-diagonal covariance {fmt(off)} (was {r.stats['original']['cov'][0, 1]:.3f})",
            off < 1e-10)
    err = np.abs(r.stats["whitened"]["cov"] - np.eye(2)).max()
    s.check("Whitening gives the identity covariance.", f"max |cov - I| = {fmt(err)}",
            err < 1e-3)
    test_err = np.abs(r.stats["whitened test"]["cov"] - np.eye(2)).max()
    s.check("Fitted on training data, the transform carries over to test data (close to, not "
            "exactly, the identity).", f"test data: max |cov - I| = {fmt(test_err)}",
            test_err < 0.3)

    fig = ctx.Figure(figsize=(11, 7))
    axes = fig.subplots(2, 3)
    layout = (("original", "zero-centred", "normalized"),
              ("original", "decorrelated (PCA)", "whitened"))
    colours = ("tab:red", "tab:green", "tab:blue")
    for row, names in enumerate(layout):
        for col, name in enumerate(names):
            ax = axes[row, col]
            C = r.clouds[name]
            ax.scatter(C[:, 0], C[:, 1], s=4, alpha=0.5, color=colours[col])
            ax.axhline(0, color="k", lw=0.5)
            ax.axvline(0, color="k", lw=0.5)
            ax.set(xlim=(-8, 10), ylim=(-8, 10), aspect="equal", title=name)
    s.add(ctx.figure(fig, "The lecture's two pictures, on a correlated 2-D cloud centred at "
                          "(4, 2)."))
    s.numbers = {name: {k: v.tolist() for k, v in st.items()} for name, st in r.stats.items()}
