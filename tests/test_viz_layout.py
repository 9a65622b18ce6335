"""Graph layout: networks stack down the page and fit a notebook's width; module clusters
follow the flow of the network instead of a diagonal staircase (issue 12, item 4)."""
import re

import numpy as np
import pytest

pytest.importorskip("graphviz")

import tinygrad_lite.functional as F  # noqa: E402
import viz  # noqa: E402
from tinygrad_lite import Value, nn  # noqa: E402

NOTEBOOK_WIDTH = 1000  # pixels: a notebook's output area is about 900-1000 px wide


def svg_size(g) -> tuple[float, float]:
    """(width, height) in CSS pixels of the rendered SVG (1 pt = 4/3 px)."""
    svg = g.pipe(format="svg", encoding="utf-8")
    m = re.search(r'<svg[^>]*width="([\d.]+)pt"[^>]*height="([\d.]+)pt"', svg)
    return float(m.group(1)) * 4 / 3, float(m.group(2)) * 4 / 3


def mlp3():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(2, 100, rng=1), nn.ReLU(), nn.Linear(100, 100, rng=2),
                          nn.ReLU(), nn.Linear(100, 3, rng=3))
    X = Value(rng.standard_normal((64, 2)), requires_grad=False, label="X")
    loss = F.softmax_cross_entropy(model(X), rng.integers(0, 3, 64))
    loss.backward()
    return model, loss


def tanh10(width=500):
    """The lecture's 10-layer tanh net (small batch)."""
    rng = np.random.default_rng(0)
    layers = []
    for i in range(10):
        layers += [nn.Linear(width, width, rng=i), nn.Tanh()]
    model = nn.Sequential(*layers)
    X = Value(rng.standard_normal((4, width)), requires_grad=False, label="X")
    loss = F.softmax_cross_entropy(model(X), rng.integers(0, 10, 4))
    loss.backward()
    return model, loss


@pytest.mark.parametrize("clusters", [False, True])
def test_a_three_layer_mlp_fits_a_notebook(clusters):
    model, loss = mlp3()
    kw = {"model": model} if clusters else {"params": model}
    g = viz.draw_graph(loss, **kw)
    assert "rankdir=TB" in g.source  # deep: top to bottom by default
    width, height = svg_size(g)
    assert width <= NOTEBOOK_WIDTH < height


def test_clusters_follow_the_flow_of_the_network():
    model, loss = tanh10()
    w0, h0 = svg_size(viz.draw_graph(loss, params=model))
    w1, h1 = svg_size(viz.draw_graph(loss, model=model))
    assert w1 * h1 <= 2 * w0 * h0  # clusters cost at most about twice the area
    assert w1 <= 1.3 * w0 and w1 <= NOTEBOOK_WIDTH  # a column, not a staircase
    with viz.trace_modules(model) as trace:
        loss2 = F.softmax_cross_entropy(model(Value(np.ones((2, 500)), requires_grad=False)),
                                        np.array([0, 1]))
    loss2.backward()
    w2, h2 = svg_size(viz.draw_graph(loss2, model=trace))
    assert w2 * h2 <= 2 * w0 * h0 and w2 <= NOTEBOOK_WIDTH


def test_the_data_path_is_one_straight_group_and_modules_span_two_ranks():
    model, loss = mlp3()
    g = viz.draw_graph(loss, model=model)
    info = g.info
    spine = set(re.findall(r'\t+(n\d+) \[id="\1", group="spine"', g.source))
    names = {info.node(n).name or info.node(n).op for n in spine}
    assert {"matmul", "+", "relu", "softmax_cross_entropy", "X"} <= names
    assert not any(info.node(n).kind == "param" for n in spine)  # weights hang beside
    by_id = {n.id: n for n in info.nodes}
    for e in info.edges:  # an edge with numbers runs through the node that holds them
        eid = f"e_{e.src}_{e.dst}_{e.index}"
        attrs = " ".join(re.findall(rf'\t\S+ -> \S+ \[id="{eid}(?:_tail)?"(.*)\]\n', g.source))
        ranks = sum(int(m) for m in re.findall(r"minlen=(\d+)", attrs)) or 1
        ranks += attrs.count("arrowhead=none") and 1  # two halves: one rank more
        crosses = by_id[e.src].module != by_id[e.dst].module
        assert ranks >= (3 if crosses else 2), (eid, attrs)
        assert ("minlen" in attrs) == crosses or "style=\"dotted\"" in attrs


def test_rankdir_by_default_and_on_request():
    w0, x0 = Value(2.0, label="w0"), Value(-1.0, label="x0")
    w1, x1, w2 = Value(-3.0, label="w1"), Value(-2.0, label="x1"), Value(-3.0, label="w2")
    f = (w0 * x0 + w1 * x1 + w2).sigmoid()
    f.backward()
    assert "rankdir=LR" in viz.draw_graph(f).source  # the lecture's neuron reads left to right
    assert "rankdir=TB" in viz.draw_graph(f, rankdir="TB").source
    _, loss = mlp3()
    assert "rankdir=LR" in viz.draw_graph(loss, rankdir="LR").source
    with pytest.raises(ValueError, match="rankdir must be"):
        viz.draw_graph(f, rankdir="sideways")
