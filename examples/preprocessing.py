"""Data preprocessing on a 2-D cloud: zero-centring, normalization, PCA and whitening.

The lecture's two pictures: original -> zero-centred (subtract the mean) -> normalized
(divide each feature by its std); and original -> decorrelated (PCA rotates onto the axes of
the covariance: a diagonal covariance) -> whitened (each axis scaled to variance 1: the
identity covariance). Each transform is fitted on the training data and applied unchanged to
test data. (For images the lecture stops at zero-centring: a mean image or a mean per channel.)

The experiment is tinygrad_lite.experiments.preprocessing; this script prints and plots it.

Run:  python examples/preprocessing.py [--quick] [--out DIR]
"""
import argparse
import os

import numpy as np

from tinygrad_lite.experiments.common import one_blas_thread
from tinygrad_lite.experiments.preprocessing import preprocess


def plot(clouds, path):
    """Two rows of three panels: the lecture's two preprocessing pictures."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    fig = Figure(figsize=(11, 7))
    axes = fig.subplots(2, 3)
    rows = (("original", "zero-centred", "normalized"),
            ("original", "decorrelated (PCA)", "whitened"))
    colors = ("tab:red", "tab:green", "tab:blue")
    for r, names in enumerate(rows):
        for c, name in enumerate(names):
            ax = axes[r, c]
            X = clouds[name]
            ax.scatter(X[:, 0], X[:, 1], s=4, alpha=0.5, color=colors[c])
            ax.axhline(0, color="k", lw=0.5)
            ax.axvline(0, color="k", lw=0.5)
            ax.set(xlim=(-8, 10), ylim=(-8, 10), aspect="equal", title=name)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return fig


def main(quick=False, out="figures"):
    """Fit each transform on a training cloud; returns the statistics of every result."""
    result = preprocess(n=500 if quick else 2000)
    stats = result.stats
    for name, s in stats.items():
        cov = s["cov"]
        print(f"{name:>19}: mean ({s['mean'][0]:+.3f}, {s['mean'][1]:+.3f})  std "
              f"({s['std'][0]:.3f}, {s['std'][1]:.3f})  cov [[{cov[0, 0]:.3f}, {cov[0, 1]:+.3f}],"
              f" [{cov[1, 0]:+.3f}, {cov[1, 1]:.3f}]]")
    print()
    print("claim -> measured")
    centred_mean = np.abs(stats["zero-centred"]["mean"]).max()
    print(f"zero-centring puts the mean at 0: |mean| = {centred_mean:.1e}")
    print(f"normalization gives each feature std 1: {stats['normalized']['std'].round(4)}")
    off = abs(stats["decorrelated (PCA)"]["cov"][0, 1])
    print(f"PCA decorrelates (diagonal covariance): off-diagonal {off:.1e} "
          f"(was {stats['original']['cov'][0, 1]:.3f})")
    eye_error = np.abs(stats["whitened"]["cov"] - np.eye(2)).max()
    print(f"whitening gives the identity covariance: max |cov - I| = {eye_error:.1e}")
    print(f"fitted on training data, applied to test data: whitened test covariance "
          f"{stats['whitened test']['cov'].round(2).tolist()}")

    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (from a clone: pip install -e \".[viz]\"; "
              "from a wheel: pip install \"tinygrad_lite[viz]\"): no figure")
    else:
        os.makedirs(out, exist_ok=True)
        figure = os.path.join(out, "preprocessing.png")
        plot(result.clouds, figure)
        print(f"figure: {figure}")
    return {"stats": stats, "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller cloud (CI)")
    parser.add_argument("--out", default="figures", help="folder for the figure")
    args = parser.parse_args()
    with one_blas_thread():  # small matrices: a second BLAS thread only waits for a core
        main(quick=args.quick, out=args.out)
