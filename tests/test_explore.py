"""viz.explore in a real browser: headless Chromium driven by Selenium, as the animation tests.

Small nets, few steps: each test takes a second or two. They may skip only outside CI when
chromium is not installed.
"""
import re
import time

import numpy as np
import pytest

pytest.importorskip("graphviz")

import tinygrad_lite.functional as F  # noqa: E402
import viz  # noqa: E402
from tinygrad_lite import nn, optim  # noqa: E402

# `browser`: headless Chromium through selenium, a fixture in conftest.py
HIGH_LR = 3.0  # too high: units of the second ReLU layer die within a few steps


def relu_run(lr, steps=8, seed=0):
    """A 6-24-24-3 ReLU net trained with SGD at ``lr``, every step recorded."""
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(6, 24, rng=rng), nn.ReLU(), nn.Linear(24, 24, rng=rng),
                          nn.ReLU(), nn.Linear(24, 3, rng=rng))
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((32, 6)), rng.integers(0, 3, 32)
    rec = viz.Recorder(model)
    opt = optim.SGD(model.parameters(), lr=lr)
    for step in range(steps):
        opt.zero_grad()
        loss = F.softmax_cross_entropy(model(X), y)
        loss.backward()
        rec.record(loss, step)
        opt.step()
    rec.close()
    return rec


@pytest.fixture(scope="module")
def high(tmp_path_factory):
    rec = relu_run(HIGH_LR)
    path = tmp_path_factory.mktemp("explore") / "high.html"
    viz.explore(rec, path, title=f"ReLU net, lr {HIGH_LR}")
    return rec, path


def js(driver, script, *args):
    return driver.execute_script(script, *args)


def index(driver, key):
    i = js(driver, "return tglExplorer.index(arguments[0])", key)
    assert i >= 0, key
    return i


def step(driver):
    return int(js(driver, "return document.body.dataset.step"))


def test_the_slider_recolours_nodes_whose_gradient_changed(browser, high):
    rec, path = high
    browser.get(path.as_uri())
    assert step(browser) == 0
    n = len(rec.steps)
    first = js(browser, "return tglExplorer.data.nodes.slice(0, tglExplorer.data.ndraw)"
                        ".map((_, i) => tglExplorer.fill(i))")
    slider = browser.find_element("id", "slider")
    slider.click()
    slider.send_keys("\ue010")  # End on the focused slider: the browser moves it, as a user would
    assert step(browser) == n - 1
    last = js(browser, "return tglExplorer.data.nodes.slice(0, tglExplorer.data.ndraw)"
                       ".map((_, i) => tglExplorer.fill(i))")
    lo, hi = js(browser, "return tglExplorer.domain")
    keys = js(browser, "return tglExplorer.data.nodes.map(n => n.k)")
    changed = unchanged = 0
    for i, key in enumerate(keys[:len(first)]):
        meta = rec.nodes[key]
        g0, g1 = rec.series(key, "grad_norm")[0], rec.series(key, "grad_norm")[-1]
        if g0 is None and g1 is None:  # no gradient at either step: the colour stays
            assert first[i] == last[i], key
            unchanged += 1
            continue
        if meta.depth == 0 or not g0 or not g1:
            continue
        r0, r1 = (np.log10(g / np.sqrt(meta.size)) for g in (g0, g1))
        inside = all(lo + 0.05 < r < hi - 0.05 for r in (r0, r1))
        if inside and abs(r1 - r0) > np.log10(2):  # the gradient's RMS changed 2x or more
            assert first[i] != last[i], (key, g0, g1)
            changed += 1
    assert changed >= 3 and unchanged >= 1
    # stepping back to the first step gives the first colours again
    slider.send_keys("\ue011")  # Home
    assert step(browser) == 0
    assert js(browser, "return tglExplorer.data.nodes.slice(0, tglExplorer.data.ndraw)"
                       ".map((_, i) => tglExplorer.fill(i))") == first


def test_the_dead_fraction_shown_is_the_recorders(browser, high):
    rec, path = high
    browser.get(path.as_uri())
    key = "3 relu #0"
    dead = rec.series(key, "dead")
    assert dead[-1] > 0 and dead[0] < dead[-1]  # the too-high learning rate killed units
    units = rec.nodes[key].units
    i = index(browser, key)
    for j in (0, len(rec.steps) - 1):
        js(browser, "tglExplorer.show(arguments[0])", j)
        shown = js(browser, "return document.querySelectorAll('#n' + arguments[0] + ' text')[3]"
                            ".textContent", i)
        k = round(dead[j] * units)
        assert shown == f"{k} of {units} units dead ({round(100 * dead[j])}%)", shown
    # the node's border turns red once the dead fraction passes the mark (10%)
    stroke = js(browser, "return document.querySelector('#n' + arguments[0] + ' path')"
                         ".getAttribute('stroke')", i)
    assert (stroke == "#d73027") == (dead[-1] >= 0.1)


def test_clicking_a_node_opens_its_panel_with_the_recorders_numbers(browser, high):
    rec, path = high
    browser.get(path.as_uri())
    browser.find_element("tag name", "body").send_keys("\ue014")  # right arrow: step 1
    assert step(browser) == 1
    key = "3 relu #0"
    browser.find_element("id", f"n{index(browser, key)}").click()
    panel = browser.find_element("id", "panel")
    assert panel.find_element("tag name", "h2").text == "relu in module 3"
    assert f'rec.series key "{key}"' in panel.text  # the name to look its numbers up by
    at = rec.at(key, rec.steps[1])

    def shown(stat):
        return float(panel.find_element("css selector", f'td[data-stat="{stat}"]')
                     .get_attribute("data-value"))

    assert shown("gn") == pytest.approx(at["grad_norm"], rel=1e-3)
    assert shown("mean") == pytest.approx(at["mean"], rel=1e-3)
    assert shown("std") == pytest.approx(at["std"], rel=1e-3)
    assert shown("dead") == pytest.approx(at["dead"], rel=1e-3, abs=1e-12)
    assert f"{at['grad_norm']:.4g}" in panel.text.replace("e-0", "e-")
    assert len(panel.find_elements("css selector", "svg.hist")) == 2  # values and gradients
    # an edge: its panel holds the gradients that cross it
    e = ("2 + #0", "3 relu #0", 0)
    k = js(browser, "return tglExplorer.data.edges.findIndex(e => e.k.join('|') === arguments[0])",
           "|".join(map(str, e)))
    js(browser, "tglExplorer.select({t: 'edge', k: arguments[0]})", k)
    ed = rec.edge_at(e, rec.steps[1])
    up = float(panel.find_element("css selector", 'td[data-stat="up"]').get_attribute("data-value"))
    assert up == pytest.approx(ed["up_norm"], rel=1e-3)
    dn = float(panel.find_element("css selector", 'td[data-stat="dn"]').get_attribute("data-value"))
    assert dn == pytest.approx(ed["down_norm"], rel=1e-3)


def test_keys_play_and_collapse(browser, high):
    rec, path = high
    browser.get(path.as_uri())
    body = browser.find_element("tag name", "body")
    body.send_keys("\ue014", "\ue014")  # right arrow twice
    assert step(browser) == 2
    body.send_keys("\ue012")  # left arrow
    assert step(browser) == 1
    body.send_keys("\ue010", "\ue012", "\ue012")  # End, then two back: two steps to play
    assert step(browser) == len(rec.steps) - 3
    browser.find_element("id", "play").click()
    deadline = time.time() + 10
    while step(browser) < len(rec.steps) - 1 and time.time() < deadline:
        time.sleep(0.05)
    assert step(browser) == len(rec.steps) - 1  # played to the end, then stopped
    assert "play" in browser.find_element("id", "play").text
    # a module collapses into one box (numbers of its output) and expands again
    c = js(browser, "return tglExplorer.data.clusters.find(c => c.m === '0').id")
    title = browser.find_element("css selector", f"#{c} > text")
    assert "0 (Linear)" in title.text
    title.click()
    box = browser.find_element("id", f"{c}-collapsed")
    assert "|grad|" in box.text
    box.find_element("tag name", "text").click()  # its title expands it
    assert not browser.find_elements("id", f"{c}-collapsed")


def test_no_request_leaves_the_page(browser, high):
    _, path = high
    html = path.read_text(encoding="utf-8")
    assert "http:" not in html and "https:" not in html
    browser.get(path.as_uri())
    js(browser, "tglExplorer.show(3); tglExplorer.select({t: 'node', i: 2})")
    assert js(browser, "return performance.getEntriesByType('resource').length") == 0
    assert js(browser, "return document.querySelector('meta[http-equiv]').content").startswith(
        "default-src 'none'")


def test_two_explorers_on_one_page_work_independently(browser, tmp_path):
    sane, high_rec = relu_run(0.1, steps=4), relu_run(HIGH_LR, steps=6)
    a = viz.explore(sane, title="sane")
    b = viz.explore(high_rec, title="too high")
    page = tmp_path / "notebook.html"
    page.write_text("<!DOCTYPE html><html><body>" + a._repr_html_() + b._repr_html_()
                    + "</body></html>", encoding="utf-8")
    browser.get(page.as_uri())
    frames = browser.find_elements("tag name", "iframe")
    assert len(frames) == 2

    def in_frame(k, script):
        browser.switch_to.default_content()
        browser.switch_to.frame(browser.find_elements("tag name", "iframe")[k])
        return js(browser, script)

    assert in_frame(0, "return document.getElementById('title').textContent") == "sane"
    assert in_frame(1, "return document.getElementById('title').textContent") == "too high"
    in_frame(1, "document.getElementById('last').click()")
    assert in_frame(1, "return document.body.dataset.step") == "5"
    assert in_frame(0, "return document.body.dataset.step") == "0"  # the other one did not move
    in_frame(0, "document.getElementById('next').click()")
    assert in_frame(0, "return document.body.dataset.step") == "1"
    assert in_frame(1, "return document.body.dataset.step") == "5"
    browser.switch_to.default_content()


USED_COLOURS = """
const used = new Set();
for (const g of document.querySelectorAll("#graph g.node, #graph g.edge")) {
  for (const e of g.querySelectorAll("path, polygon, rect, ellipse")) {
    for (const a of ["fill", "stroke"]) {
      const c = e.getAttribute(a);
      if (c && c !== "none" && c !== "transparent") used.add(c.toLowerCase());
    }
  }
}
return [...used];
"""


def _rgb(c):
    return tuple(int(c[q:q + 2], 16) for q in (1, 3, 5))


def test_every_colour_painted_is_in_the_legend(browser, high):
    """Node fills and borders, edges, arrow heads and unit strips, at every step and in both
    colour modes: each colour is a legend swatch (the scale's within a shade)."""
    rec, path = high
    browser.get(path.as_uri())
    for mode in ("abs", "rel"):
        js(browser, "const m = document.getElementById('mode'); m.value = arguments[0];"
                    "m.dispatchEvent(new Event('change'))", mode)
        legend = {c.lower() for c in js(browser, "return tglExplorer.legendColours()")}
        assert all(c.startswith("#") and len(c) == 7 for c in legend), legend
        for j in range(len(rec.steps)):
            js(browser, "tglExplorer.show(arguments[0])", j)
            for c in js(browser, USED_COLOURS):
                near = min(sum((a - b) ** 2 for a, b in zip(_rgb(c), _rgb(x), strict=True))
                           for x in legend) ** 0.5
                assert near <= 8, (mode, j, c)
    words = browser.find_element("id", "legend").text
    for phrase in ("dead units", "saturated", "nan or inf", "parameter", "data",
                   "unit strip", "current step"):
        assert phrase in words


def test_the_heat_map_names_its_rows_and_node_text_reads_at_11px(browser, high):
    rec, path = high
    browser.get(path.as_uri())
    labels = js(browser, "return [...document.querySelectorAll('#heat-map .heat-label')]"
                         ".map(t => t.firstChild.textContent)")
    rows = js(browser, "const D = tglExplorer.data; return D.nodes.slice(0, D.ndraw).filter("
                       "(n, i) => i !== D.root && (n.kind === 'op' || n.kind === 'module'))"
                       ".map(n => n.name)")
    assert sorted(labels) == sorted(rows) and "relu in module 3" in labels
    assert not any("#" in x for x in labels)  # names, not the recorder's identities
    sizes = js(browser, "return [...document.querySelectorAll('#graph g.node text')].map("
                        "t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)")
    assert sizes and min(sizes) >= 11
    # the unit line counts in words what it counts
    i = index(browser, "1 relu #0")
    unit_line = js(browser, "return document.querySelectorAll('#n' + arguments[0] + ' text')[3]"
                            ".textContent", i)
    assert re.fullmatch(r"\d+ of 24 units dead \(\d+%\)", unit_line), unit_line


def test_a_notebook_frame_shows_node_text_at_11px(browser, tmp_path, high):
    rec, _ = high
    page = tmp_path / "nb.html"
    page.write_text("<!DOCTYPE html><html><body style='width: 1000px'>"
                    + viz.explore(rec).iframe() + "</body></html>", encoding="utf-8")
    browser.get(page.as_uri())
    browser.switch_to.frame(browser.find_element("tag name", "iframe"))
    try:
        deadline = time.time() + 3  # a frame settles its size after its first script
        while True:
            sizes = js(browser, "return [...document.querySelectorAll('#graph g.node text')]"
                                ".map(t => parseFloat(getComputedStyle(t).fontSize)"
                                " * t.getScreenCTM().a)")
            if min(sizes) >= 11 or time.time() > deadline:
                break
            time.sleep(0.05)
        assert sizes and min(sizes) >= 11
    finally:
        browser.switch_to.default_content()


def test_saturation_is_said_in_words(browser, tmp_path):
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(6, 12, rng=rng), nn.Tanh(), nn.Linear(12, 3, rng=rng))
    X, y = rng.standard_normal((16, 6)) * 30, rng.integers(0, 3, 16)  # large inputs saturate
    rec = viz.Recorder(model)
    loss = F.softmax_cross_entropy(model(X), y)
    loss.backward()
    rec.record(loss, 0)
    rec.close()
    path = tmp_path / "tanh.html"
    viz.explore(rec, path)
    browser.get(path.as_uri())
    i = index(browser, "1 tanh #0")
    line = js(browser, "return document.querySelectorAll('#n' + arguments[0] + ' text')[3]"
                       ".textContent", i)
    sata = rec.series("1 tanh #0", "saturated_act")[0]
    assert sata > 0.5 and line == f"{round(100 * sata)}% of outputs saturated", line
    browser.find_element("id", f"n{i}").click()
    panel = browser.find_element("id", "panel").text
    assert "outputs saturated (|f'| < 0.01)" in panel
    assert "units saturated on every example" in panel
