"""The names viz.graph held before viz was split by stage; import them from ``viz`` instead.

Graph analysis now lives in viz.analysis (with the result types in viz.info and module
tracing in viz.modules), DOT building in viz.dot, and drawing in viz.draw. This module
re-exports them so that older imports keep working.
"""
from .analysis import WALK_LIMIT, analyze
from .dot import DEAD, EXPLODING, HEALTHY, SATURATED, VANISHING, grad_colour
from .draw import GradGraph, draw_graph
from .info import DYING, SATURATING, EdgeInfo, GraphInfo, GraphTooLargeError, NodeInfo
from .modules import ModuleTrace, trace_modules

__all__ = [
    "draw_graph", "analyze", "GradGraph", "GraphInfo", "NodeInfo", "EdgeInfo",
    "GraphTooLargeError", "trace_modules", "ModuleTrace", "grad_colour", "WALK_LIMIT",
    "DEAD", "SATURATED", "VANISHING", "EXPLODING", "HEALTHY", "SATURATING", "DYING",
]
