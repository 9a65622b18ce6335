"""What a learner sees in draw_graph's SVG, checked on the drawing itself (issues 19 and 20).

* Edge numbers belong to one edge: each line of an edge's numbers is nearer its own edge's
  path than any other edge's, and touches its own path (geometry of the rendered SVG).
* Text fits its box when drawn in DejaVu Sans (the font a machine with only DejaVu fonts
  uses, whatever the SVG asks for); the legend fits its frame.
* No internal ids (n3, e_n0_n2_0) in any text or tooltip; what an edge says holds; the marks
  explain themselves in the legend.
* Hostile, blank and very long labels, titles, op and module names draw literally or blank.

Text widths are measured with matplotlib's copy of DejaVu Sans, so the checks run wherever
matplotlib is installed.
"""
import importlib
import re
import sys
import xml.etree.ElementTree as ET
from functools import cache

import numpy as np
import pytest

pytest.importorskip("graphviz")
pytest.importorskip("matplotlib")

import tinygrad_lite.functional as F  # noqa: E402
import viz  # noqa: E402
from tinygrad_lite import Function, Value, nn  # noqa: E402
from viz import escape as esc  # noqa: E402
from viz.render import DotNotFoundError, find_dot  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"

try:
    find_dot("graphviz-pure")
    HAVE_PURE = True
except DotNotFoundError:
    HAVE_PURE = False
needs_pure = pytest.mark.skipif(not HAVE_PURE, reason="graphviz-pure is not installed")


# -- graphs -----------------------------------------------------------------------------------
def neuron():
    """The lecture's neuron, f = sigmoid(w0*x0 + w1*x1 + w2)."""
    w0, x0 = Value(2.0, label="w0"), Value(-1.0, label="x0")
    w1, x1 = Value(-3.0, label="w1"), Value(-2.0, label="x1")
    w2 = Value(-3.0, label="w2")
    f = (w0 * x0 + w1 * x1 + w2).sigmoid()
    f.label = "f"
    f.backward()
    return f, {}


def mlp3():
    """A 3-layer MLP with a softmax loss, clustered by module."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(2, 16, rng=1), nn.ReLU(), nn.Linear(16, 16, rng=2),
                          nn.ReLU(), nn.Linear(16, 3, rng=3))
    X = Value(rng.standard_normal((32, 2)), requires_grad=False, label="X")
    loss = F.softmax_cross_entropy(model(X), rng.integers(0, 3, 32))
    loss.backward()
    return loss, {"model": model}


class Sum4(Function):
    """a + b + c + d: one op with four inputs."""

    op = "sum4"

    @staticmethod
    def forward(ctx, a, b, c, d):
        return a + b + c + d

    @staticmethod
    def backward(ctx, grad):
        return grad, grad, grad, grad


def four_in():
    """Four edges meet one node: an op with four inputs."""
    a, b, c, d = (Value(float(i + 1), label=n) for i, n in enumerate("abcd"))
    s = Sum4.apply(a, b, c, d)
    s.backward()
    return s, {}


def four_out():
    """Four edges leave one node: x feeds four ops."""
    x = Value(0.5, label="x")
    y = (x * 3.0).tanh() + x * x + x.exp() * 0.1
    y.label = "y"
    y.backward()
    return y, {}


GRAPHS = {"neuron": neuron, "mlp": mlp3, "four_in": four_in, "four_out": four_out}


def svg_of(root, **kw) -> str:
    return viz.draw_graph(root, renderer="graphviz-pure", **kw).pipe(format="svg",
                                                                      encoding="utf-8")


# -- geometry ---------------------------------------------------------------------------------
@cache
def _font(weight: str, style: str, size: float):
    from matplotlib.font_manager import FontProperties

    return FontProperties(family="DejaVu Sans", weight=weight, style=style, size=size)


def text_box(t) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of an SVG <text> drawn in DejaVu Sans (y grows downwards)."""
    from matplotlib.textpath import TextToPath

    size = float(t.get("font-size", "14"))
    prop = _font(t.get("font-weight", "normal"), t.get("font-style", "normal"), size)
    width = TextToPath().get_text_width_height_descent("".join(t.itertext()), prop,
                                                       ismath=False)[0]
    x, y = float(t.get("x")), float(t.get("y"))
    anchor = t.get("text-anchor", "start")
    x0 = x - {"start": 0.0, "middle": width / 2, "end": width}[anchor]
    return x0, y - 0.76 * size, x0 + width, y + 0.24 * size


def path_points(d: str) -> np.ndarray:
    """Points along an SVG path of cubic Bezier segments (as Graphviz writes edges)."""
    xy = np.array([float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", d)])
    pts = xy.reshape(-1, 2)
    t = np.linspace(0.0, 1.0, 32)[:, None]
    out = [pts[:1]]
    for i in range(0, len(pts) - 3, 3):
        p0, p1, p2, p3 = pts[i:i + 4]
        out.append((1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t ** 2 * p2
                   + t ** 3 * p3)
    return np.concatenate(out)


def box_distance(box, pts: np.ndarray) -> float:
    x0, y0, x1, y1 = box
    dx = np.maximum(np.maximum(x0 - pts[:, 0], 0.0), pts[:, 0] - x1)
    dy = np.maximum(np.maximum(y0 - pts[:, 1], 0.0), pts[:, 1] - y1)
    return float(np.hypot(dx, dy).min())


def edge_groups(svg: str) -> dict:
    """edge id -> (points of its path(s), [(text, box)] of its numbers)."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(f"{SVG}g"):
        if "edge" in (g.get("class") or "").split():
            pts = np.concatenate([path_points(p.get("d")) for p in g.iter(f"{SVG}path")])
            texts = [("".join(t.itertext()), text_box(t)) for t in g.iter(f"{SVG}text")]
            out[g.get("id")] = (pts, texts)
    return out


def polygon_box(p) -> tuple[float, float, float, float]:
    xy = np.array([[float(v) for v in pair.split(",")] for pair in p.get("points").split()])
    return xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()


def inside(inner, outer, tol=0.75) -> bool:
    return (inner[0] >= outer[0] - tol and inner[1] >= outer[1] - tol
            and inner[2] <= outer[2] + tol and inner[3] <= outer[3] + tol)


# -- 1. edge numbers belong to one edge -------------------------------------------------------
@needs_pure
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_edge_numbers_lie_on_their_own_edge(name):
    root, kw = GRAPHS[name]()
    edges = edge_groups(svg_of(root, **kw))
    labelled = {k: v for k, v in edges.items() if v[1]}
    assert len(labelled) >= {"neuron": 9, "mlp": 14, "four_in": 4, "four_out": 5}[name]
    for eid, (pts, texts) in labelled.items():
        whole = tuple(np.array([b for _, b in texts]).min(axis=0)[:2]) + tuple(
            np.array([b for _, b in texts]).max(axis=0)[2:])
        assert box_distance(whole, pts) <= 3.0, (eid, texts)  # on its edge, touching its path
        for text, box in texts:  # and every line nearer its own edge than any other
            own = box_distance(box, pts)
            others = {k: box_distance(box, p) for k, (p, _) in edges.items() if k != eid}
            nearest = min(others, key=others.get)
            assert own < others[nearest], (eid, text, own, nearest, others[nearest])


@needs_pure
def test_the_edge_group_holds_both_halves_and_the_numbers():
    f, _ = neuron()
    g = viz.draw_graph(f, renderer="graphviz-pure")
    svg = g.pipe(format="svg", encoding="utf-8")
    root = ET.fromstring(svg)
    for e in g.info.edges:
        group = root.find(f".//{SVG}g[@id='e_{e.src}_{e.dst}_{e.index}']")
        assert group is not None and "edge" in group.get("class").split()
        assert len(group.findall(f".//{SVG}path")) == 2  # into the numbers, out of them
        assert ["".join(t.itertext()) for t in group.iter(f"{SVG}text")] == e.text()
    assert not re.search(r'<g id="e_[^"]*_(numbers|tail)"', svg)  # no group of its own left
    nodes = [x for x in root.iter(f"{SVG}g") if "node" in (x.get("class") or "").split()]
    assert len(nodes) == len(g.info.nodes)


# -- 2. honest annotations --------------------------------------------------------------------
def test_tensor_edges_state_no_equation_between_norms():
    loss, kw = mlp3()
    g = viz.draw_graph(loss, **kw)
    for e in g.info.edges:
        for line in e.text():
            assert "|up|" not in line and "|local|" not in line, line
            if "|down|" in line:  # the one number is the downstream gradient's norm
                shown = float(line.rsplit("|down| ", 1)[1])
                assert shown == pytest.approx(np.linalg.norm(e.down), rel=5e-3)
    legend = re.sub(r"<BR[^>]*/>", " ", g.source)
    assert "|down|, the norm of down" in legend
    assert "rms N\u00d7 ref: the gradient&#39;s root mean square" in legend
    # a scalar edge's equation holds
    f, _ = neuron()
    for e in viz.analyze(f).edges:
        up, local, down = (float(v) for v in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?",
                                                          " ".join(e.text())))
        assert down == pytest.approx(up * local, rel=1e-3, abs=1e-4)


def dead_and_exploding():
    """A ReLU layer dead on the whole batch that still receives a huge gradient."""
    rng = np.random.default_rng(0)
    X = Value(rng.standard_normal((8, 4)), requires_grad=False, label="X")
    W = Value(rng.standard_normal((4, 6)), label="W")
    b = Value(np.full(6, -100.0), label="b")
    h = (X @ W + b).relu()
    out = (h * 1e6 + X.sum(axis=1, keepdims=True)) * 1.0
    loss = out.sum()
    loss.backward()
    return loss, h


def test_a_node_both_dead_and_exploding_explains_itself():
    loss, h = dead_and_exploding()
    g = viz.draw_graph(loss, params={"W": h.parents[0].parents[0].parents[1]})
    node = g.info.node(h)
    assert {"dead", "exploding"} <= set(node.status)
    text = re.sub(r"\s*<BR[^>]*/>\s*", " ", g.source)
    assert "both: the gradient arriving here is large, and its dead units pass" in text
    assert "dead and exploding means a large gradient arrives and none passes on" in text
    assert "EXPLODING gradient rms" in text and "\u00d7 ref" in text


# -- 3. text a learner can read ---------------------------------------------------------------
@needs_pure
@pytest.mark.parametrize("name", ["neuron", "mlp", "tanh"])
def test_text_fits_its_box_in_dejavu_sans(name):
    if name == "tanh":
        from tinygrad_lite.experiments.weight_init import saturated_tanh_net

        loss, model = saturated_tanh_net(batch=8)
        root, kw = loss, {"model": model}
    else:
        root, kw = GRAPHS[name]()
    svg = svg_of(root, title="A title that is long enough to wrap onto a second line", **kw)
    assert 'font-family="DejaVu Sans' in svg and "Helvetica" not in svg
    tree = ET.fromstring(svg)
    checked = 0
    for g in tree.iter(f"{SVG}g"):
        if "node" not in (g.get("class") or "").split():
            continue
        frame = polygon_box(g.find(f".//{SVG}polygon"))
        for t in g.iter(f"{SVG}text"):
            assert inside(text_box(t), frame), ("".join(t.itertext()), text_box(t), frame)
            checked += 1
    graph = tree.find(f"{SVG}g")
    legend = [p for p in graph.findall(f"{SVG}polygon") if p.get("stroke") == "#999999"]
    assert legend, "no legend frame"
    frame = polygon_box(legend[0])
    for t in graph.findall(f"{SVG}text"):  # the graph's own label: title and legend
        assert inside(text_box(t), frame), ("".join(t.itertext()), text_box(t), frame)
        checked += 1
    assert checked > 40


ID = re.compile(r"\b(?:n\d+|e_n\d+_n\d+_\d+|cluster_m\d+)\b")


@needs_pure
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_no_internal_ids_in_any_text(name):
    root, kw = GRAPHS[name]()
    tree = ET.fromstring(svg_of(root, **kw))
    shown = ["".join(t.itertext()) for t in tree.iter(f"{SVG}text")]
    shown += [a.get(f"{XLINK}title") or "" for a in tree.iter(f"{SVG}a")]
    shown += [t.text or "" for t in tree.iter(f"{SVG}title")]
    leaks = [s for s in shown if ID.search(s)]
    assert not leaks, leaks[:3]
    assert all(n.summary().split("\n")[0] == (n.name or n.op_label or n.kind)
               for n in viz.analyze(root, kw.get("params"), model=kw.get("model")).nodes)


# -- issue 19: blank, long and hostile text ---------------------------------------------------
BLANK = ["", " ", "\n", "\u2028", "\t \u2029"]


@needs_pure
@pytest.mark.parametrize("blank", BLANK)
def test_blank_labels_and_titles_draw_blank(blank):
    x = Value(np.ones(3), label=blank)
    w = Value(2.0, label=blank)
    y = (x * w).sum()
    y.label = blank
    y.backward()
    g = viz.draw_graph(y, params={blank: w}, title=blank, renderer="graphviz-pure")
    root = ET.fromstring(g.pipe(format="svg", encoding="utf-8"))  # no "syntax error <B></B>"
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "sum" in texts[0] or any(t.startswith("sum") for t in texts)
    assert viz.draw_graph(y, title=blank, legend=False, renderer="graphviz-pure").pipe(
        format="svg")


@needs_pure
def test_a_very_long_label_is_cut_in_the_picture_and_whole_in_the_tooltip():
    long = "x" * 19_990 + "THE END!!!"
    a = Value(np.ones(3), label=long)
    y = (a * 2.0).sum()
    y.backward()
    svg = svg_of(y, title=long)
    width = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
    assert width < 1500  # not 400,000 pt
    root = ET.fromstring(svg)
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert max(len(t) for t in texts) < 200 and any(t.endswith("\u2026") for t in texts)
    tips = [a.get(f"{XLINK}title") or "" for a in root.iter(f"{SVG}a")]
    assert any(long in t for t in tips)


HOSTILE = ['<script>alert(1)</script>', '" onmouseover="alert(1)', "'><img src=x onerror=1>",
           "</svg><script>alert(2)</script>", "]]><x>", "{{SVG}} {{STEPS}} {{FRAGMENT}}",
           'a"b\\c{d}|e<f>g', "line\nbreak", "\u202eevil\u202c", "para\u2028graph",
           "\\N \\G \\L", "&amp; &lt;", "x" * 300]


@needs_pure
@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_everywhere_renders_literally(text):
    class Evil(Function):
        op = text

        @staticmethod
        def forward(ctx, a):
            return a * 2.0

        @staticmethod
        def backward(ctx, grad):
            return (grad * 2.0,)

    linear = type(text.replace("\n", " "), (nn.Linear,), {})  # a module class of that name
    model = nn.Sequential(linear(3, 2, rng=0))
    x = Value(np.ones((4, 3)), requires_grad=False, label=text)
    y = Evil.apply(model(x)).sum()
    y.label = text
    y.backward()
    g = viz.draw_graph(y, model=model, title=text, renderer="graphviz-pure")
    svg = g.pipe(format="svg", encoding="utf-8")
    root = ET.fromstring(svg)  # it parses: nothing broke out of a string or an element
    assert root.find(f".//{SVG}script") is None and root.find(f".//{SVG}img") is None
    assert root.find(f".//{SVG}x") is None
    for el in root.iter():
        assert not any(k.lower().startswith("on") for k in el.attrib), el.attrib
    shown = "\n".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    want = esc.shorten(esc.one_line(text).strip(), 40)
    assert want in shown.replace("\n", " ") or want[:30] in shown, (want, shown[:400])
    assert "\u202e" not in svg  # a right-to-left override would reorder what follows
    tips = " ".join(a.get(f"{XLINK}title") or "" for a in root.iter(f"{SVG}a"))
    assert esc.printable(text).replace("\n", " ").split()[0] in tips.replace("\n", " ")


# -- issue 20: a missing viz extra ------------------------------------------------------------
def test_draw_graph_without_the_viz_extra_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "viz.draw", raising=False)
    monkeypatch.delitem(viz.__dict__, "draw_graph", raising=False)
    with pytest.raises(ModuleNotFoundError) as err:
        viz.draw_graph(Value(1.0))
    msg = str(err.value)
    assert 'pip install -e ".[viz]"' in msg and 'pip install "tinygrad_lite[viz]"' in msg
    with pytest.raises(ModuleNotFoundError, match=r"\[viz\]"):
        importlib.import_module("viz.draw")
