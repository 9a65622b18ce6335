"""Hostile text through every page and picture viz writes, opened in headless Chromium.

Labels, parameter names, module names, titles, op names of custom Functions and plot series
names are set to strings an attacker (or an unlucky user) would choose: script tags, attribute
breakouts, ``</svg>``, ``]]>``, the page templates' own markers, DOT metacharacters, newlines,
RTL marks, U+2028, a very long string. Each page is opened with ``alert``, ``confirm``,
``prompt`` and ``print`` hooked before any script of the page runs (and read again after
load), its DOM scanned for injected elements and ``on*`` attributes, and then used: the
animation steps, the explorer's slider and a node click still work, and the text shows as
text. Several strings share one page, so that the whole module takes seconds, not minutes.
"""
import numpy as np
import pytest

pytest.importorskip("graphviz")

import viz  # noqa: E402
from tinygrad_lite import Function, Value, nn  # noqa: E402

HOSTILE = [
    "<script>alert('label')</script>",
    '"><img src=x onerror=alert(1)>',
    "' autofocus onfocus=alert(2) x='",
    "</svg><svg onload=alert(3)>",
    "]]><script>alert(4)</script><![CDATA[",
    "{{SVG}}{{STEPS}}{{FRAGMENT}}{{TITLE}}{{P}}{{N}}{{STYLE}}{{DATA}}{{SCRIPT}}{{CSP}}",
    "{{STEPS}} autofocus onfocus=alert(document.domain) ",
    'a"b\\N\\G\\L{x|y}<f0>|"]; evil [label=<<b>x</b>>] //',
    "line1\nline2\r\n\t<b>bold</b>",
    "\u202eevil\u202c and \u200fRTL\u200e",
    "sep\u2028line\u2029para</script><script>alert(5)</script>",
    "javascript:alert(6)",
    "</title></style></textarea><script>alert(7)</script>",
    "<!-- --><iframe srcdoc='<script>parent.alert(8)</script>'>",
    "&lt;script&gt;alert(9)&lt;/script&gt; &amp; &#60;",
    "\\u003cscript\\u003e ${alert(10)} `;alert(11);//",
    "bell\x07 nul\x00 esc\x1b[31m",
    "cost $5 and $x^{2$",
    "x" * 2000 + "<script>alert(12)</script>",
    " ",
]
SHORT = [s for s in HOSTILE if len(s) < 200]

HOOK = """
window.__alerts = [];
for (const f of ["alert", "confirm", "prompt", "print"]) {
  window[f] = function () { window.__alerts.push(f + ": " + [...arguments].join(", ")); };
}
"""
# what a page may hold; any other element, or any on* attribute, is injected
SCAN = """
const allowed = new Set(arguments[0]);
const bad = [];
for (const e of document.querySelectorAll("*")) {
  const tag = e.localName.toLowerCase();
  if (!allowed.has(tag)) bad.push("element " + tag);
  for (const a of e.attributes) {
    if (/^on/i.test(a.name)) bad.push(tag + " has " + a.name);
    const png = tag === "image" && /^data:image\\/png;base64,/.test(a.value);  // a colour bar
    if (/href|src|action/i.test(a.name) && /^\\s*(javascript|data|vbscript):/i.test(a.value) &&
        !png) {
      bad.push(tag + " " + a.name + "=" + a.value.slice(0, 40));
    }
  }
}
const scripts = [...document.querySelectorAll("script")].map(
  (s) => s.type === "application/json" ? "json" : "js:" + s.textContent.trim().slice(0, 14));
return {bad, scripts, alerts: window.__alerts || null};
"""
SVG_TAGS = ["svg", "g", "title", "polygon", "path", "ellipse", "text", "a", "rect", "line",
            "polyline", "circle", "defs", "tspan", "style", "clippath", "lineargradient",
            "stop", "use"]
PAGE_TAGS = ["html", "head", "body", "meta", "title", "style", "script", "div", "h2", "h3",
             "button", "input", "span", "header", "label", "select", "option", "main", "aside",
             "section", "p", "table", "tbody", "tr", "td"] + SVG_TAGS
HOST_TAGS = ["html", "head", "body", "iframe"]


@pytest.fixture(scope="module")
def hooked(browser):
    """The browser, with the dialogs hooked in every document it opens from now on."""
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOOK})
    return browser


def check(driver, allowed, scripts=None, sandboxed=False):
    """No dialog opened, nothing injected; the page's own scripts only.

    sandboxed: a frame with sandbox="allow-scripts", where the browser refuses dialogs
    itself (no allow-modals) and the hook may not be installed; the DOM scan still holds."""
    found = driver.execute_script(SCAN, allowed)
    if not (sandboxed and found["alerts"] is None):
        assert found["alerts"] == [], found["alerts"]  # None: the hook did not run
    assert found["bad"] == [], found["bad"][:10]
    if scripts is not None:
        assert found["scripts"] == scripts, found["scripts"]
    return found


def in_frame(driver, fn):
    driver.switch_to.frame(driver.find_element("tag name", "iframe"))
    try:
        return fn()
    finally:
        driver.switch_to.default_content()


# -- the graphs -----------------------------------------------------------------------------------
def custom_op(name: str, k: int):
    """A user's Function whose op name is ``name``: y = 2 x."""

    def forward(ctx, x):
        return 2.0 * x

    def backward(ctx, g):
        return 2.0 * g

    return type(f"Hostile{k}", (Function,), {"op": name, "forward": staticmethod(forward),
                                             "backward": staticmethod(backward)})


def hostile_graph(strings):
    """Per string: a leaf labelled with it, a parameter named with it (params), an op of a
    custom Function called it, and an op node labelled with the next string."""
    params, total = {}, None
    for k, s in enumerate(strings):
        w = Value(0.1 * (k + 1))
        x = Value(0.5 + k, label=s, requires_grad=False)
        params[s] = w
        y = custom_op(s, k).apply(w * x)
        y.label = strings[(k + 1) % len(strings)]
        z = y.tanh()
        total = z if total is None else total + z
    total.label = strings[0]
    return total, params


class Hostile(nn.Module):
    """Submodules named with hostile strings (module names come from attribute names)."""

    def __init__(self, names):
        super().__init__()
        rng = np.random.default_rng(0)
        self.order = list(names)
        for name in names:
            setattr(self, name, nn.Linear(3, 3, rng=rng))

    def forward(self, x):
        for name in self.order:
            x = getattr(self, name)(x).tanh()
        return x


def recorded_run(names, steps=3):
    model = Hostile(names)
    rec = viz.Recorder(model)
    rng = np.random.default_rng(1)
    X = Value(rng.standard_normal((4, 3)), requires_grad=False, label=names[0])
    for step in range(steps):
        for p in model.parameters():
            p.grad = None
        loss = (model(X) * model(X)).mean()
        loss.backward()
        rec.record(loss, step)
        for p in model.parameters():
            p.data -= 0.1 * p.grad
    rec.close()
    return rec, model


@pytest.fixture
def graph():
    """A fresh hostile graph per test: a graph takes one backward pass."""
    return hostile_graph(HOSTILE)


# -- draw_graph -----------------------------------------------------------------------------------
def test_draw_graph_svg(hooked, tmp_path, graph):
    root, params = graph
    root.backward()
    path = tmp_path / "g.svg"
    viz.draw_graph(root, str(path), params=params, title=" | ".join(SHORT))
    hooked.get(path.as_uri())
    check(hooked, SVG_TAGS, scripts=[])
    text = hooked.execute_script("return document.documentElement.textContent")
    assert "<script>alert('label')</script>" in text  # shown, as text


# -- animate_backward -----------------------------------------------------------------------------
def test_the_issue_reproducer_fires_nothing(hooked, tmp_path):
    x = Value(2.0, label="{{STEPS}} autofocus onfocus=alert(document.domain) ")
    y = (x * 3).tanh()
    y.backward()
    anim = viz.animate_backward(y, tmp_path / "a.html")
    hooked.get((tmp_path / "a.html").as_uri())
    check(hooked, PAGE_TAGS, scripts=["js:(function () {"])
    hooked.find_element("id", f"{anim.prefix}-last").click()
    assert hooked.execute_script("return window.__alerts") == []
    assert "{{STEPS}} autofocus" in hooked.find_element("id", f"{anim.prefix}-explain").text


@pytest.mark.parametrize("marker", ["{{SVG}}", "{{FRAGMENT}}", "{{STEPS}}", "{{TITLE}}"])
def test_titles_and_labels_with_template_markers_keep_the_page_whole(hooked, tmp_path, marker):
    x = Value(1.5, label=f"x {marker}")
    y = (x * x).sigmoid()
    anim = viz.animate_backward(y, title=f"Title with {marker} inside")
    assert anim.html.count("<script") == 1 and anim.html.count("<svg") == 1
    path = tmp_path / "m.html"
    anim.write(path)
    hooked.get(path.as_uri())
    check(hooked, PAGE_TAGS, scripts=["js:(function () {"])
    assert hooked.find_element("tag name", "h2").text == f"Title with {marker} inside"
    hooked.find_element("id", f"{anim.prefix}-next").click()
    assert hooked.find_element("id", f"{anim.prefix}-counter").text == f"step 1 of {anim.steps}"


def _steps_work(driver, anim):
    def step():
        return driver.execute_script("return document.getElementById(arguments[0])"
                                     ".dataset.step", anim.prefix)

    assert step() == "0"
    driver.find_element("id", f"{anim.prefix}-next").click()
    assert step() == "1"
    driver.find_element("id", f"{anim.prefix}-last").click()
    assert step() == str(anim.steps)
    return driver.find_element("id", f"{anim.prefix}-explain").text


def test_animation_page_and_notebook_frame(hooked, tmp_path, graph):
    root, params = graph
    anim = viz.animate_backward(root, params=params, title=" | ".join(SHORT))
    page = tmp_path / "anim.html"
    anim.write(page)
    hooked.get(page.as_uri())
    check(hooked, PAGE_TAGS, scripts=["js:(function () {"])
    assert hooked.find_element("tag name", "h2").text.startswith("<script>alert('label')")
    explain = _steps_work(hooked, anim)
    assert "a leaf" in explain
    check(hooked, PAGE_TAGS)
    # the notebook: the frame inside a host page, sandboxed with scripts only
    host = tmp_path / "host.html"
    host.write_text(f"<!DOCTYPE html><html><body>{anim._repr_html_()}</body></html>",
                    encoding="utf-8")
    hooked.get(host.as_uri())
    check(hooked, HOST_TAGS, scripts=[])
    frame = hooked.find_element("tag name", "iframe")
    assert frame.get_attribute("sandbox") == "allow-scripts"
    in_frame(hooked, lambda: check(hooked, PAGE_TAGS, ["js:(function () {"], sandboxed=True))
    in_frame(hooked, lambda: _steps_work(hooked, anim))
    in_frame(hooked, lambda: check(hooked, PAGE_TAGS, sandboxed=True))
    check(hooked, HOST_TAGS)


# -- explore --------------------------------------------------------------------------------------
EXPLORER_SCRIPTS = ["json", "js:/* viz.explore"]


def _explorer_works(driver):
    n = driver.execute_script("return tglExplorer.data.steps.length")
    slider = driver.find_element("id", "slider")
    driver.execute_script("arguments[0].value = arguments[0].max;"
                          "arguments[0].dispatchEvent(new Event('input'))", slider)
    assert driver.execute_script("return document.body.dataset.step") == str(n - 1)
    names = driver.execute_script("return tglExplorer.data.nodes.map(n => n.name)")
    i = next(k for k, name in enumerate(names) if "<" in name or "{{" in name)
    driver.execute_script("document.getElementById('n' + arguments[0])"
                          ".dispatchEvent(new MouseEvent('click', {bubbles: true}))", i)
    h2 = driver.find_element("css selector", "#panel h2").get_attribute("textContent")
    assert h2 == names[i]  # the hostile name, shown as text
    return names


def test_explorer_of_a_value_page_and_frame(hooked, tmp_path, graph):
    root, params = graph
    root.backward()
    ex = viz.explore(root, params=params, title=" | ".join(SHORT))
    ex.save(tmp_path / "ex.html")
    hooked.get((tmp_path / "ex.html").as_uri())
    check(hooked, PAGE_TAGS, scripts=EXPLORER_SCRIPTS)
    assert hooked.find_element("id", "title").text.startswith("<script>alert('label')")
    _explorer_works(hooked)
    check(hooked, PAGE_TAGS)
    host = tmp_path / "host.html"
    host.write_text(f"<!DOCTYPE html><html><body>{ex._repr_html_()}</body></html>",
                    encoding="utf-8")
    hooked.get(host.as_uri())
    check(hooked, HOST_TAGS, scripts=[])
    assert hooked.find_element("tag name", "iframe").get_attribute("sandbox") == "allow-scripts"
    in_frame(hooked, lambda: check(hooked, PAGE_TAGS, EXPLORER_SCRIPTS, sandboxed=True))
    in_frame(hooked, lambda: _explorer_works(hooked))
    in_frame(hooked, lambda: check(hooked, PAGE_TAGS, sandboxed=True))


def test_explorer_of_a_recorder_with_hostile_module_names(hooked, tmp_path):
    rec, model = recorded_run(SHORT[:8])
    ex = viz.explore(rec, tmp_path / "rec.html", model=model, title=HOSTILE[1])
    hooked.get((tmp_path / "rec.html").as_uri())
    check(hooked, PAGE_TAGS, scripts=EXPLORER_SCRIPTS)
    names = _explorer_works(hooked)
    assert any(n.startswith(SHORT[1]) for n in names)  # a parameter under a hostile module
    hooked.execute_script("document.getElementById('collapse-all').click();"
                          "document.getElementById('expand-all').click()")
    check(hooked, PAGE_TAGS)
    assert ex.nodes > 10


# -- plots ----------------------------------------------------------------------------------------
def plot_figures(strings):
    rng = np.random.default_rng(0)
    series = {s: list(np.linspace(1.0, 0.2, 6) + 0.01 * k) for k, s in enumerate(strings)}
    records = [{strings[0]: 10.0 ** -k, strings[1]: 10.0 ** -j, "val_acc": 0.1 * k + 0.01 * j,
                "status": "ok"} for k in range(1, 4) for j in range(1, 4)]
    return {
        "loss_curve": lambda: viz.loss_curve(series, title=strings[2]),
        "accuracy_plot": lambda: viz.accuracy_plot([0.3, 0.5], [0.2, 0.4], title=strings[3]),
        "update_ratio_plot": lambda: viz.update_ratio_plot(
            {s: [1e-3, 2e-3, 1e-3] for s in strings}),
        "grad_norm_plot": lambda: viz.grad_norm_plot({s: 1e-3 * (k + 1)
                                                      for k, s in enumerate(strings)}),
        "activation_histograms": lambda: viz.activation_histograms(
            {s: rng.standard_normal((20, 4)) for s in strings[:4]}),
        "hyperparam_scatter": lambda: viz.hyperparam_scatter(records, x=strings[0],
                                                             y=strings[1]),
    }


@pytest.mark.parametrize("name", list(plot_figures(SHORT)))
def test_plots_saved_as_svg(hooked, tmp_path, name):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    fig = plot_figures(SHORT)[name]()
    path = tmp_path / f"{name}.svg"
    try:
        fig.savefig(path, format="svg")
    finally:
        plt.close(fig)
    hooked.get(path.as_uri())
    broken = hooked.execute_script("const e = document.querySelector('parsererror');"
                                   "return e && e.textContent.slice(0, 200)")
    assert broken is None, f"{name}: the SVG does not parse as XML: {broken}"
    check(hooked, SVG_TAGS + ["metadata", "rdf", "work", "type", "date", "format", "creator",
                              "agent", "symbol", "mask", "pattern", "image"], scripts=[])
