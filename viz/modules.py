"""Which module computed what: module tracing, parameter names, and node ownership.

``with viz.trace_modules(model) as trace:`` records each module's inputs and outputs during
a forward pass; ``owners`` then assigns every drawn Value to the innermost module that
computed it (or, given a Module without a trace, to the module of its nearest parameter
ancestor). ``param_names`` gives parameters their dotted names (``0.weight``).
"""
from __future__ import annotations

from typing import Any

__all__ = ["ModuleTrace", "trace_modules", "param_names", "module_classes", "owners"]


class ModuleTrace:
    """Records which module produced which Values during a forward pass.

    Use as ``with viz.trace_modules(model) as trace: loss = lossfn(model(x), y)`` and then
    ``draw_graph(loss, model=trace)``: nodes are grouped in clusters named after the modules
    (the innermost module that computed them), and parameters take their dotted names.
    The model needs ``named_modules()`` and ``register_forward_hook(fn)`` returning a handle
    with ``remove()``, as ``tinygrad_lite.nn.Module`` (and PyTorch) have.
    """

    def __init__(self, model) -> None:
        self.model = model
        # (name, class name, input Values, output Values), inner modules first
        self.calls: list[tuple[str, str, tuple, tuple]] = []
        self._handles: list[Any] = []

    def __enter__(self):
        for name, module in self.model.named_modules():
            if not name:
                continue  # the whole model: one cluster around everything says nothing
            self._handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def _hook(self, name):
        def hook(module, inputs, output):
            self.calls.append((name, type(module).__name__, _values_in(inputs), _values_in(output)))
        return hook

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles = []
        return False

    def named_parameters(self):
        """The traced model's (dotted name, parameter) pairs."""
        return self.model.named_parameters()


def trace_modules(model) -> ModuleTrace:
    """Context manager recording module outputs during a forward pass (see ModuleTrace)."""
    return ModuleTrace(model)


def _values_in(obj) -> tuple:
    """The Values in a module's inputs or output (nested tuples, lists, dicts), in order."""
    from tinygrad_lite import Value

    out: list = []
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, Value):
            out.append(o)
        elif isinstance(o, (tuple, list)):
            stack.extend(reversed(o))
        elif isinstance(o, dict):
            stack.extend(reversed(list(o.values())))
    return tuple(out)


def param_names(params, model, who: str = "draw_graph") -> dict[int, str]:
    """id(Value) -> dotted name, from a dict, a Module or a ModuleTrace (``who`` names the
    caller in the error for anything else)."""
    names: dict[int, str] = {}
    for src in (model, params):
        if src is None:
            continue
        if hasattr(src, "named_parameters"):
            items = src.named_parameters()
        elif isinstance(src, dict):
            items = src.items()
        else:
            raise TypeError(f"{who}: params must be a dict of name -> Value or a Module, "
                            f"not {type(src).__name__}")
        for name, v in items:
            names.setdefault(id(v), str(name))
    return names


def module_classes(model) -> dict[str, str]:
    """Dotted module name -> class name, for a Module or a ModuleTrace (empty for None)."""
    m = model.model if isinstance(model, ModuleTrace) else model
    out: dict[str, str] = {}
    if m is not None and hasattr(m, "named_modules"):
        for name, mod in m.named_modules():
            out[name] = type(mod).__name__
    return out


def owners(drawn, names, model) -> dict[int, str]:
    """id(Value) -> innermost module name, from a trace or from parameter ancestry."""
    owner: dict[int, str] = {}
    if model is None:
        return owner
    present = {id(v) for v in drawn}
    if isinstance(model, ModuleTrace):
        for name, _cls, inputs, outputs in model.calls:  # inner modules finish first
            stop = {id(x) for x in inputs}
            stack = [o for o in outputs if id(o) in present]
            seen: set[int] = set()
            while stack:
                v = stack.pop()
                if id(v) in seen or id(v) in stop:
                    continue
                seen.add(id(v))
                owner.setdefault(id(v), name)
                stack.extend(p for p in v.parents if id(p) in present)
        # parameters never touched by a traced call still belong to their module by name
        for v in drawn:
            if id(v) in names and id(v) not in owner and "." in names[id(v)]:
                owner[id(v)] = names[id(v)].rsplit(".", 1)[0]
        return owner
    # a node belongs to the module of its nearest parameter ancestor
    dist: dict[int, int] = {}
    for v in drawn:  # trace order: parents first
        if id(v) in names:
            n = names[id(v)]
            if "." in n:
                owner[id(v)] = n.rsplit(".", 1)[0]
                dist[id(v)] = 0
            continue
        best = None
        for p in v.parents:
            if id(p) in dist and (best is None or dist[id(p)] < best[0]):
                best = (dist[id(p)], owner[id(p)])
        if best is not None:
            dist[id(v)] = best[0] + 1
            owner[id(v)] = best[1]
    return owner
