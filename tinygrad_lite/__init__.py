"""tinygrad_lite: an autograd engine on numpy that teaches how gradients flow.

    from tinygrad_lite import Value
    x = Value(2.0, label="x")
    y = (x * x).tanh()
    y.backward()
    x.grad          # array(0.0019...)
"""
from .anomaly import AnomalyError, detect_anomaly
from .engine import Value, backward_order
from .function import Function, is_grad_enabled, no_grad, unbroadcast
from .gradcheck import GradcheckError, gradcheck

__version__ = "0.1.0"

__all__ = [
    "Value", "Function", "no_grad", "is_grad_enabled", "gradcheck", "GradcheckError",
    "backward_order", "unbroadcast", "detect_anomaly", "AnomalyError",
]
