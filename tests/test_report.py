"""The report: `python -m tinygrad_lite report --quick` writes one self-contained page whose
every check passes, which works copied alone; the engine never imports viz or matplotlib.

The output folder, interrupted runs and hostile names: tests/test_report_files.py."""
import html
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("matplotlib", reason="the report needs the viz extra")
pytest.importorskip("graphviz", reason="the report needs the viz extra")
pytest.importorskip("sklearn", reason="the report's digits need the data extra")

SECTION_KEYS = ["backprop", "activations", "dead-relu", "preprocessing", "weight-init",
                "batch-norm", "babysitting", "search", "monitoring"]


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    proc = subprocess.run([sys.executable, "-m", "tinygrad_lite", "report", "--quick",
                           "--out", str(out)], capture_output=True, text=True, env=_env(),
                          timeout=280, cwd=str(out))
    return out, proc


def test_cli_exits_zero_and_prints_the_path(quick_report):
    out, proc = quick_report
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == str(out / "index.html")
    # progress on stderr, one line per section
    for i, key in enumerate(SECTION_KEYS, 1):
        assert f"[{i}/9] {key}" in proc.stderr
    assert "checks pass" in proc.stderr


def test_every_check_passes_and_numbers_are_recorded(quick_report):
    out, _ = quick_report
    results = json.loads((out / "results.json").read_text())
    assert results["quick"] is True
    assert [s["key"] for s in results["sections"]] == SECTION_KEYS
    for s in results["sections"]:
        assert s["error"] == "", s["error"]
        assert s["checks"], s["key"]
        failed = [c for c in s["checks"] if not c["passed"]]
        assert not failed, (s["key"], failed)
    numbers = {s["key"]: s["numbers"] for s in results["sections"]}
    assert abs(numbers["backprop"]["f"] - 0.7311) < 1e-4
    std = numbers["weight-init"]["std"]
    assert std["tanh, std 0.01"][9] < 1e-3 * std["tanh, std 0.01"][0]
    assert max(std["ReLU, He"]) < 2 * std["ReLU, He"][0]
    assert numbers["search"]["random_lrs"] == 9 and numbers["search"]["grid_lrs"] == 3
    assert numbers["search"]["edge_warnings"]
    assert abs(numbers["babysitting"]["verdicts"][0]["numbers"]["loss"] - 2.302585) < 0.1


def test_page_is_self_contained(quick_report):
    out, _ = quick_report
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page  # nothing fetched, not even a font
    assert not re.search(r'<(script|link|img|iframe)[^>]+src="(?!data:)', page)
    assert page.count("<svg") >= 3  # the neuron, the ReLU net, the tanh net
    assert page.count('src="data:image/png;base64,') >= 10
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "inline SVGs must not share element ids"
    frames = re.findall(r"<iframe [^>]*>", page)
    assert len(frames) == 6  # the animation and five explorers, each held in the page
    assert all('sandbox="allow-scripts" ' in f and "srcdoc=" in f for f in frames)
    anim = (out / "backprop.html").read_text(encoding="utf-8")
    assert "<svg" in anim and "http://" not in anim and "https://" not in anim
    assert html.escape(anim, quote=True) in page  # the same page, also beside index.html
    for name in ("explore_dead_relu", "explore_init_std001", "explore_init_xavier",
                 "explore_bn_plain", "explore_bn_normalized"):  # viz.explore pages, embedded
        explorer = (out / f"{name}.html").read_text(encoding="utf-8")
        assert "<svg" in explorer and "http:" not in explorer and "https:" not in explorer
        assert html.escape(explorer, quote=True) in page
        assert f'<a href="{name}.html">' in page
    for name in ("random", "grid", "coarse", "fine"):
        assert (out / f"search_{name}.csv").read_text().startswith("id,status")
        json.loads((out / f"search_{name}.json").read_text())
    assert not list(out.glob(".*")), "no staging folder is left behind"


def test_index_html_works_copied_alone(quick_report, browser, tmp_path):
    """The one file: index.html alone in an empty folder shows every frame's page."""
    from selenium.webdriver.common.by import By

    out, _ = quick_report
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(out / "index.html", alone / "index.html")
    browser.get((alone / "index.html").as_uri())
    frames = browser.find_elements(By.TAG_NAME, "iframe")
    assert len(frames) == 6
    for frame in frames:
        assert frame.get_attribute("sandbox") == "allow-scripts"
        browser.switch_to.frame(frame)
        try:
            n_svg = browser.execute_script("return document.querySelectorAll('svg').length")
            text = browser.execute_script("return document.body.innerText")
        finally:
            browser.switch_to.default_content()
        assert n_svg >= 1 and len(text) > 50, (frame.get_attribute("title"), text[:200])
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_page_has_every_section_with_claims_and_verdicts(quick_report):
    out, _ = quick_report
    page = (out / "index.html").read_text(encoding="utf-8")
    for key in SECTION_KEYS:
        assert f'<section id="{key}">' in page
    assert page.count('<span class="pass">PASS</span>') >= 30
    assert '<span class="fail">' not in page
    assert "DEAD" in page  # the ReLU graph marks its dead units
    assert "saturated" in page

    class Parser(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack = []

        def handle_starttag(self, tag, attrs):
            if tag not in {"meta", "br", "img", "input", "hr", "link", "path", "polygon",
                           "ellipse", "polyline", "rect", "line", "stop", "use", "image"}:
                self.stack.append(tag)

        def handle_startendtag(self, tag, attrs):
            pass

        def handle_endtag(self, tag):
            if tag in {"path", "polygon", "ellipse", "polyline", "rect", "line", "stop",
                       "use", "image"}:
                return
            assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
            self.stack.pop()

    p = Parser()
    p.feed(page)
    p.close()
    assert p.stack == []


def test_cli_usage_errors(tmp_path):
    from tinygrad_lite.__main__ import main

    assert main([]) == 2
    with pytest.raises(SystemExit):
        main(["report", "--bogus"])
    assert main(["report", "--out", str(tmp_path), "--sections", "nope", "-q"]) == 2


def test_cli_runs_a_subset_of_sections(tmp_path, capsys):
    from tinygrad_lite.__main__ import main

    status = main(["report", "--quick", "--out", str(tmp_path), "--sections", "backprop",
                   "preprocessing", "-q"])
    assert status == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert [s["key"] for s in results["sections"]] == ["backprop", "preprocessing"]
    assert capsys.readouterr().out.strip().endswith("index.html")


def test_a_failing_section_is_reported_not_fatal(tmp_path):
    from tinygrad_lite import report

    @report.section("backprop", "1. Backpropagation through a neuron", "what it would show")
    def broken(ctx, s):
        s.check("a check made before the failure", "", True)
        raise RuntimeError("this experiment broke")

    specs = (broken, report.SECTIONS[3])
    path = report.build_report(str(tmp_path), quick=True, progress=False, specs=specs)
    page = Path(path).read_text(encoding="utf-8")
    assert "This section failed" in page and "this experiment broke" in page
    assert "what it would show" in page  # the intro of a failed section still shows
    results = json.loads((tmp_path / "results.json").read_text())
    assert "RuntimeError" in results["sections"][0]["error"]
    assert results["sections"][0]["checks"] == []  # nothing half-done is kept
    assert results["sections"][1]["key"] == "preprocessing" and not results["sections"][1]["error"]


def test_sections_are_declared_once_in_the_lectures_order():
    from tinygrad_lite import report

    assert [spec.key for spec in report.SECTIONS] == SECTION_KEYS
    titles = [spec.title for spec in report.SECTIONS]
    assert [t.split(".")[0] for t in titles] == [str(i) for i in range(1, 10)]
    assert all(spec.intro for spec in report.SECTIONS)
    for spec in report.SECTIONS:  # each section's module declares exactly its own spec
        module = sys.modules[spec.build.__module__]
        assert module.build is spec


def test_attach_writes_a_file_and_links_it(tmp_path):
    from tinygrad_lite import report

    @report.section("extra", "10. An extra page", "one more artefact")
    def extra(ctx, s):
        s.check("the page is attached", "yes", True)
        s.attach("explorer.html", "<!DOCTYPE html><p>explore</p>", title="Explore it",
                 text="A page of its own.", embed=True)
        s.attach("data.csv", lambda path: Path(path).write_text("a,b\n1,2\n"))
        with pytest.raises(ValueError, match="already attaches 'data.csv'"):
            s.attach("data.csv", "again")
        with pytest.raises(ValueError, match="not a plain file name"):
            s.attach("../outside.html", "no")

    path = report.build_report(str(tmp_path), quick=True, progress=False, specs=(extra,))
    page = Path(path).read_text(encoding="utf-8")
    assert (tmp_path / "explorer.html").read_text() == "<!DOCTYPE html><p>explore</p>"
    assert (tmp_path / "data.csv").read_text() == "a,b\n1,2\n"
    assert '<a href="explorer.html">explorer.html</a>' in page
    assert ('<iframe class="anim" sandbox="allow-scripts" title="Explore it" '
            'srcdoc="&lt;!DOCTYPE html&gt;&lt;p&gt;explore&lt;/p&gt;"></iframe>') in page
    assert "data.csv" not in page  # attached without a title or text: written, not linked
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["sections"][0]["files"] == ["explorer.html", "data.csv"]


def test_missing_extra_names_the_install_command(monkeypatch):
    from tinygrad_lite import report
    from tinygrad_lite.report.build import _require_extras

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(report.MissingExtraError, match=r"pip install .*tinygrad_lite\[viz"):
        _require_extras()


def test_engine_imports_neither_viz_nor_matplotlib():
    code = ("import sys; import tinygrad_lite, tinygrad_lite.monitor, tinygrad_lite.babysit, "
            "tinygrad_lite.report, tinygrad_lite.__main__; "
            "bad = [m for m in ('viz', 'matplotlib', 'graphviz') if m in sys.modules]; "
            "assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
