"""viz in a real Jupyter kernel (nbclient): what a notebook shows for each kind of result.

One notebook is built with nbformat and executed once (a kernel start costs seconds); each
test reads the outputs of its cells. No ``%matplotlib`` magic anywhere unless a cell says so.
"""
import base64
import textwrap

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("graphviz")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PLOTS = {
    "activation_histograms": "viz.activation_histograms({'1': rng.standard_normal((50, 8)), "
                             "'2': np.tanh(rng.standard_normal((50, 8)))})",
    "loss_curve": "viz.loss_curve([2.3, 1.9, 1.2, 0.8, 0.7])",
    "accuracy_plot": "viz.accuracy_plot([0.3, 0.5, 0.7], [0.25, 0.4, 0.5])",
    "update_ratio_plot": "viz.update_ratio_plot({'0.weight': [1e-3, 2e-3, 8e-4]})",
    "grad_norm_plot": "viz.grad_norm_plot({'0.weight': 1e-3, '2.weight': 1e-1})",
    "hyperparam_scatter": "viz.hyperparam_scatter([{'lr': 10 ** -k, 'reg': 10 ** -j, "
                          "'val_acc': 0.1 * k + 0.01 * j, 'status': 'ok'} "
                          "for k in range(1, 5) for j in range(1, 4)])",
}
SETUP = """
import numpy as np
import viz
from tinygrad_lite import Value
rng = np.random.default_rng(0)
"""
EXTRA = {
    # savefig still works on the figure a notebook displays
    "savefig": """
        fig = viz.loss_curve([1.0, 0.5, 0.25])
        fig.savefig("loss.png")
        print(open("loss.png", "rb").read(8) == b"\\x89PNG\\r\\n\\x1a\\n", type(fig).__mro__[1])
    """,
    # with the inline backend turned on, the figure still shows once, not twice
    "inline_magic": """
        %matplotlib inline
        viz.loss_curve([1.0, 0.5, 0.25])
    """,
    "graph": """
        w, x = Value(2.0, label="w"), Value(-1.0, label="x")
        f = (w * x).sigmoid()
        f.backward()
        viz.draw_graph(f)
    """,
    "animation": """
        viz.animate_backward(f)
    """,
    "two_animations": """
        from IPython.display import display
        display(viz.animate_backward(f, title="one"))
        display(viz.animate_backward(f, title="two"))
    """,
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Cell name -> that cell's outputs, from one notebook run in a python3 kernel."""
    names = ["setup", *PLOTS, *EXTRA]
    sources = [SETUP, *PLOTS.values(), *(textwrap.dedent(s) for s in EXTRA.values())]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src.strip()) for src in sources]
    folder = tmp_path_factory.mktemp("nb")
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()
    return {name: cell.outputs for name, cell in zip(names, nb.cells, strict=True)}


def bundles(outs):
    return [o["data"] for o in outs if o.get("output_type") in ("execute_result", "display_data")]


@pytest.mark.parametrize("name", list(PLOTS))
def test_every_plot_shows_as_an_image(outputs, name):
    (data,) = bundles(outputs[name])  # exactly one rich output: the figure
    assert "image/png" in data, f"{name}: only {sorted(data)} ({data.get('text/plain')})"
    png = base64.b64decode(data["image/png"])
    assert png.startswith(PNG_MAGIC) and len(png) > 5000
    assert data["text/plain"].startswith("<Figure size")  # the text a terminal shows: unchanged


def test_a_displayed_figure_still_saves(outputs):
    text = "".join(o.get("text", "") for o in outputs["savefig"])
    assert text.split()[0] == "True" and "matplotlib.figure.Figure" in text


def test_inline_backend_shows_the_figure_once(outputs):
    images = [d for d in bundles(outputs["inline_magic"]) if "image/png" in d]
    assert len(images) == 1


def test_graph_shows_as_svg(outputs):
    (data,) = bundles(outputs["graph"])
    assert "<svg" in data["image/svg+xml"]


def test_animation_shows_as_html_in_a_frame(outputs):
    (data,) = bundles(outputs["animation"])
    assert data["text/html"].startswith("<iframe") and "srcdoc=" in data["text/html"]
    assert "tgl-anim" in data["text/html"] and "step 0 of 4" in data["text/html"]
    assert data["text/plain"].startswith("<Animation") and len(data["text/plain"]) < 200


def test_two_animations_in_one_cell_have_their_own_ids(outputs):
    import re

    one, two = (d["text/html"] for d in bundles(outputs["two_animations"]))
    ids = [set(re.findall(r'id=&quot;([^&]*)&quot;', h)) for h in (one, two)]
    assert len(ids[0]) > 20 and not ids[0] & ids[1]
