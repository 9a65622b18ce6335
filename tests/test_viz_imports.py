"""viz is split by stage, and ``import viz`` loads neither graphviz nor matplotlib."""
import subprocess
import sys
import textwrap

import pytest


def run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_import_viz_loads_neither_graphviz_nor_matplotlib():
    out = run("""
        import sys
        import viz
        print(sorted(m for m in ("graphviz", "matplotlib") if m in sys.modules))
        from tinygrad_lite import Value
        x = Value(2.0, label="x")
        y = (x * x).tanh()
        y.backward()
        info = viz.analyze(y)  # analysis: numpy only
        print(sorted(m for m in ("graphviz", "matplotlib") if m in sys.modules))
        g = viz.draw_graph(y)  # the first drawing loads graphviz
        print(sorted(m for m in ("graphviz", "matplotlib") if m in sys.modules))
        viz.loss_curve([1.0, 0.5])  # the first plot loads matplotlib
        print(sorted(m for m in ("graphviz", "matplotlib") if m in sys.modules))
    """)
    assert out.splitlines() == ["[]", "[]", "['graphviz']", "['graphviz', 'matplotlib']"]


@pytest.mark.parametrize("module", ["viz.info", "viz.analysis", "viz.modules", "viz.dot"])
def test_analysis_and_dot_stages_never_import_graphviz(module):
    out = run(f"""
        import sys
        import {module}
        print("graphviz" in sys.modules, "matplotlib" in sys.modules)
    """)
    assert out == "False False"


def test_public_names_and_the_old_module_still_import():
    import viz
    from viz import GradGraph, draw_graph
    from viz.graph import GradGraph as OldGradGraph
    from viz.graph import analyze
    from viz.graph import draw_graph as old_draw_graph

    assert GradGraph is OldGradGraph and draw_graph is old_draw_graph
    assert analyze is viz.analyze
    for name in viz.__all__:
        assert getattr(viz, name) is not None
    assert "draw_graph" in dir(viz) and "GradGraph" in dir(viz)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        viz.nonexistent  # noqa: B018


def test_thresholds_are_the_monitors():
    import viz
    from tinygrad_lite import monitor

    assert viz.SATURATION == monitor.SATURATION
    assert viz.VANISHING_RATIO < 1 < viz.EXPLODING_RATIO
    assert 0 < viz.MARK_FRACTION < 1
