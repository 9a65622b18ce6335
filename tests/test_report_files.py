"""The report's files: the CLI checks --out before running anything, a run stopped part-way
leaves the previous report as it was, and hostile names are shown literally, running nothing.

Fast: every report here runs one or two small sections, or sections of its own."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("matplotlib", reason="the report needs the viz extra")
pytest.importorskip("graphviz", reason="the report needs the viz extra")
pytest.importorskip("sklearn", reason="the report's digits need the data extra")


def _cli(*args, cwd=None):
    env = dict(os.environ,
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "tinygrad_lite", *args], capture_output=True,
                          text=True, env=env, timeout=120, cwd=cwd)


# -- the command line ----------------------------------------------------------------------------

def test_version_prints_the_version():
    from tinygrad_lite import __version__

    proc = _cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"tinygrad-lite {__version__}"


def test_no_command_names_the_commands_in_one_line():
    proc = _cli()
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "a command is needed" in lines[0] and "report" in lines[0]


def _bad_outs(tmp_path):
    """(--out, words the message must hold): every case the CLI refuses before running."""
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("not a folder")
    taken = tmp_path / "taken"
    (taken / "index.html").mkdir(parents=True)
    taken_json = tmp_path / "taken_json"
    (taken_json / "results.json").mkdir(parents=True)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    cases = [
        ("", "is empty"),
        ("   ", "is empty"),
        (str(a_file), "is a file"),
        (str(a_file / "report"), "is a file, not a folder"),
        (str(a_file / "deeper" / "report"), "is a file, not a folder"),
        (os.devnull, "is a device"),
        (str(taken), "folder named index.html"),
        (str(taken_json), "folder named results.json"),
        (str(dangling), "a link to nothing"),
    ]
    if os.path.isdir("/proc/self"):  # Linux: a virtual file system, nothing can be written
        cases += [("/proc", "nothing can be written"), ("/proc/report", "nothing can be written")]
    return cases


def test_unusable_out_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys):
    from tinygrad_lite.__main__ import main
    from tinygrad_lite.report import build as build_module

    ran = []
    monkeypatch.setattr(build_module, "_require_extras", lambda: ran.append("extras"))
    monkeypatch.setattr(build_module, "_build", lambda *a: ran.append("build"))
    for out, words in _bad_outs(tmp_path):
        status = main(["report", "--quick", "-q", "--out", out, "--sections", "backprop"])
        err = capsys.readouterr().err
        assert status == 2, out
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("tinygrad-lite: --out"), (out, err)
        assert words in lines[0], (out, lines[0])
        assert "Traceback" not in err
    assert ran == []  # nothing ran, for any of them
    assert not [p for p in tmp_path.rglob("*") if ".partial-" in p.name]


def test_unusable_out_through_the_console_command(tmp_path):
    """The real process: exit 2, one line, no traceback, quickly."""
    (tmp_path / "index.html").mkdir()
    proc = _cli("report", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "folder named index.html" in proc.stderr
    proc = _cli("report", "--out", os.devnull)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_read_only_folder_is_refused(tmp_path):
    from tinygrad_lite import report
    from tinygrad_lite.report.build import OutputFolderError

    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputFolderError, match="nothing can be written"):
            report.build_report(str(locked / "report"), quick=True, progress=False,
                                sections=["backprop"])
    finally:
        locked.chmod(0o700)


# -- a run stopped part-way ----------------------------------------------------------------------

def _snapshot(folder: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_ino) for p in folder.iterdir()}


def test_interrupted_report_leaves_the_previous_one_intact(tmp_path, monkeypatch):
    from tinygrad_lite import report
    from tinygrad_lite.report.sections import preprocessing

    out = tmp_path / "report"
    report.build_report(str(out), quick=True, progress=False,
                        sections=["backprop", "preprocessing"])
    before = _snapshot(out)
    assert {"index.html", "results.json", "backprop.html"} <= set(before)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # as Ctrl-C during the section's experiment

    monkeypatch.setattr(preprocessing, "preprocess", interrupted)
    with pytest.raises(KeyboardInterrupt):  # backprop ran and attached its page first
        report.build_report(str(out), quick=True, progress=False,
                            sections=["backprop", "preprocessing"])
    assert _snapshot(out) == before  # the same files, bytes and inodes: nothing replaced
    assert not list(tmp_path.glob(".*")) and not list(out.glob(".*"))  # no staging left

    # the first run into a fresh folder, interrupted: no folder at all, nothing half-made
    fresh = tmp_path / "fresh"
    with pytest.raises(KeyboardInterrupt):
        report.build_report(str(fresh), quick=True, progress=False,
                            sections=["backprop", "preprocessing"])
    assert not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_ctrl_c_in_the_cli_exits_130_and_says_so(tmp_path, monkeypatch, capsys):
    from tinygrad_lite.__main__ import main
    from tinygrad_lite.report.sections import preprocessing

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(preprocessing, "preprocess", interrupted)
    status = main(["report", "--quick", "-q", "--out", str(tmp_path / "r"), "--sections",
                   "preprocessing"])
    assert status == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_a_rerun_replaces_the_previous_runs_files(tmp_path):
    """Files of the previous report that this run does not write are removed with it; files
    that the report did not write are left alone."""
    from tinygrad_lite import report

    def spec(name):
        @report.section("one", "1. One", "intro")
        def build(ctx, s):
            s.check("ok", "yes", True)
            s.attach(name, f"<p>{name}</p>", title=name)
        return build

    out = tmp_path / "r"
    report.build_report(str(out), progress=False, specs=(spec("first.html"),))
    (out / "mine.txt").write_text("a file of the user's")
    report.build_report(str(out), progress=False, specs=(spec("second.html"),))
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "mine.txt", "results.json",
                                                     "second.html"]
    assert oct(out.stat().st_mode & 0o777) == oct(0o777 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- hostile names -------------------------------------------------------------------------------

HOSTILE = [
    "<script>alert('title')</script>",
    '"><img src=x onerror=alert("attr")>',
    "' onmouseover='alert(1)' x='",
    "{{STEPS}} {{SVG}} $body ${css} %s {0}",
    "</iframe><script>alert('frame')</script>",
    "a\u2028b\u2029c",
    "\u202eRTL\u200f mark",
    "tab\tnew\nline\x07bell\x1b",
    "javascript:alert('href')",
    "]]></svg><svg onload=alert('svg')>",
]


def _objective(config, report):
    report(1.0)
    return {"val_acc": 0.5 + 0.01 * len(config)}


def _hostile_sections():
    from tinygrad_lite import report
    from tinygrad_lite.report import html
    from tinygrad_lite.tune import Choice, random_search

    @report.section(HOSTILE[1], HOSTILE[0], HOSTILE[3])
    def first(ctx, s):
        for text in HOSTILE:
            s.check(text, text, True)
        for i, text in enumerate(HOSTILE):  # attachment names (a "/" is refused: see below)
            s.attach(f"{text.replace('/', '')}{i}.csv", "a,b\n1,2\n", title=text, text=text)
        s.attach("page" + HOSTILE[5] + ".html",
                 '<!DOCTYPE html><p id="inner">inner " \' </iframe> &amp; done</p>',
                 title=HOSTILE[4], embed=True)
        space = {text: Choice([1, 2]) for text in HOSTILE[:4]}  # hyperparameter names
        res = random_search(_objective, space, n_trials=2, metric="val_acc", mode="max",
                            executor="serial", seed=0)
        s.add(html.table(["trial"] + list(space),
                         [[t.id] + [t.config[k] for k in space] for t in res.trials]))
        s.attach("search" + HOSTILE[6] + ".json", res.to_json)
        s.numbers = {text: text for text in HOSTILE}

    @report.section(HOSTILE[2], HOSTILE[7], HOSTILE[9])
    def second(ctx, s):
        s.check(HOSTILE[8], HOSTILE[2], False)

    return first, second


def test_hostile_names_are_safe_file_names():
    from tinygrad_lite.report.registry import safe_file_name

    for text in HOSTILE:
        if "/" in text:  # a path separator: refused, never rewritten into another name
            with pytest.raises(ValueError, match="not a plain file name"):
                safe_file_name(text + ".csv")
            text = text.replace("/", "")
        name = safe_file_name(text + ".csv")
        assert not re.search(r'[\x00-\x1f\x7f<>:"|?*%#\u2028\u2029\u202e\u200f]', name), name
        assert name.endswith(".csv")
    assert safe_file_name("ok name.html") == "ok name.html"
    assert safe_file_name("\u2028") == "_"
    for bad in ("a/b", "a\\b", "..", ".hidden", "", " ", "INDEX.HTML", "results.json"):
        with pytest.raises(ValueError, match="not a plain file name"):
            safe_file_name(bad)


def test_hostile_names_are_escaped_and_run_nothing(tmp_path, browser):

    from tinygrad_lite import report

    out = tmp_path / "r"
    path = report.build_report(str(out), progress=False, specs=_hostile_sections())
    page = Path(path).read_text(encoding="utf-8")
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    files = results["sections"][0]["files"]
    assert len(files) == len(HOSTILE) + 2
    for name in files:  # every attachment exists under the name results.json gives
        assert (out / name).is_file(), name
        assert not re.search(r"[\x00-\x1f<>\"\u2028\u202e]", name)
    assert results["sections"][0]["numbers"] == {t: t for t in HOSTILE}
    assert "<script" not in page and "<img src=x" not in page and "<svg onload" not in page
    assert "{{STEPS}}" in page and "$body" in page  # template markers shown literally

    hook = browser.execute_cdp_cmd(  # window.alert recorded in every document, frames too
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": "window.__alerts = []; window.alert = window.confirm = window.prompt = "
                   "function (m) { window.__alerts.push(String(m)); };"})
    try:
        browser.get(Path(path).as_uri())
        _check_hostile_page(browser, files)
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", hook)


def _check_hostile_page(browser, files):
    from urllib.parse import unquote, urlparse

    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    scripts = browser.find_elements(By.TAG_NAME, "script")
    assert scripts == []  # the report itself has no script; nothing injected one
    injected = browser.execute_script("""
        const bad = [];
        for (const el of document.querySelectorAll('*')) {
            for (const a of el.attributes) {
                if (a.name.startsWith('on')) bad.push(el.tagName + ' ' + a.name);
                if (/^\\s*javascript:/i.test(a.value)) bad.push(el.tagName + ' ' + a.value);
            }
            if (['IMG', 'SCRIPT'].includes(el.tagName) && !(el.src || '').startsWith('data:'))
                bad.push(el.tagName);
        }
        return bad;""")
    assert injected == []
    # every hostile string shows literally: as the title, the claims and the link texts
    text = browser.find_element(By.TAG_NAME, "body").text
    for needle in ("<script>alert('title')</script>", "javascript:alert('href')",
                   "{{STEPS}} {{SVG}} $body ${css}", "]]></svg><svg onload=alert('svg')>"):
        assert needle in text, needle
    # every link leads to its file: the href, decoded, is a name results.json lists
    hrefs = browser.execute_script(
        "return Array.from(document.querySelectorAll('a[href]'))"
        ".filter(a => !a.getAttribute('href').startsWith('#')).map(a => a.href)")
    linked = {unquote(Path(urlparse(h).path).name) for h in hrefs}
    assert linked == set(files) - {files[-1]}  # the search's json is written, not linked
    # the embedded page: inside its sandboxed frame, not broken out of it
    assert browser.find_elements(By.ID, "inner") == []
    frame = browser.find_element(By.TAG_NAME, "iframe")
    assert frame.get_attribute("sandbox") == "allow-scripts"
    browser.switch_to.frame(frame)
    try:
        inner = browser.find_element(By.ID, "inner").text
        frame_alerts = browser.execute_script("return window.__alerts")
    finally:
        browser.switch_to.default_content()
    assert inner == "inner \" ' & done"  # the page's own </iframe> is a tag there, ignored
    assert frame_alerts in (None, [])  # None: the hook does not reach a sandboxed frame, but
    assert browser.execute_script("return window.__alerts") == []
    with pytest.raises(NoAlertPresentException):  # a real dialog, from any frame, would be open
        _ = browser.switch_to.alert.text
