"""Marks a person can trust: judged on a batch, on the data path, and quoted from the member
that raised them, with numbers consistent with the legend's thresholds (issue 12, item 5)."""
import re

import numpy as np
import pytest

pytest.importorskip("graphviz")

import tinygrad_lite.functional as F  # noqa: E402
import viz  # noqa: E402
from tinygrad_lite import Value, nn  # noqa: E402
from viz.info import ratio  # noqa: E402


def label_texts(g):
    """Every text row of every node label, as the DOT source holds it (entities decoded)."""
    rows = re.findall(r"<B>((?:[^<]|<BR/>)*)</B>|COLOR=\"#555555\">([^<]*(?:<BR/>[^<]*)*)</FONT>",
                      g.source)
    out = []
    for bold, quiet in rows:
        out.append((bold or quiet).replace("<BR/>", " ").replace("&lt;", "<")
                   .replace("&#39;", "'"))
    return out


def plain(src: str) -> str:
    """DOT text with the legend's line breaks as spaces, to search for its sentences."""
    return re.sub(r"\s*<BR[^>]*/>\s*", " ", src)


# -- dead and saturated are judged on a batch -------------------------------------------------
def test_a_scalar_relu_at_zero_is_not_called_dead():
    a, w = Value(-1.5, label="a"), Value(0.7, label="w")
    h = (a * w).relu()
    loss = h + w * 2.0
    loss.backward()
    g = viz.draw_graph(loss)
    node = g.info.node(h)
    assert node.examples == 1 and node.dead_fraction is None and "dead" not in node.status
    assert "zero on this example: passes no gradient" in node.notes
    assert "DEAD" not in g.source and "status-dead" not in g.source
    assert any("zero on this example" in t for t in label_texts(g))
    assert "judged on a batch" in plain(g.source)  # the legend says why
    assert "zero on this example" in node.summary()  # and so does the tooltip


def test_a_scalar_sigmoid_far_out_says_so_without_a_mark():
    x = Value(9.0, label="x")
    s = x.sigmoid()
    s.backward()
    info = viz.analyze(s)
    node = info.node(s)
    fprime = s.item() * (1 - s.item())
    assert fprime < viz.SATURATION
    assert node.saturated_fraction is None and not node.status
    assert node.notes == [f"|f'| {fprime:.2g} < 0.01 on this example"]


def test_one_example_vector_counts_units_but_marks_nothing():
    x = Value(np.array([-1.0, 2.0, -3.0, 4.0]), label="x")
    h = x.relu()
    h.sum().backward()
    node = viz.analyze(h.sum()).node(h)
    assert node.examples == 1 and node.units == 4
    assert node.notes == ["2/4 units zero on this example"] and not node.status


def test_a_batch_is_still_judged():
    x = Value(np.array([[-1.0, 2.0, -3.0], [-2.0, 1.0, 3.0]]), label="x")
    h = x.relu()
    h.sum().backward()
    node = viz.analyze(h.sum()).node(h)
    assert node.examples == 2 and node.dead_units == [0] and "dead" in node.status
    assert node.reasons["dead"] == "33% of units (1/3)"


# -- vanishing means the data path --------------------------------------------------------------
def l2_net(strength=1e-4):
    rng = np.random.default_rng(0)
    X = Value(rng.standard_normal((16, 5)), requires_grad=False, label="X")
    W = Value(rng.standard_normal((5, 3)) * 0.5, label="W")
    data_loss = F.softmax_cross_entropy(X @ W, rng.integers(0, 3, 16))
    reg = ((W * W).sum() * strength).named("reg")
    loss = data_loss + reg
    loss.backward()
    return loss, reg, W


def test_an_l2_term_scaled_by_its_strength_is_not_vanishing():
    loss, reg, W = l2_net(1e-5)
    info = viz.analyze(loss, {"W": W})
    square = info.node(reg.parents[0].parents[0])  # W * W, whose gradient is 1e-4 * 1
    assert square.grad_rel < viz.VANISHING_RATIO  # what the old rule called VANISHING
    off = [n for n in info.nodes if not n.data_path]
    assert {id(n.value_ref) for n in off} >= {id(reg), id(square.value_ref)}
    assert not any(n.status for n in off)
    assert not info.marked("vanishing")
    src = viz.draw_graph(loss, params={"W": W}).source
    assert "VANISHING" not in src and "L2 term" in plain(src)  # the legend: how they differ
    assert "not judged vanishing or exploding" in square.summary()


def test_a_scalar_l2_term_is_not_vanishing():
    """micrograd style: inputs are Values too; params= says which leaves are parameters."""
    x, w, b = Value(0.5, label="x"), Value(-2.0, label="w"), Value(0.3, label="b")
    reg = ((w * w + b * b) * 1e-4).named("reg")
    loss = (x * w + b).tanh() + reg
    loss.backward()
    info = viz.analyze(loss, {"w": w, "b": b})
    node = info.node("reg")
    assert node.grad_rel == 1.0 and not node.data_path  # reg itself: gradient 1
    squares = [n for n in info.nodes if n.op == "*" and not n.data_path and n.id != node.id]
    assert squares and all(n.grad_rel < viz.VANISHING_RATIO for n in squares)
    assert not info.marked("vanishing")
    assert info.node("x").data_path and info.node(loss).data_path


def test_a_gradient_that_shrinks_along_the_data_path_is_still_vanishing():
    rng = np.random.default_rng(1)
    h = Value(rng.standard_normal((20, 50)), requires_grad=False, label="X")
    Ws, acts = [], []
    for _ in range(8):
        Ws.append(Value(rng.standard_normal((50, 50)) * 0.01))
        h = (h @ Ws[-1]).tanh()
        acts.append(h)
    loss = F.softmax_cross_entropy(h, rng.integers(0, 3, 20)) + (Ws[0] * Ws[0]).sum() * 1e-4
    loss.backward()
    info = viz.analyze(loss)
    first = info.node(acts[0])
    assert first.data_path and "vanishing" in first.status
    assert first.reasons["vanishing"] == f"gradient rms {ratio(first.grad_rel)}\u00d7 ref"


def test_a_gradient_cut_to_exactly_zero_is_noted_not_vanishing():
    x = Value(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=False, label="X")
    W = Value(np.array([[-1.0, -1.0], [-1.0, -1.0]]), label="W")
    h = (x @ W).relu()  # every unit off: no gradient reaches W
    loss = h.sum() + (W * 0.5).sum()
    loss.backward()
    info = viz.analyze(loss, {"W": W})
    pre = info.node(h.parents[0])
    assert pre.grad_rms == 0.0 and "vanishing" not in pre.status
    assert any("exactly 0" in note for note in pre.notes)
    assert "dead" in info.node(h).status


# -- collapsed modules quote the member ---------------------------------------------------------
def bn_net():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(6, 16, rng=1), nn.BatchNorm1d(16), nn.ReLU(),
                          nn.Linear(16, 3, rng=2))
    X = Value(rng.standard_normal((32, 6)), requires_grad=False, label="X")
    with viz.trace_modules(model) as trace:
        loss = F.softmax_cross_entropy(model(X), rng.integers(0, 3, 32))
    loss.backward()
    return model, trace, loss


def test_a_collapsed_module_names_the_member_and_quotes_its_number():
    model, trace, loss = bn_net()
    full = viz.analyze(loss, model=trace)
    bias = full.node("0.bias")  # a bias before batch norm: its gradient cancels to ~0
    assert "vanishing" in bias.status and bias.grad_rel < viz.VANISHING_RATIO
    assert any("cancels over the batch" in note for note in bias.notes)
    g = viz.draw_graph(loss, model=trace, collapse="modules")
    module = g.info.node("0")
    assert module.kind == "module" and module.grad_rel > viz.VANISHING_RATIO  # its output
    quoted = f"0.bias: gradient rms {ratio(bias.grad_rel)}\u00d7 ref"
    assert module.reasons["vanishing"] == quoted
    rows = [t for t in label_texts(g) if t.startswith("VANISHING")]
    assert rows == [f"VANISHING {quoted}"]
    assert "names the member" in plain(g.source)  # the legend


def test_a_collapsed_module_quotes_its_worst_dead_member():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 20, rng=1), nn.ReLU(), nn.Linear(20, 3, rng=2))
    model[0].bias.data[:] = -3.0  # most units never switch on
    X = Value(rng.standard_normal((64, 4)), requires_grad=False, label="X")
    loss = F.softmax_cross_entropy(model(X), rng.integers(0, 3, 64))
    loss.backward()
    full = viz.analyze(loss, model=model)
    relu = next(n for n in full.nodes if n.op == "relu")
    g = viz.analyze(loss, model=model, collapse="modules")
    module = next(n for n in g.nodes if n.kind == "module" and "dead" in n.status)
    assert module.reasons["dead"] == f"relu: {relu.reasons['dead']}"
    pct = 100 * relu.dead_fraction
    assert relu.reasons["dead"].startswith(f"{pct:.0f}% of units")


def test_quoted_numbers_agree_with_the_thresholds():
    graphs = [bn_net()[2], l2_net()[0]]
    rng = np.random.default_rng(1)
    h = Value(rng.standard_normal((20, 30)), requires_grad=False)
    for _ in range(6):
        h = (h @ Value(rng.standard_normal((30, 30)) * 0.01)).tanh()
    deep = F.softmax_cross_entropy(h, rng.integers(0, 3, 20))
    deep.backward()
    graphs.append(deep)
    checked = 0
    for root in graphs:
        for info in (viz.analyze(root), ):
            for n in info.nodes:
                for st in n.status:
                    reason = n.reasons[st]
                    if st == "vanishing":
                        found = re.search(r"gradient rms ([0-9.e+-]+)\u00d7 ref", reason)
                        number = float(found.group(1))
                        assert number < viz.VANISHING_RATIO
                        checked += 1
                    elif st in ("dead", "saturated"):
                        pct = float(re.search(r"(\d+)%", reason).group(1))
                        assert pct >= 100 * viz.MARK_FRACTION
                        checked += 1
    assert checked >= 3
