"""viz.Recorder and viz.explore without a browser: identities, numbers, memory, the page's text.

The numbers the Recorder keeps are compared with numpy on the very arrays of the step (the
test holds the graph), and recording is checked to change no weight.
"""
import gc
import json
import re
import weakref

import numpy as np
import pytest

import tinygrad_lite.functional as F
import viz
from tinygrad_lite import Value, nn, optim

pytest.importorskip("graphviz")


def relu_net(seed=0, width=16):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(6, width, rng=rng), nn.ReLU(), nn.Linear(width, width, rng=rng),
                         nn.Tanh(), nn.Linear(width, 3, rng=rng))


def data(seed=1, n=32):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6)), rng.integers(0, 3, n)


def train(model, steps, lr=0.1, rec=None, keep=None):
    """SGD steps; rec.record after backward; keep(step, loss) sees each graph."""
    X, y = data()
    opt = optim.SGD(model.parameters(), lr=lr)
    for step in range(steps):
        opt.zero_grad()
        loss = F.softmax_cross_entropy(model(X), y)
        loss.backward()
        if keep is not None:
            keep(step, loss)
        if rec is not None:
            rec.record(loss, step)
        opt.step()
    return model


def test_recording_changes_no_weight():
    plain = train(relu_net(), 6, lr=0.5)
    recorded_model = relu_net()
    rec = viz.Recorder(recorded_model)
    train(recorded_model, 6, lr=0.5, rec=rec)
    for (name, p), (_, q) in zip(plain.named_parameters(), recorded_model.named_parameters(),
                                 strict=True):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    assert len(rec) == 6


def test_recording_a_scalar_graph_changes_nothing():
    """A micrograd-style neuron on Python floats stays on its float path and trains the same."""
    def run(record):
        w = [Value(v, label=f"w{i}") for i, v in enumerate((0.5, -0.3, 0.8))]
        rec = viz.Recorder(params={f"w{i}": v for i, v in enumerate(w)}) if record else None
        for step in range(5):
            out = (w[0] * 2.0 + w[1] * -1.0 + w[2]).tanh()
            loss = (out - 0.25) ** 2
            for v in w:
                v.zero_grad()
            loss.backward()
            if rec is not None:
                rec.record(loss, step)
            for v in w:
                v.data = v.data - 0.1 * v.grad
        return [v.item() for v in w], rec

    plain, _ = run(False)
    recorded, rec = run(True)
    assert plain == recorded
    assert set(rec.nodes) >= {"w0", "w1", "w2"}
    assert rec.losses[0] == pytest.approx((np.tanh(0.5 * 2 + 0.3 + 0.8) - 0.25) ** 2)


def test_identities_follow_modules_and_stay_the_same_from_step_to_step():
    model = relu_net()
    rec = viz.Recorder(model)
    seen = []
    train(model, 3, rec=rec, keep=lambda s, loss: seen.append(len(rec.nodes)))
    keys = list(rec.nodes)
    # two ReLU/tanh layers, three Linear layers (matmul and add), parameters by name
    for key in ("1 relu #0", "3 tanh #0", "0 matmul #0", "0 + #0", "4 + #0", "0.weight",
                "4.bias", "softmax_cross_entropy #0", "input #0"):
        assert key in keys, key
    assert rec.nodes["1 relu #0"].module == "1" and rec.nodes["0.weight"].kind == "param"
    assert rec.nodes["input #0"].kind == "input"
    # every node was there at every step: no column holds a gap
    for key in keys:
        assert all(x is not None for x in rec.series(key, "mean")), key
    assert seen[1] == seen[2] == len(rec.nodes)  # no new identity after the first step
    assert rec.module_classes["1"] == "ReLU"


def test_without_a_model_nodes_join_the_module_of_their_nearest_parameter():
    model = relu_net()
    X, y = data()
    loss = F.softmax_cross_entropy(model(X), y)
    loss.backward()
    rec = viz.Recorder(params=model)  # names, but no hooks
    rec.record(loss, 0)
    assert "0 matmul #0" in rec.nodes and "0.weight" in rec.nodes
    assert rec.nodes["0 relu #0"].module == "0"  # no hook: the ReLU joins Linear 0


def test_statistics_are_numpy_numbers_of_that_step():
    model = relu_net()
    rec = viz.Recorder(model)
    graphs = {}

    def keep(step, loss):
        relu = next(v for v in _walk(loss) if v.op == "relu")
        tanh = next(v for v in _walk(loss) if v.op == "tanh")
        graphs[step] = (relu.data.copy(), relu.grad.copy(), tanh.data.copy(),
                        model[0].weight.grad.copy(), loss.item())

    train(model, 3, lr=0.5, rec=rec, keep=keep)
    for step, (h, gh, t, gw, loss) in graphs.items():
        at = rec.at("1 relu #0", step)
        assert at["mean"] == pytest.approx(h.mean(), rel=1e-12)
        assert at["std"] == pytest.approx(h.std(), rel=1e-9)
        assert at["grad_norm"] == pytest.approx(np.linalg.norm(gh), rel=1e-12)
        assert at["grad_mean"] == pytest.approx(gh.mean(), rel=1e-9, abs=1e-15)
        assert (at["min"], at["max"]) == (h.min(), h.max())
        dead = np.all(h <= 0, axis=0).mean()  # a unit off for every example of the batch
        assert at["dead"] == dead
        lo, hi, counts = at["hist"]
        assert (lo, hi) == (h.min(), h.max()) and counts.sum() == h.size
        assert rec.at("0.weight", step)["grad_norm"] == pytest.approx(np.linalg.norm(gw))
        sat = rec.at("3 tanh #0", step)
        assert sat["saturated_act"] == pytest.approx(np.mean(1 - t * t < viz.SATURATION))
        assert sat["saturated"] == np.mean(np.all(1 - t * t < viz.SATURATION, axis=0))
        assert rec.losses[rec.steps.index(step)] == loss
    # an edge: what tanh sent down equals the norm of its input's gradient (one consumer)
    e = ("2 + #0", "3 tanh #0", 0)
    assert e in rec.edges
    last = rec.steps[-1]
    assert rec.edge_at(e, last)["down_norm"] == rec.at("2 + #0", last)["grad_norm"]
    assert rec.edge_at(e, last)["up_norm"] == rec.at("3 tanh #0", last)["grad_norm"]
    assert rec.edges[("0.weight", "0 matmul #0", 1)].rule == "a.T @ grad"


def _walk(root):
    out, stack, seen = [], [root], set()
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        out.append(v)
        stack.extend(v.parents)
    return out


def test_dead_units_are_judged_over_the_batch():
    """Units whose bias keeps them negative for every example are dead; no other unit is."""
    model = relu_net(width=10)
    model[0].bias.data = np.where(np.arange(10) < 4, -100.0, 0.0)
    rec = viz.Recorder(model)
    train(model, 1, lr=0.0, rec=rec)
    at = rec.at("1 relu #0", 0)
    assert at["dead"] == 0.4
    assert at["strip"] == "9999000000"  # one cell per unit: units 0..3 dead
    assert rec.nodes["1 relu #0"].units == 10


def test_every_skips_steps_and_steps_must_increase():
    model = relu_net()
    rec = viz.Recorder(model, every=2)
    train(model, 5, rec=rec)
    assert rec.steps == [0, 2, 4]
    X, y = data()
    loss = F.softmax_cross_entropy(model(X), y)
    loss.backward()
    with pytest.raises(ValueError, match="step 2 comes after step 4"):
        rec.record(loss, 2)
    with pytest.raises(KeyError, match="step 3 was not recorded"):
        rec.at("1 relu #0", 3)
    with pytest.raises(KeyError, match="no node 'nope'"):
        rec.series("nope", "mean")
    with pytest.raises(ValueError, match="every must be a positive int"):
        viz.Recorder(every=0)
    with pytest.raises(TypeError, match="root must be a Value"):
        rec.record(np.ones(3), 6)


def test_the_recorder_keeps_numbers_never_arrays_or_graphs():
    model = relu_net(width=64)
    rec = viz.Recorder(model)
    refs = []
    train(model, 3, rec=rec, keep=lambda s, loss: refs.append(weakref.ref(loss)))
    gc.collect()
    assert all(r() is None for r in refs)  # each step's graph was freed
    big = []
    stack = [rec.__dict__]
    while stack:  # everything the Recorder holds, except the model it was given
        o = stack.pop()
        if isinstance(o, dict):
            stack.extend(v for k, v in o.items() if k != "model")
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
        elif hasattr(o, "__dict__") and not callable(o):
            stack.append(o.__dict__)
        elif isinstance(o, np.ndarray) and o.size > rec.bins:
            big.append(o.shape)
        assert not isinstance(o, Value)
    assert big == []
    rec.close()  # hooks gone: modules are known by parameter ancestry only from now on
    X, y = data()
    loss = F.softmax_cross_entropy(model(X), y)
    loss.backward()
    rec.record(loss, 10)
    assert rec.series("0 relu #0", "mean")[-1] is not None


# -- the page, as text ---------------------------------------------------------------------------
def recorded(steps=4, lr=0.5, width=16):
    model = relu_net(width=width)
    rec = viz.Recorder(model)
    train(model, steps, lr=lr, rec=rec)
    return rec


def page_data(html):
    m = re.search(r'<script type="application/json" id="tgl-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def test_the_page_is_self_contained(tmp_path):
    rec = recorded()
    ex = viz.explore(rec, tmp_path / "p.html", title="t <b>")
    html = ex.html
    assert (tmp_path / "p.html").read_text(encoding="utf-8") == html
    for text in (str(ex), repr(ex), f"{ex}"):  # one line, never the page
        assert "\n" not in text and len(text) < 200 and ".html" in text and "16 nodes" in text
    assert not re.search(r"https?:", html)
    assert "default-src 'none'" in html
    assert not re.search(r"<(link|img|iframe|object)\b", html, re.I)
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    assert "t &lt;b&gt;" in html
    frame = ex._repr_html_()
    assert frame.startswith("<iframe") and 'srcdoc="' in frame and "<script" not in frame
    assert re.search(r'\ssandbox="allow-scripts"', frame)  # scripts only: not the notebook


def test_a_failed_save_leaves_the_previous_page(tmp_path, monkeypatch):
    """Explorer.save interrupted part-way (disk full): the old page stays whole, no temp file."""
    import os

    rec = recorded(steps=2)
    out = tmp_path / "p.html"
    old = viz.explore(rec, out, title="old")
    new = viz.explore(rec, title="new")
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, f):
            self.f = f

        def write(self, text):
            self.f.write(text[: len(text) // 2])
            self.f.flush()
            raise OSError(28, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()
            return False

    monkeypatch.setattr(os, "fdopen", lambda *a, **k: HalfWriter(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="No space"):
        new.save(out)
    monkeypatch.undo()
    assert out.read_text(encoding="utf-8") == old.html and new.path is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.html"]


def test_page_numbers_are_the_recorders_rounded_to_four_digits():
    rec = recorded()
    d = page_data(viz.explore(rec).html)
    assert d["steps"] == rec.steps
    keys = [n["k"] for n in d["nodes"][:d["ndraw"]]]
    assert set(keys) == set(rec.nodes)
    i = keys.index("1 relu #0")
    for j, gn in enumerate(rec.series("1 relu #0", "grad_norm")):
        assert d["S"]["gn"][i][j] == float(f"{gn:.4g}")
    assert d["S"]["dead"][i] == [float(f"{x:.4g}") for x in rec.series("1 relu #0", "dead")]
    assert d["S"]["dead"][keys.index("0.weight")] is None  # a column that never applies
    assert d["H"]["v"][i][0][2:] == rec.at("1 relu #0", rec.steps[0])["hist"][2].tolist()


def test_labels_are_escaped_everywhere():
    model = relu_net()
    rec = viz.Recorder(model)
    X, y = data()
    x = Value(X, requires_grad=False, label='</script><script>alert(1)</script>"')
    loss = F.softmax_cross_entropy(model(x), y)
    loss.backward()
    rec.record(loss, 0)
    html = viz.explore(rec).html
    assert html.count("<script") == 2  # the data block and the page's script
    assert "alert(1)" in html  # shown as text, in the data and the SVG
    assert page_data(html)["nodes"][0]["k"].startswith("</script>")


def test_a_value_draws_one_step_and_a_trace_gives_exact_modules():
    model = relu_net()
    X, y = data()
    with viz.trace_modules(model) as trace:
        loss = F.softmax_cross_entropy(model(X), y)
    loss.backward()
    d = page_data(viz.explore(loss, model=trace).html)
    keys = {n["k"] for n in d["nodes"]}
    assert "1 relu #0" in keys and len(d["steps"]) == 1
    d2 = page_data(viz.explore(loss, model=model).html)
    assert "0 relu #0" in {n["k"] for n in d2["nodes"]}  # by parameter ancestry


def test_a_graph_past_max_nodes_is_drawn_one_node_per_module():
    rec = recorded(steps=2)
    ex = viz.explore(rec, max_nodes=10)
    d = page_data(ex.html)
    assert ex.collapsed and "more than max_nodes=10" in d["note"]
    drawn = d["nodes"][:d["ndraw"]]
    modules = [n for n in drawn if n["kind"] == "module"]
    # Linear layers (ReLU/Tanh are one node)
    assert {n["name"] for n in modules} == {"module 0", "module 2", "module 4"}
    lin = next(n for n in modules if n["path"] == "0")
    assert lin["out"] == "+ in module 0" and lin["members"] == 4
    assert sorted(d["nodes"][p]["k"] for p in lin["p"]) == ["0.bias", "0.weight"]
    with pytest.raises(viz.GraphTooLargeError, match="max_nodes=2"):
        viz.explore(rec, max_nodes=2)


def test_explore_errors():
    with pytest.raises(TypeError, match="Recorder or a Value"):
        viz.explore(np.ones(3))
    with pytest.raises(ValueError, match="recorded no step"):
        viz.explore(viz.Recorder())
