"""The old home of the engine, kept so that existing imports work.

The engine now lives in modules named for what they hold: :mod:`tinygrad_lite.value` (Value and
``apply``), :mod:`tinygrad_lite.function` (Function), :mod:`tinygrad_lite.backward` (the backward
loop); what a learner can skip in modules of its own (hooks, versions, anomaly, interop, errors,
jit).
"""
from .backward import backward_order, unbroadcast
from .grad_mode import is_grad_enabled, no_grad
from .hooks import RemovableHandle
from .value import Value, apply

__all__ = ["Value", "apply", "backward_order", "unbroadcast", "no_grad", "is_grad_enabled",
           "RemovableHandle"]
