"""The report's sections in the lecture's order: one module per part, each declaring itself.

Each module defines ``build(ctx, s)`` decorated with ``@section(key, title, intro)``, which
makes it a SectionSpec. Add a section: write a module like these and put it in SECTIONS.
"""
from __future__ import annotations

from ..registry import SectionSpec
from . import (
    activations,
    babysitting,
    backprop,
    batch_norm,
    dead_relu,
    monitoring,
    preprocessing,
    search,
    weight_init,
)

__all__ = ["SECTIONS"]

SECTIONS: tuple[SectionSpec, ...] = (
    backprop.build,
    activations.build,
    dead_relu.build,
    preprocessing.build,
    weight_init.build,
    batch_norm.build,
    babysitting.build,
    search.build,
    monitoring.build,
)
