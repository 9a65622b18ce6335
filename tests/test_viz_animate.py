"""Backprop step by step: backward_steps' numbers, and the animation page in a real browser.

The browser test drives Debian's chromium through Selenium and chromedriver (installed by
.ci/install-browser.sh). It may skip only outside CI when chromium is not installed.
"""
import json
import os
import re
import shutil
import time

import numpy as np
import pytest

pytest.importorskip("graphviz")

import tinygrad_lite.functional as F  # noqa: E402
import viz  # noqa: E402
from tinygrad_lite import Value  # noqa: E402


def neuron():
    w0, x0 = Value(2.0, label="w0"), Value(-1.0, label="x0")
    w1, x1 = Value(-3.0, label="w1"), Value(-2.0, label="x1")
    w2 = Value(-3.0, label="w2")
    f = (w0 * x0 + w1 * x1 + w2).sigmoid()
    f.label = "f"
    return f, [w0, x0, w1, x1, w2]


def tensor_net():
    rng = np.random.default_rng(3)
    X = Value(rng.standard_normal((5, 4)), requires_grad=False, label="X")
    W = Value(rng.standard_normal((4, 3)), label="W")
    b = Value(rng.standard_normal(3), label="b")
    h = (X @ W + b).tanh()
    loss = F.softmax_cross_entropy(h * h, rng.integers(0, 3, 5))  # h * h: one parent twice
    return loss, [W, b]


# -- backward_steps -------------------------------------------------------------------------
@pytest.mark.parametrize("make", [neuron, tensor_net])
def test_steps_give_the_gradients_of_backward_and_change_nothing(make):
    root, leaves = make()
    steps = list(viz.backward_steps(root))
    assert all(v.grad is None for v in leaves)  # nothing written
    assert steps[0].value is root and steps[0].upstream == pytest.approx(1.0)
    assert [s.index for s in steps] == list(range(len(steps)))
    final = {id(s.value): s.upstream for s in steps}
    root.backward()
    for v in leaves:
        np.testing.assert_allclose(final[id(v)], v.grad, rtol=1e-12, atol=1e-15)
    for s in steps:
        for p, local, down in zip(s.parents, s.local, s.downstream, strict=True):
            if down is None:
                assert not p.requires_grad
                continue
            assert down.shape == p.shape
            if isinstance(local, np.ndarray) and local.shape == s.upstream.shape == p.shape:
                np.testing.assert_allclose(down, s.upstream * local, rtol=1e-12)


def test_steps_visit_each_node_after_all_its_consumers():
    root, _ = tensor_net()
    steps = list(viz.backward_steps(root))
    seen = set()
    for s in steps:
        seen.add(id(s.value))
        for p in s.parents:
            if p.requires_grad:
                assert id(p) not in seen  # a parent comes after its consumer
    leaves = [s for s in steps if s.is_leaf]
    assert {s.name for s in leaves} == {"W", "b"} and all(s.local == () for s in leaves)
    assert "upstream" in str(steps[1])


def test_neuron_steps_read_like_the_lecture():
    f, (w0, x0, w1, x1, w2) = neuron()
    steps = {s.name: s for s in viz.backward_steps(f)}
    top = next(s for s in steps.values() if s.op == "sigmoid")
    assert top.local[0] == pytest.approx(0.19661193)  # s (1 - s) at s = 0.73
    assert steps["w0"].upstream == pytest.approx(-0.19661193)
    assert steps["x1"].upstream == pytest.approx(-0.58983580)


def test_step_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        next(viz.backward_steps(Value(1.0, requires_grad=False) * 2))
    v = Value(np.ones(3)) * 2
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        next(viz.backward_steps(v))
    steps = list(viz.backward_steps(v, grad=np.arange(3.0)))
    np.testing.assert_allclose(steps[-1].upstream, [0.0, 2.0, 4.0])


def test_animation_of_a_huge_graph_is_refused():
    x = Value(1.0)
    y = x
    for _ in range(400):
        y = y * 1.0
    with pytest.raises(viz.GraphTooLargeError, match="max_nodes=300"):
        viz.animate_backward(y)


# -- the page -------------------------------------------------------------------------------
def test_page_is_self_contained_and_escaped(tmp_path):
    f, _ = neuron()
    f.label = '<script>window.__pwned = 1</script>'
    out = tmp_path / "a.html"
    html = viz.animate_backward(f, out, title="t <img src=x onerror=alert(1)>")
    assert out.read_text(encoding="utf-8") == html
    assert not re.search(r"https?://", html)
    assert not re.search(r"<(link|img|iframe|object)\b", html, re.I)
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    assert html.count("<script") == 1  # ours; the label's became text
    assert "&lt;script&gt;window.__pwned" in html
    assert "t &lt;img src=x onerror=alert(1)&gt;" in html
    assert f.grad is None  # drawing the pass changed no .grad


def test_animation_is_the_page_and_shows_in_a_frame(tmp_path):
    import html as _html

    f, _ = neuron()
    out = tmp_path / "sub" / "a.html"
    anim = viz.animate_backward(f, out)
    assert isinstance(anim, viz.Animation)
    assert anim.html == out.read_text(encoding="utf-8") and anim.html.startswith("<!DOCTYPE")
    assert anim == anim.html  # still the page for code that used it as a str
    # str(), print() and f-strings: one line, never the 40 KB page
    for text in (str(anim), f"{anim}", format(anim, ""), repr(anim)):
        assert text == repr(anim) and "\n" not in text and len(text) < 200
        assert f"{anim.steps} steps" in text and ".html" in text
    assert anim.steps == len(list(viz.backward_steps(f)))
    frame = anim._repr_html_()
    m = re.fullmatch(r'<iframe [^>]*srcdoc="([^"]*)"[^>]*></iframe>', frame, re.S)
    assert m and _html.unescape(m.group(1)) == anim.html
    # sandboxed, scripts only: the page cannot reach the notebook; no handler on the frame
    assert re.search(r'\ssandbox="allow-scripts"', frame)
    assert not re.search(r"\son\w+=", frame.replace(m.group(1), ""))
    assert anim.fragment in anim.html and anim.write(tmp_path / "b.html")
    assert (tmp_path / "b.html").read_text(encoding="utf-8") == anim.html


def test_every_id_of_an_animation_carries_its_prefix():
    f, _ = neuron()
    a, b = viz.animate_backward(f), viz.animate_backward(f)
    ids_a = re.findall(r'\sid="([^"]*)"', a.fragment)
    ids_b = re.findall(r'\sid="([^"]*)"', b.fragment)
    assert len(ids_a) > 20 and len(ids_a) == len(set(ids_a))
    assert all(i == a.prefix or i.startswith(a.prefix + "-") for i in ids_a)
    assert not set(ids_a) & set(ids_b)
    assert "getElementById(\"" not in a.fragment  # every lookup goes through the prefix


def test_a_failed_write_leaves_the_previous_page(tmp_path, monkeypatch):
    """A write that fails part-way (disk full) keeps the old page whole, and no temp file."""
    f, _ = neuron()
    out = tmp_path / "a.html"
    old = viz.animate_backward(f, out, title="old")
    new = viz.animate_backward(f, title="new")
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
        new.write(out)
    monkeypatch.undo()
    assert out.read_text(encoding="utf-8") == old.html
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html"]


def test_text_names_nodes_as_a_person_would_never_by_internal_id():
    f, _ = neuron()
    anim = viz.animate_backward(f)
    steps = json.loads(re.search(r"const STEPS = (.*);\n", anim.html).group(1))
    text = "\n".join([st["title"] for st in steps] + [ln for st in steps for ln in st["lines"]])
    assert not re.search(r"\bn\d+\b|\[n\d+\]", text)  # no "n3", no "[n3]"
    assert "to w1: local" in text and "to x0: local" in text
    assert re.search(r"Step \d+ of 10: w0 \* x0 \(op \*\)", text)  # what computed it
    assert "to (w0 * x0) + (w1 * x1): local" in text
    assert "Step 1 of 10: f (op sigmoid)" in text


def mlp():
    from tinygrad_lite import nn

    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 300, rng=1), nn.ReLU(), nn.Linear(300, 3, rng=2))
    x = Value(rng.standard_normal((8, 4)), requires_grad=False, label="x")
    loss = F.softmax_cross_entropy(model(x), rng.integers(0, 3, 8))
    return model, loss


def test_steps_name_parameters_by_their_dotted_names():
    model, loss = mlp()
    by_model = {s.name for s in viz.backward_steps(loss, model=model) if s.is_leaf}
    assert by_model == {"0.weight", "0.bias", "2.weight", "2.bias"}
    by_params = {s.name for s in viz.backward_steps(loss, params=model) if s.is_leaf}
    assert by_params == by_model
    named = dict(model.named_parameters())
    by_dict = [s for s in viz.backward_steps(loss, {"first": named["0.weight"]}) if s.is_leaf]
    assert "first" in {s.name for s in by_dict}
    matmul = next(s for s in viz.backward_steps(loss, model=model)
                  if "0.weight" in s.parent_names)
    assert "-> 0.weight:" in str(matmul)
    with viz.trace_modules(model) as trace:  # a trace names them too
        loss2 = F.softmax_cross_entropy(model(Value(np.ones((2, 4)), requires_grad=False)),
                                        np.array([0, 1]))
    assert "2.bias" in {s.name for s in viz.backward_steps(loss2, model=trace)}


def test_step_repr_is_a_few_lines_of_summaries():
    model, loss = mlp()
    steps = list(viz.backward_steps(loss, model=model))
    w = next(s for s in steps if s.name == "0.weight")  # (4, 300): 1200 numbers
    for text in (repr(w), str(steps[1]), repr(steps[2])):
        assert len(text.splitlines()) <= 4 and len(text) < 500
        assert "[" not in text and "..." not in text  # no array printed, not even cut short
    assert repr(w).startswith("<BackwardStep step") and "0.weight (leaf, (4, 300))" in repr(w)
    norm = float(np.linalg.norm(w.upstream))
    assert f"norm {norm:.3g}" in repr(w)


# -- in a real browser ----------------------------------------------------------------------
# `browser`: headless Chromium through selenium, a fixture in conftest.py


def _visible(driver, node_id, prefix):
    """Whether the gradient row of a node is shown: the computed visibility of its text."""
    return driver.execute_script(
        "const node = document.getElementById(arguments[0]);"
        "const t = [...node.querySelectorAll('text')].find("
        "  e => e.textContent.startsWith('grad '));"
        "return t ? getComputedStyle(t).visibility : null;", f"{prefix}-{node_id}")


RENDERERS = ["graphviz-pure"] + (["system"] if shutil.which("dot") else [])


def _click(driver, prefix, button):
    driver.find_element("id", f"{prefix}-{button}").click()


def _step(driver, prefix):
    return driver.execute_script("return document.getElementById(arguments[0]).dataset.step",
                                 prefix)


@pytest.mark.parametrize("renderer", RENDERERS)
def test_stepping_reveals_and_hides_gradients_in_chromium(browser, tmp_path, renderer):
    f, leaves = neuron()
    f.label = '<script>window.__pwned = 1</script>'
    page = tmp_path / "neuron.html"
    anim = viz.animate_backward(f, page, renderer=renderer)
    p = anim.prefix
    g = viz.draw_graph(f)  # same node ids as the page (behind its prefix): trace order
    order = [g.info.node(s.value).id for s in viz.backward_steps(f)]
    browser.get(page.as_uri())
    assert browser.execute_script("return window.__pwned") is None
    assert _step(browser, p) == "0"
    assert all(_visible(browser, nid, p) == "hidden" for nid in order)

    _click(browser, p, "next")
    assert _visible(browser, order[0], p) == "visible"
    assert _visible(browser, order[1], p) == "hidden"
    _click(browser, p, "next")
    assert _visible(browser, order[1], p) == "visible"
    assert "step 2 of 10" in browser.find_element("id", f"{p}-counter").text
    explain = browser.find_element("id", f"{p}-explain").text
    assert "upstream" in explain and "downstream = upstream x local" in explain

    _click(browser, p, "prev")  # back hides the second node's gradient again
    assert _visible(browser, order[1], p) == "hidden"
    assert _visible(browser, order[0], p) == "visible"
    edge_pending = browser.execute_script(
        "return [...document.querySelectorAll('g.edge')].filter("
        "e => e.classList.contains('tgl-pending')).length")
    assert edge_pending > 0

    # the slider jumps to the last step: a leaf, with its final gradient
    browser.execute_script(
        "const s = document.getElementById(arguments[0]); s.value = s.max;"
        "s.dispatchEvent(new Event('input'));", f"{p}-slider")
    assert all(_visible(browser, nid, p) == "visible" for nid in order)
    last = list(viz.backward_steps(f))[-1]
    explain = browser.find_element("id", f"{p}-explain").text
    assert f"{last.name} (a leaf)" in explain and f"{last.upstream.item():.4g}" in explain
    _click(browser, p, "first")
    assert all(_visible(browser, nid, p) == "hidden" for nid in order)

    # nothing was fetched: the only resource is the page itself
    entries = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert entries == []
    shot = tmp_path / "shot.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


def test_tensor_animation_in_chromium(browser, tmp_path):
    loss, _ = tensor_net()
    page = tmp_path / "tensor.html"
    anim = viz.animate_backward(loss, page, title="tensor net")
    browser.get(page.as_uri())
    n = int(browser.find_element("id", f"{anim.prefix}-slider").get_attribute("max"))
    assert n == len(list(viz.backward_steps(loss))) == anim.steps
    browser.find_element("tag name", "body").send_keys("\ue010")  # End: the whole pass
    assert _step(browser, anim.prefix) == str(n)
    hidden = browser.execute_script("return document.querySelectorAll('.tgl-hidden').length")
    assert hidden == 0
    browser.find_element("tag name", "body").send_keys("\ue012")  # left arrow: one back
    assert _step(browser, anim.prefix) == str(n - 1)


def _two_animations():
    """Two animations of the same neuron: the hardest case for ids (the same SVG twice)."""
    f, _ = neuron()
    return viz.animate_backward(f, title="first"), viz.animate_backward(f, title="second")


def _hidden_rows(driver, prefix):
    return driver.execute_script(
        "return document.getElementById(arguments[0]).querySelectorAll('.tgl-hidden').length",
        prefix)


def test_two_animations_on_one_page_step_independently(browser, tmp_path):
    a, b = _two_animations()
    assert a.prefix != b.prefix
    page = tmp_path / "two.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                    f"{a.fragment}<hr>{b.fragment}</body></html>", encoding="utf-8")
    browser.get(page.as_uri())
    hidden_b = _hidden_rows(browser, b.prefix)
    assert hidden_b > 0 and _hidden_rows(browser, a.prefix) == hidden_b
    _click(browser, a.prefix, "next")
    _click(browser, a.prefix, "next")
    assert _step(browser, a.prefix) == "2" and _step(browser, b.prefix) == "0"
    assert _hidden_rows(browser, a.prefix) < hidden_b  # a revealed gradients ...
    assert _hidden_rows(browser, b.prefix) == hidden_b  # ... b did not move
    assert "step 0 of" in browser.find_element("id", f"{b.prefix}-counter").text
    # the arrow keys step the animation that has the focus, and only that one
    browser.find_element("id", f"{a.prefix}-next").send_keys("\ue014")  # right arrow
    assert _step(browser, a.prefix) == "3" and _step(browser, b.prefix) == "0"
    _click(browser, b.prefix, "last")
    browser.find_element("id", f"{b.prefix}-last").send_keys("\ue012")  # left arrow
    assert _step(browser, b.prefix) == str(b.steps - 1) and _step(browser, a.prefix) == "3"
    # keys on the page itself, with two animations there, step neither
    browser.find_element("tag name", "body").send_keys("\ue014")
    assert _step(browser, a.prefix) == "3" and _step(browser, b.prefix) == str(b.steps - 1)


def test_two_notebook_frames_step_independently(browser, tmp_path):
    """What a notebook shows: each animation's _repr_html_, one after the other."""
    a, b = _two_animations()
    page = tmp_path / "frames.html"
    page.write_text(f"<!DOCTYPE html><html><body>{a._repr_html_()}{b._repr_html_()}"
                    f"</body></html>", encoding="utf-8")
    browser.get(page.as_uri())
    frames = browser.find_elements("tag name", "iframe")
    assert len(frames) == 2
    heights = [fr.size["height"] for fr in frames]
    assert all(h > 300 for h in heights)  # fitted to the page inside
    browser.switch_to.frame(frames[0])
    _click(browser, a.prefix, "next")
    assert _step(browser, a.prefix) == "1"
    browser.switch_to.default_content()
    browser.switch_to.frame(frames[1])
    assert _step(browser, b.prefix) == "0"
    _click(browser, b.prefix, "last")
    assert _step(browser, b.prefix) == str(b.steps)
    browser.switch_to.default_content()
    browser.switch_to.frame(frames[0])
    assert _step(browser, a.prefix) == "1"
    browser.switch_to.default_content()


FITS = """
const out = [];
const W = document.documentElement.clientWidth, H = window.innerHeight;
for (const t of document.querySelectorAll("svg text")) {
  if (!t.textContent.trim() || getComputedStyle(t).visibility === "hidden") continue;
  const r = t.getBoundingClientRect();
  if (r.left < -0.5 || r.top < -0.5 || r.right > W + 0.5 || r.bottom > H + 0.5) {
    out.push([t.textContent, Math.round(r.left), Math.round(r.top), Math.round(r.right),
              Math.round(r.bottom), W, H]);
  }
}
return out;
"""
NODE_FONT = """
const sizes = [];
for (const t of document.querySelectorAll("g.node text")) {
  if (!t.textContent.trim()) continue;
  sizes.push(parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
}
return sizes;
"""


@pytest.mark.parametrize("size, font", [((720, 720), 8), ((960, 860), 11)])
def test_the_drawing_and_its_legend_fit_the_frame(browser, tmp_path, size, font):
    """In a 720 x 720 frame (the report's) and a notebook-sized one, at the first and the
    last step, every text of the drawing (the legend's included) is inside the frame, whole;
    node text reads at 11 px or more where the frame is wide enough for the neuron at that
    size (the drawing is scaled down to fit a narrower frame whole)."""
    f, _ = neuron()
    anim = viz.animate_backward(f)
    w, h = size
    frame = anim._repr_html_().replace("width: 100%", f"width: {w}px").replace(
        f"height: {anim.height}px", f"height: {h}px")
    page = tmp_path / "host.html"
    page.write_text(f"<!DOCTYPE html><html><body>{frame}</body></html>", encoding="utf-8")
    browser.get(page.as_uri())
    browser.switch_to.frame(browser.find_element("tag name", "iframe"))
    try:
        assert browser.execute_script("return document.querySelector('svg text') !== null")
        assert browser.execute_script(FITS) == []
        _click(browser, anim.prefix, "last")
        assert _step(browser, anim.prefix) == str(anim.steps)
        assert browser.execute_script(FITS) == []
        deadline = time.time() + 3  # a frame settles its size after its first script
        while min(browser.execute_script(NODE_FONT)) < font and time.time() < deadline:
            time.sleep(0.05)
        assert min(browser.execute_script(NODE_FONT)) >= font
        assert browser.execute_script("return document.documentElement.scrollHeight "
                                      "<= window.innerHeight + 1")  # nothing to scroll to
    finally:
        browser.switch_to.default_content()
