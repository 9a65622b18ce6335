"""The lecture notebook, examples/lecture6.ipynb, run in a real kernel (nbclient, "python3").

One fresh run per session, section by section: each section (markdown headings split them)
runs in its own fresh kernel after the setup cell, so a cell that reads a variable left by
another section fails as it would for a reader who jumps there. Its outputs must be the kinds
a reader needs (SVG graphs, PNG plots, the animation and the explorer as HTML frames), the
numbers it prints must be the lecture's (checked against the library's own functions and
thresholds), every plot's legend must name the runs whose data its lines draw, and the stored
notebook (one top-to-bottom run) must be what this run produces (tools/run_notebook.py's
compare): outputs made by the stored code, the same kinds of output per cell, the same numbers.
"""
import base64
import html
import importlib.util
import inspect
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("graphviz")

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "run_notebook.py"
if not TOOL.exists() or not (ROOT / "examples" / "lecture6.ipynb").exists():
    pytest.skip("the notebook or tools/run_notebook.py is not in this tree (an sdist?)",
                allow_module_level=True)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GRAPHS = ["neuron-graph", "dead-grad"]  # cells showing viz.draw_graph
PLOTS = ["activation-plot", "zigzag", "dead-plot", "init-hist-small", "init-hist-large",
         "init-hist-xavier", "init-hist-he", "init-grads", "bn-numbers", "babysit-plot",
         "monitor-ratios", "monitor-accuracy", "explore-record", "explore-dead"]
NUM = r"([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)"


def _load_tool():
    spec = importlib.util.spec_from_file_location("run_notebook", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture(scope="module")
def stored():
    return nbformat.read(tool.NOTEBOOK, as_version=4)


# The figure a plotting cell shows (``_``: its result), read in its kernel right after it runs:
# per axes, the legend's texts and every line's label, colour and y values.
FIGURE_PROBE = """
import json as _json
import math as _math
from matplotlib.colors import to_hex as _to_hex

def _y(values):  # None for a missing or non-finite value
    return [None if v is None or not _math.isfinite(float(v)) else float(v) for v in values]

print(_json.dumps([
    {"legend": [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else [],
     "lines": [{"label": line.get_label(), "colour": _to_hex(line.get_color()),
                "y": _y(line.get_ydata())} for line in ax.get_lines()]}
    for ax in _.axes]))
print(_json.dumps([{k: None if v is None else _y(v) for k, v in ax.items()} for ax in EXPECTED]))
"""

# What each plot's legend must say, per axes: label -> the y values of the run it names (None:
# a band or a marker line whose data is not a run's). Written from the runs' own names and
# parameters, independently of the cell's plotting code.
LEGENDS = {
    "activation-plot": "[{**activations.gradient_curves(xs), f\"|f'| < {viz.SATURATION}\": None}]",
    "zigzag": "[{**{name: path[:, 1] for name, path in zig.paths.items()}, "
              "'target w*': [zig.w_true[1]]}]",
    "dead-plot": "[{name: run.history.dead[layer] for name, run in runs.items()} "
                 "for layer in ('1', '3')]",
    "init-grads": "[dict(norms)]",
    "bn-numbers": "[{'plain': bad.plain_losses, 'batch norm': bad.bn_losses}]",
    "babysit-plot": "[{'overfit 20 examples': report['overfit'].history, "
                    "**{f\"lr {v.numbers['lr']:g} ({v.status})\": v.history "
                    "for v in report.verdicts if v.check == 'learning rate'}}]",
    "monitor-ratios": "[{**{f'lr {run.lr:g}': run.history.ratios['0.weight'] "
                      "for run in mon.values()}, 'target 0.001': None}]",
    "monitor-accuracy": "[{'train': sane.train_acc, 'validation': sane.val_acc, 'gap': None}]",
    "explore-record": "[{name: rec.series(name, 'grad_norm') "
                      "for name in ('0.weight', '2.weight', '4.weight')}]",
    "explore-dead": "[{'ReLU 1': rec.series('1 relu #0', 'dead'), "
                    "'ReLU 3': rec.series('3 relu #0', 'dead')}]",
}


@pytest.fixture(scope="module")
def run():
    """The notebook executed now, each section in a fresh python3 kernel after the setup cell,
    with the figure of every cell in LEGENDS read right after that cell."""
    probes = {cid: f"EXPECTED = {expected}\n{FIGURE_PROBE}" for cid, expected in LEGENDS.items()}
    return tool.execute_sections(tool.NOTEBOOK, probes=probes)


@pytest.fixture(scope="module")
def fresh(run):
    return run.nb


@pytest.fixture(scope="module")
def text(fresh):
    """Cell id -> what that cell printed in the fresh run (the cells tagged lecture-numbers)."""
    return tool.numbers_text(fresh)


def cell(nb, cid):
    found = [c for c in nb.cells if c.get("id") == cid]
    assert len(found) == 1, f"the notebook has {len(found)} cells with id {cid!r}"
    return found[0]


def data_of(nb, cid, mime):
    """The one output of cell ``cid`` that carries ``mime``."""
    found = [o["data"][mime] for o in cell(nb, cid).outputs if mime in o.get("data", {})]
    assert len(found) == 1, f"cell {cid!r}: {len(found)} outputs of type {mime}"
    return found[0]


def grab(pattern, s, n=1):
    """The numbers captured by ``pattern`` in ``s`` (floats); fails naming the pattern."""
    m = re.search(pattern, s)
    assert m, f"no line matching {pattern!r} in:\n{s}"
    values = [float(g.rstrip("%")) for g in m.groups()]
    return values[0] if n == 1 else values


# -- the stored notebook is what the tool made from its code ------------------------------------
def test_stored_outputs_were_made_by_the_stored_code(stored):
    recorded = stored.metadata.get(tool.META_KEY, {}).get("code_sha256")
    assert recorded == tool.code_digest(stored), (
        f"examples/lecture6.ipynb: its code cells changed since its outputs were made (or it "
        f"was saved from Jupyter); regenerate them with: {tool.REGENERATE}")


def test_stored_notebook_is_one_clean_run(stored):
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), (
        f"not one top-to-bottom run; regenerate with: {tool.REGENERATE}")
    kinds = tool.output_kinds(stored)
    bad = {cid: k for cid, k in kinds.items() if "stderr" in k or "error" in k}
    assert not bad, f"cells with warnings or errors in the stored notebook: {bad}"


def test_fresh_run_matches_the_stored_outputs(stored, fresh):
    problems = tool.compare(stored, fresh)
    assert not problems, ("examples/lecture6.ipynb is stale:\n" + "\n".join(problems)
                          + f"\nregenerate it with: {tool.REGENERATE}")


def test_every_section_runs_on_its_own_after_the_setup(stored, fresh):
    """The run behind ``fresh`` gave each section its own kernel: nothing failed there, and
    every code cell of every section has outputs from it."""
    parts = tool.sections(stored)
    titles = [stored.cells[p[0]].source.splitlines()[0] for p in parts]
    assert len(parts) >= 10 and titles[1].startswith("## 1.") and titles[-1] == "## Where next"
    setup = [c for c in (stored.cells[i] for i in parts[0]) if c.cell_type == "code"]
    assert [c.get("id") for c in setup] == ["setup"]
    kinds = tool.output_kinds(fresh)
    assert not [cid for cid, k in kinds.items() if "error" in k or "stderr" in k]
    assert all(kinds[c.get("id")] for c in fresh.cells if c.cell_type == "code")


def test_a_variable_leaking_between_sections_fails(tmp_path):
    """The check itself: section 2 reads a name that only section 1 defines."""
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title", id="t"),
                nbformat.v4.new_code_cell("base = 1", id="setup"),
                nbformat.v4.new_markdown_cell("## 1. one", id="m1"),
                nbformat.v4.new_code_cell("name = 'left over'", id="c1"),
                nbformat.v4.new_markdown_cell("Not a heading: the same section.", id="m1b"),
                nbformat.v4.new_code_cell("print(base, name)", id="c1b"),
                nbformat.v4.new_markdown_cell("## 2. two", id="m2"),
                nbformat.v4.new_code_cell("print(base, name)", id="c2")]
    path = tmp_path / "leak.ipynb"
    nbformat.write(nb, str(path))
    assert tool.sections(nb) == [[0, 1], [2, 3, 4, 5], [6, 7]]
    top_to_bottom, _ = tool.execute(path)
    assert top_to_bottom.cells[7].outputs[0]["text"] == "1 left over\n"
    with pytest.raises(CellExecutionError, match="NameError"):
        tool.execute_sections(path)


def _same(expected, drawn) -> bool:
    """Two series equal where both are finite (a log plot drops zeros, a loss curve infs)."""
    if len(expected) != len(drawn):
        return False
    both = [(a, b) for a, b in zip(expected, drawn, strict=True) if a is not None and b is not None]
    return bool(both) and all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in both)


def _unsmoothed(label: str) -> str:
    return re.sub(r" \(mean of \d+\)$", "", label)  # a smoothed loss curve: "plain (mean of 4)"


def legend_problems(axes_drawn: list, axes_expected: list) -> list[str]:
    """What is wrong with a figure's legends (FIGURE_PROBE's first line) against the runs
    expected on each axes (its second line): each legend lists exactly those runs, and the line
    labelled with a run's name has the colour of a line holding that run's values."""
    if not any(ax["legend"] for ax in axes_drawn):
        return ["no legend"]
    if len(axes_drawn) < len(axes_expected):
        return [f"{len(axes_drawn)} axes, {len(axes_expected)} expected"]
    problems = []
    for k, (ax, expected) in enumerate(zip(axes_drawn, axes_expected, strict=False)):
        shown = sorted(_unsmoothed(t) for t in ax["legend"])
        if ax["legend"] and shown != sorted(expected):
            problems.append(f"axes {k}: the legend says {ax['legend']}, the runs are "
                            f"{list(expected)}")
        for name, values in expected.items():
            if values is None:
                continue
            labelled = [ln for ln in ax["lines"] if _unsmoothed(ln["label"]) == name]
            holding = {ln["colour"] for ln in ax["lines"] if _same(values, ln["y"])}
            if len(labelled) != 1:
                problems.append(f"axes {k}: {len(labelled)} lines labelled {name!r}")
            elif labelled[0]["colour"] not in holding:
                problems.append(f"axes {k}: the line labelled {name!r} does not draw its values")
    return problems


@pytest.mark.parametrize("cid", sorted(LEGENDS))
def test_plot_legends_name_the_runs_they_draw(run, cid):
    axes_drawn, axes_expected = (json.loads(line) for line in run.probes[cid].splitlines())
    problems = legend_problems(axes_drawn, axes_expected)
    assert not problems, f"cell {cid!r}: " + "; ".join(problems)


def test_legend_check_catches_a_wrong_or_swapped_label():
    def line(label, colour, y):
        return {"label": label, "colour": colour, "y": y}

    expected = [{"sane (0.01)": [0.0, 0.0], "far too high (1.0)": [0.0, 1.0]}]
    right = [{"legend": ["sane (0.01)", "far too high (1.0)"],
              "lines": [line("sane (0.01)", "#1", [0.0, 0.0]),
                        line("far too high (1.0)", "#2", [0.0, 1.0])]}]
    assert legend_problems(right, expected) == []
    swapped = [{"legend": right[0]["legend"],
                "lines": [line("far too high (1.0)", "#1", [0.0, 0.0]),
                          line("sane (0.01)", "#2", [0.0, 1.0])]}]
    assert len(legend_problems(swapped, expected)) == 2
    leftover = [{"legend": ["zero-centred inputs"] * 2,  # the old cell 17
                 "lines": [line("zero-centred inputs", "#1", [0.0, 0.0]),
                           line("zero-centred inputs", "#2", [0.0, 1.0])]}]
    assert any("the legend says" in p for p in legend_problems(leftover, expected))
    assert legend_problems([{"legend": [], "lines": []}], expected) == ["no legend"]


# -- what a reader sees -------------------------------------------------------------------------
@pytest.mark.parametrize("cid", GRAPHS)
def test_graphs_show_as_svg(fresh, cid):
    svg = data_of(fresh, cid, "image/svg+xml")
    assert "<svg" in svg[:500] and "</svg>" in svg


def test_neuron_graph_shows_each_leaf_gradient(fresh):
    from tinygrad_lite.experiments.neuron import sigmoid_neuron

    svg = data_of(fresh, "neuron-graph", "image/svg+xml")
    texts = {html.unescape(t).strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)}
    for name, grad in sigmoid_neuron().grads.items():
        assert name in texts and f"grad {grad:.4g}" in texts, (name, grad)


def test_dead_relu_graph_marks_the_dead_layer(fresh):
    svg = html.unescape(data_of(fresh, "dead-grad", "image/svg+xml"))
    assert "DEAD 100% of units (100/100)" in svg


@pytest.mark.parametrize("cid", PLOTS)
def test_plots_show_as_png(fresh, cid):
    png = base64.b64decode(data_of(fresh, cid, "image/png"))
    assert png.startswith(PNG_MAGIC) and len(png) > 5000


@pytest.mark.parametrize("cid, frame, title", [
    ("neuron-animation", "tgl-anim-frame", "The sigmoid neuron, one node per step"),
    ("explore", "tgl-explorer", "lr 1.0: ReLU units dying, step by step"),
])
def test_animation_and_explorer_show_as_html_frames(fresh, cid, frame, title):
    page = data_of(fresh, cid, "text/html")
    assert page.startswith(f'<iframe class="{frame}"') and "srcdoc=" in page
    inner = html.unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))
    assert inner.startswith("<!DOCTYPE html>") and title in inner and "<svg" in inner
    assert "http://" not in inner.replace("http://www.w3.org", "")  # nothing loaded


# -- the lecture's numbers ----------------------------------------------------------------------
def test_neuron_gradients(text):
    from tinygrad_lite.experiments.neuron import LECTURE, sigmoid_neuron

    result = sigmoid_neuron()
    out = text["neuron-numbers"]
    assert grab(rf"f = {NUM}", out) == pytest.approx(result.output, abs=5e-5)
    for name, grad in result.grads.items():
        printed = grab(rf"df/d{name} = {NUM}", out)
        assert printed == pytest.approx(grad, abs=5e-5)  # printed with 4 decimals
        assert printed == pytest.approx(LECTURE[name], abs=0.005)  # the slide's 2 decimals


def test_saturating_activations_pass_almost_nothing_at_large_x(text):
    import viz

    rows = {}
    for line in text["activation-grads"].splitlines()[1:]:
        name, *vals = line.split()
        rows[name] = [float(v) for v in vals]  # f'(-10), f'(0), f'(10)
    for name in ("sigmoid", "tanh"):
        assert max(abs(rows[name][0]), abs(rows[name][2])) < viz.SATURATION, rows[name]
    assert rows["sigmoid"][1] == pytest.approx(0.25)  # the largest slope sigmoid has
    assert rows["relu"][0] == 0 and rows["relu"][2] == 1
    assert rows["leaky_relu"][0] > 0


def test_too_high_learning_rate_kills_relus(text):
    import viz

    dead = {}
    for line in text["dead-numbers"].splitlines():
        lr = grab(rf"lr {NUM}:", line)
        dead[lr] = grab(rf"ReLU 3: {NUM}% -> {NUM}%", line, n=2)
    sane, highest = min(dead), max(dead)
    assert dead[sane][1] / 100 < viz.MARK_FRACTION  # a sane rate: nothing the drawing marks
    assert dead[highest][0] / 100 < viz.MARK_FRACTION  # alive at init ...
    assert dead[highest][1] / 100 >= 1 - viz.MARK_FRACTION  # ... nearly all dead after
    assert grab(rf"largest \|dL/dW\| into them: {NUM}", text["dead-grad"]) == 0.0


def test_weight_init_std_001_collapses_and_xavier_keeps_a_spread(text):
    from tinygrad_lite.experiments import weight_init

    out = text["init-numbers"]
    width = inspect.signature(weight_init.compare_schemes).parameters["width"].default
    make = weight_init.SCHEMES["tanh, std 0.01"][1]
    w_std = float(np.std(make((width, width), np.random.default_rng(0))))
    small_1, small_10 = grab(rf"tanh, std 0.01: layer 1 std {NUM}, layer 10 std {NUM}", out, 2)
    # tanh is linear near 0: each layer multiplies the std by sqrt(fan_in) * std(W) = 0.22
    predicted = small_1 * (math.sqrt(width) * w_std) ** 9
    assert small_10 == pytest.approx(predicted, rel=0.1)
    xavier_1, xavier_10 = grab(rf"tanh, Xavier: layer 1 std {NUM}, layer 10 std {NUM}", out, 2)
    assert (xavier_10 / xavier_1) ** (1 / 9) > 0.5 > (small_10 / small_1) ** (1 / 9)
    low, high = grab(rf"saturated fraction per layer from {NUM} to {NUM}", out, 2)
    assert low > 0.5  # std 1.0: most tanh units sit where |f'| < 0.01
    assert grab(rf"variance ratio per layer {NUM}", out) == pytest.approx(0.5, abs=0.1)
    assert grab(rf"within a factor {NUM}", out) < 1.25  # He keeps every ReLU layer's std
    grads = text["init-grads"]
    small = grab(rf"std 0.01: \|\|dL/dW\|\| layer 1 {NUM}, layer 10 {NUM}", grads, 2)
    xavier = grab(rf"Xavier: \|\|dL/dW\|\| layer 1 {NUM}, layer 10 {NUM}", grads, 2)
    assert all(s < 1e-3 * x for s, x in zip(small, xavier, strict=True))


def test_batch_norm_trains_where_the_small_init_does_not(text):
    from tinygrad_lite.babysit import expected_initial_loss
    from tinygrad_lite.experiments.batch_norm import TRAINS

    out = text["bn-numbers"]
    ln10 = expected_initial_loss("softmax", 10)
    first, last, acc = grab(rf"plain: +loss {NUM} -> {NUM}, validation accuracy {NUM}%", out, 3)
    assert first == pytest.approx(ln10, rel=0.05) and last == pytest.approx(ln10, rel=0.05)
    assert acc / 100 < TRAINS
    first, last, acc = grab(rf"batch norm: loss {NUM} -> {NUM}, validation accuracy {NUM}%",
                            out, 3)
    assert last < first and acc / 100 >= TRAINS
    train, evaluation = grab(rf"differ by {NUM} in training mode, {NUM} in evaluation",
                             text["bn-mode"], 2)
    assert train > 0 and evaluation == 0


def test_babysitting_initial_loss_is_ln_10(text):
    from tinygrad_lite.babysit import expected_initial_loss

    out = text["babysit-numbers"]
    expected = expected_initial_loss("softmax", 10)
    assert grab(rf"ln 10 = {NUM}", out) == pytest.approx(expected, abs=5e-5)
    loss = grab(rf"initial loss {NUM}, expected", out)
    tol = grab(rf"within the tolerance {NUM}", out)
    assert tol == pytest.approx(0.05 * expected, rel=0.01)  # babysit's default: 5%
    assert abs(loss - expected) <= tol
    without, with_reg = grab(rf"loss {NUM} without regularization, {NUM} with reg", out, 2)
    assert with_reg > without
    assert grab(rf"overfit: \d+ examples: training accuracy {NUM}%", out) == 100
    assert "[TOO LOW]" in out and "[TOO HIGH]" in out and "[REASONABLE]" in out
    assert "overall: PASS" in out


def test_update_to_weight_ratios_tell_the_learning_rates_apart(text):
    from tinygrad_lite.monitor import TARGET_RATIO, Monitor

    tolerance = inspect.signature(Monitor.__init__).parameters["tolerance"].default
    runs = {}
    for line in text["monitor-numbers"].splitlines():
        lr = grab(rf"lr {NUM}:", line)
        runs[lr] = (grab(rf"ratio of 0.weight {NUM}", line),
                    grab(rf"{NUM} warning", line))
    low, sane, high = (runs[lr] for lr in sorted(runs))
    assert low[0] < TARGET_RATIO / tolerance and low[1] > 0
    assert TARGET_RATIO / tolerance <= sane[0] <= TARGET_RATIO * tolerance and sane[1] == 0
    assert high[0] > TARGET_RATIO * tolerance and high[1] > 0


def test_recorder_sees_the_units_die(text):
    import viz

    first, last = grab(rf"ReLU 3 dead on the batch: {NUM}% at the first step, {NUM}% at the "
                       rf"last", text["explore-record"], 2)
    assert first / 100 < viz.MARK_FRACTION <= last / 100


# -- the staleness check itself can fail ---------------------------------------------------------
def _tiny(outputs_text="x = 1.2345\n", source="print('x = 1.2345')"):
    nb = nbformat.v4.new_notebook()
    c = nbformat.v4.new_code_cell(source, id="c1")
    c.metadata["tags"] = [tool.NUMBERS_TAG]
    c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=outputs_text),
                 nbformat.v4.new_output("display_data", data={"image/png": "AAAA",
                                                              "text/plain": "<Figure>"})]
    nb.cells = [c]
    nb.metadata[tool.META_KEY] = {"code_sha256": tool.code_digest(nb)}
    return nb


def test_compare_accepts_an_identical_run():
    assert tool.compare(_tiny(), _tiny()) == []


def test_compare_catches_code_edited_after_the_run():
    stored = _tiny()
    stored.cells[0].source = "print('x =', 1.2345)"
    problems = tool.compare(stored, _tiny(source="print('x =', 1.2345)"))
    assert any("not made by the stored code" in p for p in problems)


def test_compare_catches_changed_numbers_and_outputs():
    assert tool.compare(_tiny(), _tiny(outputs_text="x = 1.2346\n")) == []  # last digit
    problems = tool.compare(_tiny(), _tiny(outputs_text="x = 1.4\n"))
    assert any("x = 1.4" in p for p in problems)
    # a percentage may move by one unit of 100 (another BLAS), not more
    assert tool.compare(_tiny("dead 2.0%\n"), _tiny("dead 3.0%\n")) == []
    assert tool.compare(_tiny("dead 2.0%\n"), _tiny("dead 40.0%\n"))
    fresh = _tiny()
    fresh.cells[0].outputs[1]["data"] = {"text/plain": "<Figure size 640x400 with 1 Axes>"}
    assert any("shows" in p for p in tool.compare(_tiny(), fresh))
