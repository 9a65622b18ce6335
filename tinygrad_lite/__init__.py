"""tinygrad_lite: an autograd engine on numpy that teaches how gradients flow.

    from tinygrad_lite import Value
    x = Value(2.0, label="x")
    y = (x * x).tanh()
    y.backward()
    x.grad          # array(0.0019...)

Where things live: value.py (Value, apply), function.py (Function, the base of every op),
backward.py (the backward loop), ops/ (one Function per op); replay.py (jit: record once, replay).
"""
from .anomaly import AnomalyError, detect_anomaly
from .backward import backward_order, unbroadcast
from .function import Function
from .grad_mode import is_grad_enabled, no_grad
from .gradient_check import GradcheckError, gradcheck
from .replay import jit
from .value import Value

__version__ = "0.1.0"

__all__ = [
    "Value", "Function", "no_grad", "is_grad_enabled", "gradcheck", "GradcheckError",
    "backward_order", "unbroadcast", "detect_anomaly", "AnomalyError", "jit",
]
