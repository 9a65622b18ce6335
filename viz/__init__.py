"""viz: pictures of how gradients flow through a tinygrad_lite graph.

* ``draw_graph(root, path)``: the graph behind a Value as SVG/PNG/DOT, with values and
  gradients on nodes, upstream x local = downstream on edges, and dead, saturated,
  vanishing and exploding units marked (a graphviz.Digraph; inline SVG in Jupyter).
* ``trace_modules(model)``: record which module computed what, for clusters.
* ``backward_steps(root)``: backprop one node at a time (a generator, for debuggers);
  ``animate_backward(root, path)``: a self-contained HTML page stepping through it.
* plots (matplotlib figures, never shown): activation histograms per layer, loss curve,
  accuracy, update-to-weight ratios, gradient norms, hyperparameter search scatter.
"""
from .animate import BackwardStep, animate_backward, backward_steps
from .graph import (GradGraph, GraphInfo, GraphTooLargeError, ModuleTrace, analyze,
                    draw_graph, trace_modules)
from .plots import (accuracy_plot, activation_histograms, grad_norm_plot, hyperparam_scatter,
                    loss_curve, update_ratio_plot)
from .render import DotNotFoundError, find_dot

__all__ = [
    "draw_graph", "analyze", "trace_modules", "ModuleTrace", "GradGraph", "GraphInfo",
    "GraphTooLargeError", "backward_steps", "BackwardStep", "animate_backward",
    "activation_histograms", "loss_curve", "accuracy_plot", "update_ratio_plot",
    "grad_norm_plot", "hyperparam_scatter", "find_dot", "DotNotFoundError",
]
