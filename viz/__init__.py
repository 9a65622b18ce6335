"""viz: pictures of how gradients flow through a tinygrad_lite graph.

* ``draw_graph(root, path)``: the graph behind a Value as SVG/PNG/DOT, with values and
  gradients on nodes, upstream x local = downstream on edges, and dead, saturated,
  vanishing and exploding units marked (a graphviz.Digraph; inline SVG in Jupyter).
* ``analyze(root)``: the same measurements as data (GraphInfo), without drawing.
* ``trace_modules(model)``: record which module computed what, for clusters.
* ``backward_steps(root, params, model)``: backprop one node at a time (a generator, for
  debuggers); ``animate_backward(root, path)``: a self-contained page stepping through it,
  shown inline in Jupyter (any number per notebook page).
* plots (matplotlib figures, never shown): activation histograms per layer, loss curve,
  accuracy, update-to-weight ratios, gradient norms, hyperparameter search scatter.

The package is split by stage: viz.analysis (numpy only) measures, viz.dot writes DOT text,
viz.draw renders it (graphviz), viz.plots plots (matplotlib). ``import viz`` imports neither
graphviz nor matplotlib: graphviz loads on the first drawing (``draw_graph`` or
``GradGraph``), matplotlib on the first plot.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .analysis import analyze
from .animate import Animation, animate_backward
from .explore import Explorer, explore
from .info import (
    EXPLODING_RATIO,
    MARK_FRACTION,
    SATURATION,
    VANISHING_RATIO,
    EdgeInfo,
    GraphInfo,
    GraphTooLargeError,
    NodeInfo,
)
from .modules import ModuleTrace, trace_modules
from .plots import (
    accuracy_plot,
    activation_histograms,
    grad_norm_plot,
    hyperparam_scatter,
    loss_curve,
    update_ratio_plot,
)
from .recorder import Recorder
from .render import DotNotFoundError, RenderTimeoutError, find_dot
from .steps import BackwardStep, backward_steps

if TYPE_CHECKING:
    from .draw import GradGraph, draw_graph

__all__ = [
    "draw_graph", "analyze", "trace_modules", "ModuleTrace", "GradGraph", "GraphInfo",
    "NodeInfo", "EdgeInfo", "GraphTooLargeError", "backward_steps", "BackwardStep",
    "animate_backward", "Animation", "activation_histograms", "loss_curve", "accuracy_plot",
    "update_ratio_plot", "grad_norm_plot", "hyperparam_scatter", "find_dot", "DotNotFoundError",
    "RenderTimeoutError", "SATURATION", "MARK_FRACTION", "VANISHING_RATIO", "EXPLODING_RATIO",
    "Recorder", "explore", "Explorer",
]

# names whose module imports graphviz: loaded on first use (PEP 562)
_LAZY = {"draw_graph": "draw", "GradGraph": "draw"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'viz' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
