"""Temporary: the old module name, kept only until ``tinygrad_lite/__init__.py`` imports from
:mod:`tinygrad_lite.gradient_check`. Delete this file then: ``tinygrad_lite.gradcheck`` is the
function of the contract, and a module of the same name shadows it."""
from .gradient_check import GradcheckError, gradcheck, numerical_grad

__all__ = ["gradcheck", "GradcheckError", "numerical_grad"]
