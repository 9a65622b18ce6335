"""viz.draw_graph: numbers on the right nodes and edges, marks, escaping, large graphs, clusters.

The SVG tests render with graphviz-pure (what users get from the viz extra), so they run
whether or not a system Graphviz is installed.
"""
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("graphviz")

import tinygrad_lite.functional as F  # noqa: E402
import viz  # noqa: E402
from tinygrad_lite import Value  # noqa: E402
from viz import escape as esc  # noqa: E402
from viz.render import find_dot  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"


def _pure_available():
    try:
        find_dot("graphviz-pure")
        return True
    except viz.DotNotFoundError:
        return False


needs_pure = pytest.mark.skipif(not _pure_available(), reason="graphviz-pure is not installed")


# -- helpers --------------------------------------------------------------------------------
def neuron():
    """The backprop lecture's neuron: f = sigmoid(w0*x0 + w1*x1 + w2), written out in ops."""
    w0, x0 = Value(2.0, label="w0"), Value(-1.0, label="x0")
    w1, x1 = Value(-3.0, label="w1"), Value(-2.0, label="x1")
    w2 = Value(-3.0, label="w2")
    n = w0 * x0 + w1 * x1 + w2
    f = 1 / (1 + (n * -1).exp())
    f.label = "f"
    f.backward()
    return f, dict(w0=w0, x0=x0, w1=w1, x1=x1, w2=w2)


def svg_tree(graph):
    text = graph.pipe(format="svg", encoding="utf-8")
    return ET.fromstring(text), text


def node_texts(root, node_id):
    g = root.find(f".//{SVG}g[@id='{node_id}']")
    assert g is not None, f"no SVG group for {node_id}"
    return [t.text or "" for t in g.iter(f"{SVG}text")]


def numbers(strings):
    out = []
    for s in strings:
        out += [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", s)]
    return out


def layer_net(kind, *, scale=1.0, shift=0.0, seed=0, n=64, d=32):
    """x -> linear -> activation -> linear -> loss; the activation Value is returned too."""
    rng = np.random.default_rng(seed)
    X = Value(rng.standard_normal((n, d)), requires_grad=False, label="X")
    W1 = Value(rng.standard_normal((d, d)) * scale / np.sqrt(d))
    b1 = Value(np.full(d, shift))
    W2 = Value(rng.standard_normal((d, 4)) / np.sqrt(d))
    h = getattr(X @ W1 + b1, kind)()
    loss = F.softmax_cross_entropy(h @ W2, rng.integers(0, 4, n))
    loss.backward()
    return loss, h, {"fc1.weight": W1, "fc1.bias": b1, "fc2.weight": W2}


# -- the neuron -----------------------------------------------------------------------------
@needs_pure
def test_neuron_numbers_on_the_right_nodes():
    f, leaves = neuron()
    g = viz.draw_graph(f, renderer="graphviz-pure")
    root, _ = svg_tree(g)
    out = g.info.node("f")
    assert any(abs(x - 0.73) < 0.005 for x in numbers(node_texts(root, out.id)))
    expected = {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}
    for name, grad in expected.items():
        nid = g.info.node(name).id
        texts = node_texts(root, nid)
        grad_line = [t for t in texts if t.startswith("grad ")]
        assert len(grad_line) == 1, texts
        assert abs(numbers(grad_line)[0] - grad) < 0.005, (name, grad_line)
        assert abs(g.info.node(name).grad - leaves[name].grad) < 1e-12


@needs_pure
def test_neuron_edges_show_upstream_times_local_equals_downstream():
    f, leaves = neuron()
    g = viz.draw_graph(f, renderer="graphviz-pure")
    root, _ = svg_tree(g)
    w0 = g.info.node("w0")
    (edge,) = [e for e in g.info.edges if e.src == w0.id]
    group = root.find(f".//{SVG}g[@id='e_{edge.src}_{edge.dst}_{edge.index}']")
    label = " ".join(t.text or "" for t in group.iter(f"{SVG}text"))
    up, local, down = numbers([label])
    # the * node multiplying w0 by x0 = -1: upstream 0.20, local -1 (= x0), downstream -0.20
    assert up == pytest.approx(0.1966, abs=1e-4)
    assert local == pytest.approx(-1.0)
    assert down == pytest.approx(up * local, abs=1e-4)
    assert down == pytest.approx(float(leaves["w0"].grad), abs=1e-4)
    # every edge of a scalar graph satisfies downstream = upstream x local
    for e in g.info.edges:
        assert e.down.item() == pytest.approx(e.up.item() * e.local.item(), rel=1e-9, abs=1e-12)


def test_constants_fold_into_op_labels():
    f, _ = neuron()
    info = viz.analyze(f)
    labels = [n.op_label for n in info.nodes if n.kind == "op"]
    assert "* -1" in labels and "+ 1" in labels and "1 /" in labels
    assert not [n for n in info.nodes if n.kind == "const"]  # no node for 1 and -1


def test_ids_follow_trace_order_and_dot_is_deterministic():
    f1, _ = neuron()
    f2, _ = neuron()
    s1, s2 = viz.draw_graph(f1).source, viz.draw_graph(f2).source
    assert s1 == s2  # no id() in the text
    info = viz.analyze(f1)
    assert [n.id for n in info.nodes] == [f"n{i}" for i in range(len(info.nodes))]
    assert [n.name for n in info.nodes[:2]] == ["w0", "x0"]
    assert info.nodes[-1].name == "f" and info.root_id == info.nodes[-1].id
    pos = {n.id: i for i, n in enumerate(info.nodes)}
    assert all(pos[e.src] < pos[e.dst] for e in info.edges)  # inputs before outputs


@needs_pure
def test_svg_parses_and_every_node_has_a_tooltip():
    f, _ = neuron()
    root, _ = svg_tree(viz.draw_graph(f, renderer="graphviz-pure"))
    nodes = [g for g in root.iter(f"{SVG}g") if "node" in (g.get("class") or "").split()]
    assert len(nodes) == 13
    for g in nodes:
        titles = [a.get(f"{XLINK}title") for a in g.iter(f"{SVG}a")]
        assert titles and all(titles), g.get("id")
        assert "grad" in titles[0] and "shape" in titles[0]
    assert "How to read" in ET.tostring(root, encoding="unicode")  # the legend


def test_before_backward_shows_the_forward_pass_only():
    x = Value(np.ones((3, 2)), label="x")
    y = (x * 2).tanh().sum()
    info = viz.analyze(y)
    assert all(not n.reached for n in info.nodes)
    assert "grad None" in viz.draw_graph(y).source


# -- marks ----------------------------------------------------------------------------------
def test_saturated_tanh_layer_is_marked():
    loss, h, params = layer_net("tanh", scale=12.0)
    info = viz.analyze(loss, params)
    node = info.node(h)
    assert node.saturated_fraction > 0.5
    # the fraction is the share of activations with |1 - tanh^2| < 0.01
    assert node.saturated_fraction == pytest.approx(np.mean(1 - h.data ** 2 < 0.01))
    assert "saturated" in node.status
    assert "status-saturated" in viz.draw_graph(loss, params=params).source


def test_dead_relu_layer_is_marked():
    loss, h, params = layer_net("relu", shift=-4.0)
    info = viz.analyze(loss, params)
    node = info.node(h)
    dead = np.all(h.data <= 0, axis=0)
    assert dead.mean() > 0.5
    assert node.dead_fraction == pytest.approx(dead.mean())
    assert node.dead_units == [int(i) for i in np.flatnonzero(dead)]
    assert "dead" in node.status
    src = viz.draw_graph(loss, params=params).source
    assert "status-dead" in src and "DEAD" in src


@pytest.mark.parametrize("kind", ["relu", "tanh", "sigmoid"])
def test_healthy_layer_is_not_marked(kind):
    loss, h, params = layer_net(kind, scale=1.0)
    info = viz.analyze(loss, params)
    node = info.node(h)
    assert not node.status
    assert all(not n.status for n in info.nodes)
    src = viz.draw_graph(loss, params=params).source
    assert "status-" not in src and "DEAD" not in src and "SATURATED" not in src


def test_vanishing_gradients_along_depth_are_marked():
    # the lecture's small init: 8 tanh layers with W ~ 0.01 N(0, 1)
    rng = np.random.default_rng(1)
    h = Value(rng.standard_normal((20, 50)), requires_grad=False)
    acts = []
    for _ in range(8):
        h = (h @ Value(rng.standard_normal((50, 50)) * 0.01)).tanh()
        acts.append(h)
    loss = F.softmax_cross_entropy(h @ Value(rng.standard_normal((50, 3))), rng.integers(0, 3, 20))
    loss.backward()
    info = viz.analyze(loss)
    rel = [info.node(a).grad_rel for a in acts]
    assert all(a < b for a, b in zip(rel[:-1], rel[1:], strict=True))  # shrinking inputward
    assert "vanishing" in info.node(acts[0]).status
    assert "vanishing" not in info.node(acts[-1]).status
    assert "VANISHING" in viz.draw_graph(loss).source


def test_exploding_and_nonfinite_gradients_are_marked():
    x = Value(np.ones((4, 4)))
    a = x * 1.0
    b = a * 1e6
    c = (b * np.inf).sum() + (a * 1.0).sum()
    c.backward()
    info = viz.analyze(c)
    assert "non-finite" in info.node(b).status or "non-finite" in info.node(a).status
    y = Value(np.ones(5))
    a = y * 1.0
    b = a * 1e4
    c = b * 1e2  # d loss / d c = 1, d loss / d b = 100, d loss / d a = 1e6 per element
    z = c.sum()
    z.backward()
    info = viz.analyze(z)
    assert info.node(a).grad_rel == pytest.approx(1e6)
    assert "exploding" in info.node(a).status
    assert not info.node(b).status and not info.node(c).status


def test_thresholds_are_arguments():
    loss, h, params = layer_net("tanh", scale=3.0)
    frac = viz.analyze(loss, params).node(h).saturated_fraction
    assert 0 < frac < 0.9
    assert "saturated" not in viz.analyze(loss, params, mark_fraction=0.95).node(h).status
    assert "saturated" in viz.analyze(loss, params, mark_fraction=frac / 2).node(h).status
    assert viz.analyze(loss, params, saturation=1.1).node(h).saturated_fraction == 1.0


def test_tensor_graph_nodes_show_shape_stats_and_grad_norm():
    loss, h, params = layer_net("relu")
    g = viz.draw_graph(loss, params=params)
    n = g.info.node("fc1.weight")
    W = params["fc1.weight"]
    assert n.shape == (32, 32)
    assert n.mean == pytest.approx(W.data.mean()) and n.std == pytest.approx(W.data.std())
    assert n.grad_norm == pytest.approx(np.linalg.norm(W.grad))
    assert f"grad norm {n.grad_norm:.3g}" in g.source
    assert "(32, 32) mean" in g.source
    # a matmul edge shows the vjp rule, an elementwise edge its rule; both the norm of down,
    # and never an "equation" between norms, which do not multiply
    into = {e.index: e for e in g.info.edges_into(h)}
    assert any(e.text()[0] == "down = up @ b.T" for e in g.info.edges)
    assert into[0].text() == ["down = up \u00d7 local",
                              f"|down| {np.linalg.norm(into[0].down):.3g}"]
    assert not any("|up|" in t or "|local|" in t for e in g.info.edges for t in e.text())


# -- escaping -------------------------------------------------------------------------------
NASTY = ['<script>alert("x")</script>', 'a"b', "{x|y}", "back\\slash \\N \\G", "<b>&amp;</b>",
         "tab\tnew\nline", "ctrl\x01char"]


@needs_pure
@pytest.mark.parametrize("label", NASTY)
def test_labels_render_literally(label):
    a = Value(np.ones(3), label=label)
    b = Value(2.0, label=label)
    y = (a * b).sum()
    y.label = label
    y.backward()
    g = viz.draw_graph(y, params={label + " p": a}, renderer="graphviz-pure", title=label)
    root, text = svg_tree(g)  # parses: nothing broke out of its string
    assert root.find(f".//{SVG}script") is None
    shown = esc.printable(label)  # control characters as \\xNN: XML allows none of them
    texts = "\n".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for piece in shown.replace("\t", " ").split("\n"):  # in a drawn label a tab is a space
        assert piece in texts, (piece, texts[:500])
    tips = [a.get(f"{XLINK}title") for a in root.iter(f"{SVG}a")]
    # XML reads a raw tab in an attribute as a space (attribute-value normalization)
    assert any(shown.replace("\t", " ") in (t or "") for t in tips)


def test_escape_functions():
    assert esc.html('<a href="x">&</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
    assert esc.dot_string('a"b\\c&\n') == 'a\\"b\\\\c&amp;\\n'
    assert "</script>" not in esc.script_json({"a": "</script><!--"})
    assert esc.printable("a\x00b") == "a\\x00b"


# -- large graphs ---------------------------------------------------------------------------
def test_huge_graph_is_refused_with_a_message_not_a_recursion_error():
    x = Value(0.5, label="x")
    y = x
    for _ in range(50_000):
        y = y * 0.999 + 0.001  # 100,000 ops
    y.backward()
    with pytest.raises(viz.GraphTooLargeError, match=r"max_nodes=500.*collapse.*depth=N"):
        viz.draw_graph(y)
    g = viz.draw_graph(y, depth=5)
    kinds = [n.kind for n in g.info.nodes]
    assert kinds.count("more") == 1 and len(kinds) == 7
    more = g.info.nodes[kinds.index("more")]
    # 100,000 ops, 100,000 constants and x, less the 6 ops and 5 constants within depth 5
    assert more.members == 200_001 - 11
    assert "more nodes beyond depth 5" in g.source


def test_max_nodes_message_says_how_to_collapse():
    loss, _, params = layer_net("relu")
    with pytest.raises(viz.GraphTooLargeError) as e:
        viz.draw_graph(loss, params=params, max_nodes=5)
    msg = str(e.value)
    assert "9 nodes to draw" in msg and "trace_modules" in msg and "depth=N" in msg


# -- modules --------------------------------------------------------------------------------
def mlp_model():
    nn = pytest.importorskip("tinygrad_lite.nn")
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(6, 8, rng=rng), nn.ReLU(), nn.Linear(8, 3, rng=rng))
    X = Value(rng.standard_normal((10, 6)), requires_grad=False, label="X")
    return model, X, rng.integers(0, 3, 10)


def test_trace_modules_gives_clusters_and_parameter_names():
    model, X, y = mlp_model()
    with viz.trace_modules(model) as trace:
        loss = F.softmax_cross_entropy(model(X), y)
    loss.backward()
    g = viz.draw_graph(loss, model=trace)
    info = g.info
    assert {n.name for n in info.nodes if n.kind == "param"} == {
        "0.weight", "0.bias", "2.weight", "2.bias"}
    relu = next(n for n in info.nodes if n.op == "relu")
    assert relu.module == "1"
    mm = [n for n in info.nodes if n.op == "matmul"]
    assert [n.module for n in mm] == ["0", "2"]
    assert info.node("X").module is None and info.nodes[-1].module is None  # input, loss
    assert g.source.count("subgraph cluster_") == 3
    assert "0 (Linear)" in g.source and "1 (ReLU)" in g.source
    # the hooks are gone after the with block
    with viz.trace_modules(model) as t2:
        pass
    model(X)
    assert t2.calls == []


def test_model_without_trace_clusters_by_nearest_parameter():
    model, X, y = mlp_model()
    loss = F.softmax_cross_entropy(model(X), y)
    loss.backward()
    info = viz.analyze(loss, model=model)
    relu = next(n for n in info.nodes if n.op == "relu")
    assert relu.module == "0"  # its nearest parameter is 0.bias
    assert info.node("2.weight").module == "2"


def test_collapse_modules_draws_one_node_per_module():
    model, X, y = mlp_model()
    with viz.trace_modules(model) as trace:
        loss = F.softmax_cross_entropy(model(X), y)
    loss.backward()
    info = viz.analyze(loss, model=trace, collapse="modules")
    kinds = [(n.kind, n.name) for n in info.nodes]
    assert kinds == [("input", "X"), ("module", "0"), ("module", "1"), ("module", "2"),
                     ("op", None)]
    lin = info.nodes[1]
    assert lin.op == "Linear" and lin.members == 4
    assert [p[0] for p in lin.params] == ["0.weight", "0.bias"]
    assert [(e.src, e.dst) for e in info.edges] == [("n0", "n1"), ("n1", "n2"), ("n2", "n3"),
                                                    ("n3", "n4")]
    with pytest.raises(ValueError, match="collapse='modules' needs model="):
        viz.analyze(loss, collapse="modules")


def test_params_dict_names_leaves():
    loss, h, params = layer_net("relu")
    info = viz.analyze(loss, params)
    assert info.node("fc1.weight").value_ref is params["fc1.weight"]
    with pytest.raises(TypeError, match="params must be"):
        viz.analyze(loss, params=[1, 2])


def test_odd_graphs_draw():
    y = Value(3.0, label="q")
    sq = y * y  # one parent twice: two edges, input 0 and input 1
    sq.backward()
    info = viz.analyze(sq)
    assert [(e.src, e.dst, e.index) for e in info.edges] == [("n0", "n1", 0), ("n0", "n1", 1)]
    assert [e.down.item() for e in info.edges] == [3.0, 3.0] and info.node("q").grad == 6.0
    empty = Value(np.ones((0, 3)))
    z = (empty.relu() * 2).sum()
    z.backward()
    assert all(not n.status for n in viz.analyze(z).nodes)
    assert viz.draw_graph(z).source.startswith("digraph")
    x32 = Value(np.ones((2, 2), np.float32))
    s = (x32 * 3).tanh().sum()
    s.backward()
    assert "float32" in viz.draw_graph(s).source
    from tinygrad_lite import no_grad

    with no_grad():
        c = Value(np.ones(3)) * 2
    (only,) = viz.analyze(c).nodes
    assert only.kind == "input" and not only.reached
