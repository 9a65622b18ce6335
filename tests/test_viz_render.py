"""Rendering: graphviz-pure when no system dot is on PATH (what users of the viz extra get),
the system dot when one is installed, and clear errors otherwise."""
import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("graphviz")

import viz  # noqa: E402
from tinygrad_lite import Value  # noqa: E402
from viz import render  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def small_graph():
    x = Value(np.array([[1.0, -2.0], [0.5, 3.0]]), label="x")
    w = Value(np.array([[0.3], [-0.7]]), label="w")
    y = (x @ w).tanh().sum()
    y.backward()
    return y


@pytest.fixture
def no_system_dot(monkeypatch, tmp_path):
    """PATH without any Graphviz: an empty folder. graphviz-pure is found beside Python."""
    empty = tmp_path / "emptybin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv(render.ENV_VAR, raising=False)
    assert shutil.which("dot") is None
    return empty


def test_graphviz_pure_renders_when_no_dot_is_on_path(no_system_dot, tmp_path):
    prog = render.find_dot()
    assert os.path.basename(prog).startswith("graphviz-pure")
    g = viz.draw_graph(small_graph())
    svg = g.write(tmp_path / "g.svg")
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    with open(svg, encoding="utf-8") as f:
        assert "graphviz-pure" in f.read()  # its version comment: it really rendered this
    png = g.write(tmp_path / "sub" / "g.png")
    with open(png, "rb") as f:
        data = f.read()
    assert data.startswith(PNG_MAGIC) and len(data) > 2000
    dot = g.write(tmp_path / "g.dot")
    with open(dot, encoding="utf-8") as f:
        assert f.read() == g.source


def test_draw_graph_path_suffix_picks_the_format(no_system_dot, tmp_path):
    y = small_graph()
    viz.draw_graph(y, tmp_path / "a.svg")
    viz.draw_graph(y, str(tmp_path / "a.png"))
    viz.draw_graph(y, tmp_path / "a.gv")
    assert (tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "a.png").read_bytes().startswith(PNG_MAGIC)
    assert (tmp_path / "a.gv").read_text().startswith("digraph gradient_flow {")
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.dot"):
        viz.draw_graph(y, tmp_path / "a.pdf")


def test_jupyter_shows_inline_svg_without_system_graphviz(no_system_dot):
    g = viz.draw_graph(small_graph())
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    ET.fromstring(bundle["image/svg+xml"])
    assert g.pipe(format="png").startswith(PNG_MAGIC)


def test_render_and_copy_keep_working(no_system_dot, tmp_path):
    g = viz.draw_graph(small_graph())
    out = g.render(outfile=str(tmp_path / "r.svg"))
    assert out.endswith("r.svg") and os.path.getsize(out) > 500
    out2 = g.render(filename=str(tmp_path / "src.gv"), format="png", cleanup=True)
    assert out2.endswith("src.gv.png") and not os.path.exists(tmp_path / "src.gv")
    c = g.copy()
    assert c.info is g.info and c.source == g.source


def test_fresh_process_without_graphviz_on_path(tmp_path):
    """The README's first run, on a machine with no Graphviz: only Python's own folder."""
    script = textwrap.dedent("""
        import sys
        from tinygrad_lite import Value
        import viz
        w0, x0 = Value(2.0, label="w0"), Value(-1.0, label="x0")
        w1, x1, w2 = Value(-3.0, label="w1"), Value(-2.0, label="x1"), Value(-3.0, label="w2")
        f = (w0 * x0 + w1 * x1 + w2).sigmoid()
        f.backward()
        viz.draw_graph(f, sys.argv[1])
        print(viz.find_dot())
    """)
    env = {k: v for k, v in os.environ.items() if k != render.ENV_VAR}
    env["PATH"] = str(tmp_path)  # no dot, no graphviz-pure on PATH
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = tmp_path / "neuron.svg"
    proc = subprocess.run([sys.executable, "-c", script, str(out)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "graphviz-pure" in os.path.basename(proc.stdout.strip())
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "data 0.7311" in texts and "grad -0.1966" in texts


@pytest.mark.skipif(shutil.which("dot") is None, reason="no system Graphviz dot installed")
def test_system_dot_is_used_when_installed(tmp_path, monkeypatch):
    monkeypatch.delenv(render.ENV_VAR, raising=False)
    assert render.find_dot() == shutil.which("dot")
    assert render.find_dot("system") == shutil.which("dot")
    g = viz.draw_graph(small_graph(), renderer="system")
    svg = g.write(tmp_path / "s.svg")
    text = open(svg, encoding="utf-8").read()
    ET.fromstring(text)
    assert "graphviz-pure" not in text
    assert g.pipe(format="png").startswith(PNG_MAGIC)


def test_environment_variable_picks_the_program(monkeypatch):
    pure = render.find_dot("graphviz-pure")
    monkeypatch.setenv(render.ENV_VAR, pure)
    assert render.find_dot() == shutil.which(pure)
    monkeypatch.setenv(render.ENV_VAR, "/no/such/dot-program")
    with pytest.raises(render.DotNotFoundError, match="not an executable"):
        render.find_dot()


def test_no_renderer_at_all_says_what_to_install(no_system_dot, monkeypatch):
    monkeypatch.setattr(render, "_graphviz_pure", lambda: None)
    with pytest.raises(viz.DotNotFoundError, match="pip install graphviz-pure"):
        render.find_dot()
    with pytest.raises(viz.DotNotFoundError, match="no system Graphviz"):
        render.find_dot("system")
    g = viz.draw_graph(small_graph())  # building the graph needs no renderer
    assert g.source.startswith("digraph")
    with pytest.raises(viz.DotNotFoundError):
        g.pipe(format="svg")


def test_renderer_errors_carry_its_message():
    with pytest.raises(RuntimeError, match=r"graphviz-pure -Tsvg failed"):
        render.render_source("digraph { a -> }", "svg", prefer="graphviz-pure")
    with pytest.raises(ValueError, match="prefer must be"):
        render.find_dot("cairo")


def test_pipe_passes_renderer_formatter_and_engine(monkeypatch):
    """GradGraph.pipe used to drop renderer, formatter and engine without a word."""
    g = viz.draw_graph(small_graph(), renderer="graphviz-pure")
    calls = []
    real_run = subprocess.run

    def spy(args, **kwargs):
        calls.append(list(args[1:]))
        return real_run(args, **kwargs)

    monkeypatch.setattr(render.subprocess, "run", spy)
    assert g.pipe(format="png", renderer="cairo", formatter="cairo").startswith(PNG_MAGIC)
    assert calls[-1] == ["-Tpng:cairo:cairo"]
    neato = g.pipe(format="svg", engine="neato", encoding="utf-8")
    assert calls[-1] == ["-Tsvg", "-Kneato"]
    assert neato != g.pipe(format="svg", encoding="utf-8")  # another layout, really
    assert calls[-1] == ["-Tsvg"]
    g.engine = "neato"  # the graph's own engine attribute counts too
    assert g.pipe(format="svg", encoding="utf-8") == neato
    g.engine = "dot"
    with pytest.raises(RuntimeError, match=r"-Tsvg:nosuchrenderer failed"):
        g.pipe(format="svg", renderer="nosuchrenderer")
    with pytest.raises(RuntimeError, match=r"-Knosuchengine failed"):
        g.pipe(format="svg", engine="nosuchengine")
    with pytest.raises(ValueError, match="formatter given without renderer"):
        g.pipe(format="png", formatter="cairo")


def test_render_passes_options_and_writes_the_output(tmp_path):
    g = viz.draw_graph(small_graph(), renderer="graphviz-pure")
    out = g.render(tmp_path / "g", format="png", renderer="cairo")
    assert out == str(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes().startswith(PNG_MAGIC)
    assert (tmp_path / "g").read_text(encoding="utf-8") == g.source  # the source, saved
    with pytest.raises(FileExistsError):
        g.render(tmp_path / "g", format="png", raise_if_result_exists=True)
    out = g.render(outfile=tmp_path / "o.svg", engine="neato")
    ET.parse(out)


def test_too_slow_a_drawing_says_how_to_draw_less(tmp_path):
    y = small_graph()
    g = viz.draw_graph(y, timeout=1e-4)
    n = len(g.info.nodes)
    for attempt in (lambda: g.pipe(format="svg"), lambda: g.write(tmp_path / "g.svg"),
                    lambda: g._repr_image_svg_xml()):
        with pytest.raises(viz.RenderTimeoutError) as err:
            attempt()
        msg = str(err.value)
        assert f"rendering {n} nodes" in msg
        for option in ("depth=", "collapse='modules'", "max_nodes=", "timeout="):
            assert option in msg
        assert not isinstance(err.value, subprocess.TimeoutExpired)
    with pytest.raises(viz.RenderTimeoutError, match="nodes"):
        viz.draw_graph(y, tmp_path / "h.svg", timeout=1e-4)
    assert not (tmp_path / "h.svg").exists()
