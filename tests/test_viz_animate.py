"""Backprop step by step: backward_steps' numbers, and the animation page in a real browser.

The browser test drives Debian's chromium through Selenium and chromedriver (installed by
.ci/install-browser.sh). It may skip only outside CI when chromium is not installed.
"""
import os
import re
import shutil
import tempfile

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
        for p, local, down in zip(s.parents, s.local, s.downstream):
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


# -- in a real browser ----------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI: .ci/install-browser.sh installs it")
        pytest.skip("chromium is not installed (bash .ci/install-browser.sh installs it)")
    assert CHROMEDRIVER, "chromium without chromedriver: apt-get install chromium-driver"
    from selenium import webdriver  # the dev extra; .ci/install-browser.sh installs it too
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="tgl-chromium-")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1400,1000"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _visible(driver, node_id):
    """Whether the gradient row of a node is shown: the computed visibility of its text."""
    return driver.execute_script(
        "const node = document.getElementById(arguments[0]);"
        "const t = [...node.querySelectorAll('text')].find("
        "  e => e.textContent.startsWith('grad '));"
        "return t ? getComputedStyle(t).visibility : null;", node_id)


RENDERERS = ["graphviz-pure"] + (["system"] if shutil.which("dot") else [])


def _click(driver, button):
    driver.find_element("id", button).click()


@pytest.mark.parametrize("renderer", RENDERERS)
def test_stepping_reveals_and_hides_gradients_in_chromium(browser, tmp_path, renderer):
    f, leaves = neuron()
    f.label = '<script>window.__pwned = 1</script>'
    page = tmp_path / "neuron.html"
    viz.animate_backward(f, page, renderer=renderer)
    g = viz.draw_graph(f)  # same ids as the page: trace order
    order = [g.info.node(s.value).id for s in viz.backward_steps(f)]
    browser.get(page.as_uri())
    assert browser.execute_script("return window.__pwned") is None
    assert browser.execute_script("return document.body.dataset.step") == "0"
    assert all(_visible(browser, nid) == "hidden" for nid in order)

    _click(browser, "next")
    assert _visible(browser, order[0]) == "visible"
    assert _visible(browser, order[1]) == "hidden"
    _click(browser, "next")
    assert _visible(browser, order[1]) == "visible"
    assert "step 2 of 10" in browser.find_element("id", "counter").text
    explain = browser.find_element("id", "explain").text
    assert "upstream" in explain and "downstream = upstream x local" in explain

    _click(browser, "prev")  # back hides the second node's gradient again
    assert _visible(browser, order[1]) == "hidden"
    assert _visible(browser, order[0]) == "visible"
    edge_pending = browser.execute_script(
        "return [...document.querySelectorAll('g.edge')].filter("
        "e => e.classList.contains('tgl-pending')).length")
    assert edge_pending > 0

    # the slider jumps; the last step is w0's, whose gradient is -0.20
    browser.execute_script(
        "const s = document.getElementById('slider'); s.value = s.max;"
        "s.dispatchEvent(new Event('input'));")
    assert all(_visible(browser, nid) == "visible" for nid in order)
    assert "-0.1966" in browser.find_element("id", "explain").text
    _click(browser, "first")
    assert all(_visible(browser, nid) == "hidden" for nid in order)

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
    viz.animate_backward(loss, page, title="tensor net")
    browser.get(page.as_uri())
    n = int(browser.find_element("id", "slider").get_attribute("max"))
    assert n == len(list(viz.backward_steps(loss)))
    browser.find_element("tag name", "body").send_keys("\ue010")  # End: the whole pass
    assert browser.execute_script("return document.body.dataset.step") == str(n)
    hidden = browser.execute_script("return document.querySelectorAll('.tgl-hidden').length")
    assert hidden == 0
    browser.find_element("tag name", "body").send_keys("\ue012")  # left arrow: one back
    assert browser.execute_script("return document.body.dataset.step") == str(n - 1)
