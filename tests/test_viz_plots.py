"""viz.plots: each returns a matplotlib Figure with the data in it, never shows one."""
import math

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.cbook import is_math_text  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import viz  # noqa: E402
from tinygrad_lite import Value  # noqa: E402


@pytest.fixture(autouse=True)
def no_pyplot_figures(monkeypatch):
    """Plots must not touch pyplot: no open figures afterwards, plt.show never called."""
    plt.close("all")
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() was called"))
    yield
    assert plt.get_fignums() == []


def lines_of(ax):
    return [ln.get_ydata() for ln in ax.get_lines()]


def test_activation_histograms_like_the_lecture(tmp_path):
    rng = np.random.default_rng(0)
    h = rng.standard_normal((200, 50))
    acts = {}
    for i in range(4):
        h = np.tanh(h @ (rng.standard_normal((50, 50)) * 0.01))
        acts[f"layer {i + 1}"] = h
    acts["value"] = Value(h * 2)  # a Value works too
    fig = viz.activation_histograms(acts, range=(-1, 1))
    assert isinstance(fig, Figure)
    ax_mean, ax_std, *hists = fig.axes
    np.testing.assert_allclose(lines_of(ax_mean)[0], [a.mean() for a in
                               [*list(acts.values())[:4], h * 2]])
    stds = lines_of(ax_std)[0]
    assert stds[0] > stds[1] > stds[2] > stds[3]  # the lecture's collapse toward zero
    assert len(hists) == 5
    assert "mean" in hists[0].get_title() and f"{acts['layer 1'].std():.3g}" in hists[0].get_title()
    counts = sum(p.get_height() for p in hists[0].patches)
    assert counts == acts["layer 1"].size
    fig.savefig(tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 5000


def test_activation_histograms_from_monitor_stats():
    monitor = pytest.importorskip("tinygrad_lite.monitor")
    rng = np.random.default_rng(1)
    stats = [monitor.activation_stats(np.tanh(rng.standard_normal((30, 8)) * s), kind="tanh",
                                      name=f"t{s}") for s in (1, 5)]
    fig = viz.activation_histograms(stats)
    assert [ax.get_title().split("\n")[0] for ax in fig.axes[2:]] == ["t1", "t5"]
    with pytest.raises(ValueError, match="no layers"):
        viz.activation_histograms({})


def test_loss_curve_smooths_and_skips_missing_values():
    loss = [3.0, 2.5, None, 2.0, 1.8, 1.5, 1.4, 1.2]
    fig = viz.loss_curve(loss, smooth=2)
    ax = fig.axes[0]
    raw, smooth = lines_of(ax)
    assert math.isnan(raw[2]) and raw[0] == 3.0
    assert smooth[1] == pytest.approx(2.75) and smooth[2] == pytest.approx(2.5)
    assert ax.get_yscale() == "linear"
    runs = viz.loss_curve({"lr 1e-3": [1, 0.5], "lr 1e-2": [1, 2]}, log=True, smooth=1)
    assert runs.axes[0].get_yscale() == "log"
    assert [t.get_text() for t in runs.axes[0].get_legend().get_texts()] == ["lr 1e-3", "lr 1e-2"]


def test_accuracy_plot_train_and_validation():
    fig = viz.accuracy_plot([0.2, 0.6, 0.9], [0.2, 0.4, 0.5])
    ax = fig.axes[0]
    np.testing.assert_allclose(lines_of(ax)[0], [0.2, 0.6, 0.9])
    np.testing.assert_allclose(lines_of(ax)[1], [0.2, 0.4, 0.5])
    with pytest.raises(ValueError, match="3 training and 2 validation"):
        viz.accuracy_plot([0.1, 0.2, 0.3], [0.1, 0.2])


def test_update_ratio_plot_on_log_axis_with_target():
    ratios = {"fc1.weight": [1e-3, 2e-3, None], "fc1.bias": [0.0, 1e-2, 1e-2]}
    fig = viz.update_ratio_plot(ratios)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    w, b, target = lines_of(ax)
    assert math.isnan(w[2]) and math.isnan(b[0])  # None and 0 cannot sit on a log axis
    assert list(target) == [1e-3, 1e-3]
    only_w = viz.update_ratio_plot(ratios, weights_only=True)
    assert len(only_w.axes[0].get_lines()) == 2


def test_grad_norm_plot_bars_and_lines():
    norms = {"fc1.weight": 1e-6, "fc2.weight": 1e-3, "fc3.weight": 0.0}
    fig = viz.grad_norm_plot(norms)
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights[:2] == [1e-6, 1e-3] and math.isnan(heights[2])
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == list(norms)
    assert any(t.get_text() == "0" for t in ax.texts)  # a zero gradient is called out
    fig2 = viz.grad_norm_plot({"a": [1.0, 0.5], "b": [1e-3, 1e-4]})
    assert len(fig2.axes[0].get_lines()) == 2


def records():
    rng = np.random.default_rng(2)
    out = []
    for i in range(20):
        ok = i % 5 != 0
        out.append({"id": i, "status": "ok" if ok else "aborted",
                    "lr": 10 ** rng.uniform(-6, -1), "reg": 10 ** rng.uniform(-5, 0),
                    "val_acc": float(rng.uniform(0.1, 0.5)) if ok else None,
                    "steps": 3, "seconds": 0.1, "error": None})
    return out


def test_hyperparam_scatter_log_axes_best_starred():
    recs = records()
    fig = viz.hyperparam_scatter(recs)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    ok = [r for r in recs if r["status"] == "ok"]
    best = max(ok, key=lambda r: r["val_acc"])
    pts, star, bad = ax.collections
    assert len(pts.get_offsets()) == len(ok)
    np.testing.assert_allclose(star.get_offsets()[0], [best["lr"], best["reg"]])
    assert len(bad.get_offsets()) == len(recs) - len(ok)
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "val_acc"  # the colour bar
    one_d = viz.hyperparam_scatter(recs, y=None, metric="val_acc")
    assert one_d.axes[0].get_ylabel() == "val_acc" and one_d.axes[0].get_yscale() == "linear"
    with pytest.raises(KeyError, match="no column 'momentum'"):
        viz.hyperparam_scatter(recs, y="momentum")


def test_hyperparam_scatter_takes_a_search_result():
    tune = pytest.importorskip("tinygrad_lite.tune")
    space = {"lr": tune.LogUniform(1e-4, 1e-1), "reg": tune.LogUniform(1e-5, 1e-1)}
    result = tune.random_search(_objective, space, n_trials=6, metric="val_acc", mode="max",
                                executor="serial", seed=0)
    fig = viz.hyperparam_scatter(result)
    pts = fig.axes[0].collections[0]
    assert len(pts.get_offsets()) == 6
    assert fig.axes[1].get_ylabel() == "val_acc"


def _objective(config, report):
    acc = 1.0 - abs(math.log10(config["lr"]) + 2) / 4
    report(1.0 - acc, val_acc=acc)
    return {"val_acc": acc}


def test_figures_carry_a_png_for_jupyter_and_are_otherwise_plain(tmp_path):
    from viz.figure import DPI

    fig = viz.loss_curve([1.0, 0.5, 0.25])
    assert isinstance(fig, Figure) and repr(fig).startswith("<Figure size 640x400")
    png = fig._repr_png_()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")  # the IHDR chunk: width, then height
    assert 0.8 * 6.4 * DPI < width < 1.1 * 6.4 * DPI  # cropped to its contents (+ pad), at DPI
    fig.savefig(tmp_path / "f.svg")
    assert (tmp_path / "f.svg").read_text(encoding="utf-8").count("<svg") == 1


# -- no line hides another unseen; names shown literally (issues 19 and 20) ---------------------
def _lines(fig):
    return [ln for ax in fig.axes for ln in ax.get_lines() if not ln.get_label().startswith("_")]


def test_series_have_distinct_markers_and_dashes_and_coincidences_are_told():
    same = list(np.linspace(1.0, 0.1, 40))
    for fig in (viz.loss_curve({"1": same, "3": same, "other": list(np.ones(40))}, smooth=1),
                viz.update_ratio_plot({"1": [1e-3] * 40, "3": [1e-3] * 40, "w": [2e-3] * 40}),
                viz.grad_norm_plot({"1": [0.5] * 40, "3": [0.5] * 40, "w": [0.1] * 40})):
        lines = [ln for ln in _lines(fig) if ln.get_label() in ("1", "3", "other", "w")]
        assert len(lines) == 3
        styles = {(ln.get_marker(), ln.get_linestyle()) for ln in lines}
        assert len(styles) == 3  # each series recognisable even under another
        notes = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert any("drawn on top of each other" in t and "1 and 3" in t for t in notes), notes
    # nothing to say when no two series coincide
    fig = viz.loss_curve({"a": [3.0, 2.0, 1.0], "b": [3.0, 2.0, 1.5]}, smooth=1)
    assert not [t for ax in fig.axes for t in ax.texts]


DOLLARS = ["$lr$", "cost $5 a$b$", "$\\frac{1}{0}$"]


@pytest.mark.parametrize("name", DOLLARS)
def test_dollar_signs_in_names_are_shown_literally(name, tmp_path):
    figs = [
        viz.loss_curve({name: [3.0, 2.0, 1.0], "b": [1.0, 1.0, 1.0]}, smooth=1, title=name),
        viz.update_ratio_plot({name: [1e-3, 2e-3]}),
        viz.grad_norm_plot({name: 1.0, "b": 0.5}),
        viz.activation_histograms({name: np.arange(10.0)}),
        viz.hyperparam_scatter([{name: 0.1, "reg": 1e-3, "val_acc": 0.5},
                                {name: 0.01, "reg": 1e-2, "val_acc": 0.6}], x=name),
        viz.hyperparam_scatter([{"lr": 0.1, name: 1e-3, "val_acc": 0.5}], y=name),
    ]
    for k, fig in enumerate(figs):
        fig.savefig(tmp_path / f"{k}.png", dpi=30)  # no ParseSyntaxException from mathtext
        texts = [t.get_text() for t in fig.findobj(Text)
                 if not t.get_text().startswith("$\\mathdefault")]  # log-axis tick labels
        assert any(name in t.replace("\\$", "$") for t in texts), (k, texts)
        math = [t for t in texts if is_math_text(t)]  # each $ escaped: mathtext never starts
        assert not math, (k, math)


def test_a_very_long_series_name_is_cut():
    long = "n" * 5000
    fig = viz.loss_curve({long: [1.0, 0.5]}, smooth=1, title=long)
    labels = [ln.get_label() for ln in _lines(fig)]
    assert labels and all(len(x) <= 60 for x in labels)
    assert len(fig.axes[0].get_title()) <= 120
