"""``tinygrad_lite.jit``: record a training step once, then replay it.

    @tgl.jit
    def step(X, y):
        loss = F.softmax_cross_entropy(model(X), y)
        loss.backward()
        return loss

    for i in range(steps):
        opt.zero_grad(); loss = step(X, y); opt.step()

The eager engine builds a graph on every call: a Value and a context per op, a topological
sort, a dict of pending gradients. The ops and their order are the same each time, so the
jit records them and then reruns only the numbers:

1. The first two calls run ``fn`` eagerly and record the ops that ran (each op's context and
   output) and each ``backward()`` called inside. The two records must agree (same ops, same
   constants, the same parameters); that is how a Value created inside ``fn``, or control
   flow that changes between calls, is caught before it could give a wrong number.
2. Later calls whose inputs have the same shapes and dtypes replay the record: each op's own
   ``forward`` and ``backward`` run on copies of the recorded contexts, with the parameters'
   current data (after an optimizer step) and the new inputs, writing the parameters' ``.grad``
   exactly as the eager call would (accumulating) and returning fresh result Values. No Value
   or context is made per op, no graph is walked.
3. Inputs of other shapes or dtypes record again (up to ``MAX_RECORDS`` records are kept).

What a replay cannot see, and what it does about it:

* Python control flow on values inside ``fn`` (``if loss.item() > 3: ...``): the replay runs
  the recorded branch. ``jit(fn, verify=N)`` runs every N-th call eagerly and compares it with
  the record, raising a RuntimeError that names the first op that differs.
* numpy work on the inputs inside ``fn`` (``X / 255``): its result is a constant of the
  record. It is caught when the second call's constant differs; do such work outside ``fn``
  or with Values.
* Values returned by a replay are results cut from the graph (like ``detach()``): call
  ``backward()`` inside ``fn``.
* Anomaly mode, or a hook on a parameter: the call runs eagerly.
* Inside ``fn``: changing a Value's data (``opt.step()``), resetting a gradient
  (``opt.zero_grad()``), a hook, ``backward(grad=...)`` or ``detect_anomaly()``: a
  RuntimeError at the first call says so.
* ``Module.train()`` and ``.eval()`` change what a model computes: they drop every record.
"""
from __future__ import annotations

import copy
import functools
import threading
from typing import Any

import numpy as np

from . import errors, hooks, interop, versions
from .backward import _fit, _grad_lock, _seed, backward_order
from .floatmath import floatmath
from .grad_mode import mode
from .value import Value

__all__ = ["jit", "invalidate"]

MAX_RECORDS = 8
_generation = [0]  # bumped by invalidate(): every record made before is dropped


def invalidate() -> None:
    """Drop every jit record (``Module.train()`` and ``.eval()`` call this)."""
    _generation[0] += 1


def jit(fn=None, *, verify=0):
    """Record ``fn`` once and replay it on later calls (see the module's docstring).

    ``verify=N`` (N > 0) runs every N-th replayable call eagerly and checks that it ran the
    recorded ops on the same constants, raising a RuntimeError naming the first op that
    differs. Usable as ``@jit``, ``@jit(verify=10)`` or ``step = jit(fn)``.
    """
    if fn is None:
        return functools.partial(jit, verify=verify)
    if not callable(fn):
        raise TypeError(f"jit: expected a function, got {type(fn).__name__}")
    if not isinstance(verify, int) or verify < 0:
        raise ValueError(f"jit: verify must be a whole number >= 0, got {verify!r}")
    return _Jitted(fn, verify)


class _Tape:
    """What one eager call of ``fn`` ran, in order: ("op", ctx, out) and ("backward", root)."""

    def __init__(self):
        self.events: list[tuple] = []
        self.problems: list[str] = []
        self.signature: list[tuple] = []

    def op(self, ctx, out):
        self.events.append(("op", ctx, out))

    def backward(self, root, grad, retain_graph):
        if grad is not None:
            self.problems.append("backward(grad=...) inside fn: the replay seeds backward "
                                 "with ones only; compute the loss as a one-element Value")
        self.events.append(("backward", root))

    def grad_reset(self, value):
        self.problems.append("a .grad was set or zeroed inside fn (zero_grad()?); the replay "
                             "only adds to .grad: call zero_grad() outside the jitted function")


class _Jitted:
    """The callable ``jit(fn)`` returns."""

    def __init__(self, fn, verify):
        self.fn, self.verify = fn, verify
        self.records: dict[tuple, Any] = {}  # key -> a _Tape (first call) or a _Program
        self.calls = 0
        self._lock = threading.Lock()  # one replay at a time: they share the contexts
        functools.update_wrapper(self, fn, updated=())

    def __repr__(self):
        name = getattr(self.fn, "__qualname__", self.fn)
        return f"<jit of {name!r}, {len(self.records)} records>"

    def __call__(self, *args, **kwargs):
        if mode.anomaly or mode.tape is not None:  # anomaly checks, or a jit inside a jit
            return self.fn(*args, **kwargs)
        key = (_generation[0], mode.grad_enabled, _key(args), _key(tuple(sorted(kwargs.items()))))
        with self._lock:
            record = self.records.get(key)
            if isinstance(record, _Program) and record.runnable(args, kwargs):
                self.calls += 1
                if self.verify and self.calls % self.verify == 0:
                    result, tape = _record(self.fn, args, kwargs)
                    record.compare(tape)
                    return result
                return record.run(args, kwargs)
            if isinstance(record, _Program):  # a parameter changed shape or has a hook
                return self.fn(*args, **kwargs)
            result, tape = _record(self.fn, args, kwargs)
            if isinstance(record, _Tape):  # the second call: build the program from both
                self.records[key] = _Program(record, tape, result)
            else:
                if len(self.records) >= MAX_RECORDS:
                    self.records.pop(next(iter(self.records)))
                self.records[key] = tape
            return result


def _key(items) -> tuple:
    """What a record depends on in the arguments: shapes, dtypes, storage; other values."""
    out = []
    for x in items:
        if isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str):  # (name, value)
            out.append((x[0],) + _key((x[1],)))
        elif isinstance(x, Value):
            out.append(("Value", x.shape, str(x.dtype), x.requires_grad, type(x._data) is float))
        elif isinstance(x, np.ndarray):
            out.append(("array", x.shape, str(x.dtype)))
        else:
            try:
                hash(x)
            except TypeError:
                raise TypeError(f"jit: argument of type {type(x).__name__} cannot be part of a "
                                f"record; pass Values, arrays, numbers or strings") from None
            out.append(("value", type(x).__name__, x))
    return tuple(out)


def _record(fn, args, kwargs):
    """Run ``fn`` eagerly, recording what it ran; raise for what a replay cannot honour."""
    tape = _Tape()
    clock = versions.clock
    mode.tape = tape
    try:
        result = fn(*args, **kwargs)
    finally:
        mode.tape = None
    if versions.clock != clock:
        tape.problems.append("fn changed a Value's data (an optimizer step, a data "
                             "assignment, a state-dict load): the replay runs only the ops; "
                             "call opt.step() outside the jitted function")
    if mode.anomaly:
        tape.problems.append("detect_anomaly() was entered inside fn")
    if hooks.registered and any(e[0] == "op" and hooks.has_hooks(e[2]) for e in tape.events):
        tape.problems.append("a hook was registered inside fn")
    if tape.problems:
        raise RuntimeError("jit: cannot replay this function: " + "; ".join(tape.problems))
    tape.signature = _signature(tape, args, kwargs)
    return result, tape


def _signature(tape, args, kwargs) -> list:
    """What two runs must share for one record to stand for both: per step, the op, where each
    input comes from (an earlier op's output, an argument, a Value from outside, a constant)
    and the keyword arguments."""
    index = _arg_index(args, kwargs)
    made: dict[int, int] = {}  # id(output Value) -> step number
    sig: list[tuple] = []
    for n, event in enumerate(tape.events):
        if event[0] == "backward":
            sig.append(("backward", made.get(id(event[1]))))
            continue
        _, ctx, out = event
        inputs: list[tuple] = []
        for p in ctx.parents:
            if id(p) in made:
                inputs.append(("out", made[id(p)]))
            elif id(p) in index:
                inputs.append(("arg", index[id(p)]))
            elif type(p._data) is np.ndarray and id(p._data) in index:
                inputs.append(("arg data", index[id(p._data)]))
            else:  # a leaf: from outside fn, a constant, or an argument converted
                converted = None if p.requires_grad else _converted_arg(p._data, args, kwargs)
                inputs.append(("leaf", p, converted))
        kw = {k: _kwarg_sig(v, index, args, kwargs) for k, v in ctx.kwargs.items()}
        sig.append(("op", type(ctx), tuple(inputs), kw))
        made[id(out)] = n
    return sig


def _converted_arg(data, args, kwargs):
    """The position of the array argument that ``data`` was converted from when it became a
    constant (an int or bool array becomes float64, a 0-d float64 array a Python float), or
    None. Judged by value: the two recorded calls must both agree."""
    for i, x in enumerate(_flat_args(args, kwargs)):
        if isinstance(x, np.ndarray) and (x.dtype.kind in "iub" or x.ndim == 0):
            converted = interop.storage(x, copy=False)
            if type(converted) is type(data) and _equal(converted, data):
                return i
    return None


def _kwarg_sig(v, index, args, kwargs):
    """How a keyword argument of an op stands in a signature: ("arg", i) for an argument of
    fn, ("arg as", i, dtype) for one converted to another dtype, else the value itself."""
    if not isinstance(v, np.ndarray):
        return v
    if id(v) in index:
        return ("arg", index[id(v)])
    for i, x in enumerate(_flat_args(args, kwargs)):
        if (isinstance(x, np.ndarray) and x.dtype != v.dtype and x.shape == v.shape
                and np.array_equal(x, v)):
            return ("arg as", i, v.dtype)
    return v


def _compare(first: list, second: list, what: str) -> tuple[set, dict]:
    """Raise unless two signatures stand for the same computation. Return the ids of the
    Values from outside fn (the same object in both runs), and {id: position} for the
    constants that both runs made from the same int, bool or 0-d argument."""
    outside: set[int] = set()
    converted: dict[int, int] = {}
    for n, (a, b) in enumerate(zip(first, second, strict=False)):
        if a[:2] != b[:2]:
            raise RuntimeError(
                f"jit: {what} ran {_step_name(b)} at step {n} where the record has "
                f"{_step_name(a)}; fn's control flow depends on values, so it cannot be "
                f"replayed (run it without jit)")
        if a[0] == "backward":
            continue
        name = _step_name(b)
        for i, (ia, ib) in enumerate(zip(a[2], b[2], strict=True)):
            if ia[0] == "leaf" and ib[0] == "leaf" and ia[1] is ib[1]:
                outside.add(id(ib[1]))
            elif ia[0] == "leaf" and ib[0] == "leaf" and ia[2] is not None and ia[2] == ib[2]:
                converted[id(ib[1])] = ib[2]
            elif ia[0] == "leaf" and ib[0] == "leaf" and ib[1].requires_grad:
                raise RuntimeError(
                    f"jit: input {i} of {name} (step {n}) is a Value that requires grad "
                    f"created inside fn; a replay would not create it anew. Create it outside "
                    f"fn (as a parameter), or with requires_grad=False")
            elif ia[0] == "leaf" and ib[0] == "leaf":
                if not _equal(ia[1]._data, ib[1]._data):
                    raise RuntimeError(
                        f"jit: input {i} of {name} (step {n}) is a constant that differs in "
                        f"{what}: it was computed inside fn from something a replay cannot "
                        f"see (numpy work on an input?). Do that outside fn and pass the "
                        f"result as an argument, or use Values")
            elif ia != ib:
                raise RuntimeError(
                    f"jit: input {i} of {name} (step {n}) comes from elsewhere in {what} "
                    f"({ib[0]} {ib[1]!r:.40} instead of {ia[0]} {ia[1]!r:.40}); fn's control "
                    f"flow depends on values, so it cannot be replayed")
        for key in a[3].keys() | b[3].keys():
            if not _equal(a[3].get(key), b[3].get(key)):
                raise RuntimeError(
                    f"jit: {name} (step {n}) ran with {key}={b[3].get(key)!r:.60} in {what} "
                    f"where the record has {a[3].get(key)!r:.60}; compute it outside fn and "
                    f"pass it as an argument")
    if len(first) != len(second):
        longer = first if len(first) > len(second) else second
        raise RuntimeError(
            f"jit: {what} ran {len(second)} steps where the record has {len(first)} (the first "
            f"extra one: {_step_name(longer[min(len(first), len(second))])}); fn's control "
            f"flow depends on values, so it cannot be replayed")
    return outside, converted


class _Program:
    """A recorded call, ready to replay: a slot for the data of every Value the call made or
    read, the ops in order, and for each backward() the nodes in the order the eager backward
    visits them."""

    def __init__(self, first: _Tape, second: _Tape, result):
        self.signature = second.signature
        outside, converted = _compare(first.signature, second.signature, "the second call")
        self.fill: list[tuple] = []  # (slot, how, what) for the slots read before the ops
        # in order: ("ops", [op, ...]) for a run of consecutive ops, ("backward", ...)
        self.segments: list[tuple] = []
        slot: dict[int, int] = {}  # id(Value of the second call) -> slot number
        made: dict[int, tuple] = {}  # slot -> (ctx copy, op) of the op that fills it
        n_slots = 0
        for event, sig in zip(second.events, second.signature, strict=True):
            if event[0] == "backward":
                self.segments.append(("backward",) + self._plan(event[1], slot, made))
                continue
            _, ctx, out = event
            ins = []
            for p, (how, what, *_) in zip(ctx.parents, sig[2], strict=True):
                if id(p) not in slot:
                    slot[id(p)] = n_slots
                    n_slots += 1
                    if how == "leaf" and id(p) in outside:
                        how, what = "value", p
                    elif how == "leaf" and id(p) in converted:
                        how, what = "arg converted", converted[id(p)]
                    elif how == "leaf":
                        how, what = "constant", p._data
                    self.fill.append((slot[id(p)], how, what))
                ins.append(slot[id(p)])
            slot[id(out)] = n_slots
            n_slots += 1
            record = copy.copy(ctx)  # the record's own: the user's graph keeps its contexts
            record.parents = tuple(_stand_in(p) for p in ctx.parents)
            kwargs_fill = {k: v[1:] for k, v in sig[3].items()
                           if isinstance(v, tuple) and v[:1] in (("arg",), ("arg as",))}
            made[slot[id(out)]] = (record, type(ctx))
            op = type(ctx)
            on_floats = op.elementwise and all(type(p._data) is float for p in ctx.parents)
            if not self.segments or self.segments[-1][0] != "ops":
                self.segments.append(("ops", []))
            self.segments[-1][1].append((record, op, tuple(ins), slot[id(out)], kwargs_fill,
                                         floatmath if on_floats else np, not op.elementwise))
        self.result = _template(result, slot)
        self.scalar = _scalar_plan(self.segments)
        self.constants: list[Any] = [None] * n_slots
        for k, how, what in self.fill:
            if how == "constant":
                self.constants[k] = what
        self.outside = [(k, what) for k, how, what in self.fill if how == "value"]
        self.from_args = [(k, how, what) for k, how, what in self.fill
                          if how not in ("value", "constant")]
        self.externals = [(v, type(v._data), np.shape(v._data), v.dtype)
                          for _, v in self.outside]

    def _plan(self, root, slot, made) -> tuple:
        """One backward() as slots: (root slot, root stand-in, [node, ...]) where a node is
        (slot, ctx, op, [(input i, its slot, its stand-in)], the Value whose .grad it adds to)."""
        targets = {k: (how, what) for k, how, what in self.fill if how in ("value", "arg")}
        nodes: list[tuple] = []
        for node in reversed(backward_order(root)):
            k = slot.get(id(node))
            target = targets.get(k) if k is not None else None
            if k is None or (target is not None and node.ctx is not None):
                raise RuntimeError(
                    "jit: backward() inside fn reaches ops that ran outside fn (an argument "
                    "or a Value computed by a graph before the call); a replay cannot "
                    "backpropagate into them. Pass a leaf (v.detach()), or do the whole "
                    "computation inside fn")
            if node.ctx is None:
                nodes.append((k, None, None, (), target))
                continue
            record, op = made[k]
            # for an interior input whose gradient already has its shape and dtype, _fit would
            # change nothing but make a copy that only a .grad a user can see needs
            inputs = tuple((i, slot[id(p)], record.parents[i], type(p._data) is float,
                            None if slot[id(p)] in targets else
                            (np.shape(p._data), np.result_type(p._data)))
                           for i, p in enumerate(node.ctx.parents) if p.requires_grad)
            nodes.append((k, record, op, inputs, target))
        return (slot[id(root)], _stand_in(root), nodes)

    def compare(self, tape: _Tape):
        """A verify call: raise unless ``tape`` ran what this record replays."""
        _compare(self.signature, tape.signature, "a verify call")

    def runnable(self, args, kwargs) -> bool:
        """False if a Value from outside changed storage, shape or dtype, or a Value from
        outside or an argument has a hook: such a call runs eagerly."""
        if hooks.registered and any(isinstance(x, Value) and hooks.has_hooks(x)
                                    for x in _flat_args(args, kwargs)):
            return False
        for v, kind, shape, dtype in self.externals:
            d = v._data
            if type(d) is not kind or (kind is not float and (d.shape != shape
                                                               or d.dtype != dtype)):
                return False
        if hooks.registered and any(hooks.has_hooks(e[0]) for e in self.externals):
            return False
        return True

    def run(self, args, kwargs):
        """Replay: the recorded ops' forward and backward on the current data."""
        flat = _flat_args(args, kwargs)
        data = list(self.constants)  # a slot for every Value; the record's constants filled in
        for k, v in self.outside:
            data[k] = v._data
        for k, how, what in self.from_args:
            if how == "arg":
                data[k] = flat[what]._data
            elif how == "arg data":
                data[k] = flat[what]
            else:  # "arg converted"
                data[k] = interop.storage(flat[what], copy=False)
        if self.scalar is not None:
            try:
                return _build(self.result, _run_scalar(self.scalar, data, flat))
            except _NotScalar:  # a pole, or a result that is not a Python float: nothing was
                pass  # written yet, so run the general path from the start
        for segment in self.segments:
            if segment[0] == "ops":
                _forward(segment[1], data, flat)
            else:
                _backward(segment, data, flat)
        return _build(self.result, data)


def _stand_in(v) -> Value:
    """A leaf with ``v``'s storage kind, shape, dtype, requires_grad and label, holding no
    data (a zero-strided array): what a recorded context keeps of its inputs."""
    s = Value(0.0, requires_grad=v.requires_grad, label=v.label)
    if type(v._data) is not float:
        s._data = np.broadcast_to(np.zeros((), v.dtype), np.shape(v._data))
    return s


def _forward(steps, data, flat):
    """Ops, each as ``apply`` runs it, writing each output's data into its slot."""
    for ctx, op, ins, out, kwargs_fill, xp, arrays in steps:
        ctx.xp = xp  # what apply chooses for these inputs' storage (the record's guards hold)
        kwargs = ctx.kwargs
        try:
            if not (kwargs or arrays) and len(ins) == 2:  # most ops: a + b, a * b
                result = op.forward(ctx, data[ins[0]], data[ins[1]])
            elif not (kwargs or arrays) and len(ins) == 1:
                result = op.forward(ctx, data[ins[0]])
            else:
                inputs = [data[i] for i in ins]
                if kwargs_fill:  # (position,) or (position, dtype to convert to)
                    kwargs = {**kwargs, **{k: flat[j[0]] if len(j) == 1 else np.asarray(
                        flat[j[0]], j[1]) for k, j in kwargs_fill.items()}}
                if arrays:
                    inputs = interop.as_arrays(inputs, ctx.parents)
                result = op.forward(ctx, *inputs, **kwargs)
        except (ArithmeticError, ValueError, TypeError, IndexError) as e:
            inputs = [data[i] for i in ins]
            if arrays:
                inputs = interop.as_arrays(inputs, ctx.parents)
            result = errors.forward_failed(op, ctx, inputs, kwargs, e)
        data[out] = interop.storage(result, copy=False)  # as the Value apply makes keeps it


def _backward(step, data, flat):
    """One backward() call, as the eager loop runs it, adding to the parameters' .grad."""
    _, root_slot, root, nodes = step
    pending: list[Any] = [None] * len(data)
    pending[root_slot] = _seed(root, None)
    for k, ctx, op, parents, target in nodes:
        g = pending[k]
        pending[k] = None
        if target is not None:  # a parameter or an argument: its .grad is the user's
            v = target[1] if target[0] == "value" else flat[target[1]]
            with _grad_lock:
                v._grad = g if v._grad is None else v._grad + g
        if ctx is None:
            continue
        try:
            grads = op.backward(ctx, g if ctx.xp is floatmath or type(g) is np.ndarray
                                else np.asarray(g))
        except (ArithmeticError, ValueError) as e:
            grads = errors.backward_failed(ctx, g, e)
        if type(grads) is not tuple:
            grads = (grads,)
        for i, pk, p, p_float, like in parents:
            pg = grads[i]
            if p_float and type(pg) is float:  # (_fit returns two floats as they are)
                pass
            elif not (like and type(pg) is np.ndarray and pg.shape == like[0]
                      and pg.dtype == like[1]):
                pg = _fit(pg, p, ctx, g)
            pending[pk] = pg if pending[pk] is None else pending[pk] + pg


# -- the scalar path: a record of ops on Python floats (a micrograd-style graph) ---------------
class _NotScalar(Exception):
    """The scalar path met something it does not handle; the general path takes over."""


def _scalar_plan(segments):
    """For a record that is ops on Python floats without keyword arguments, then at most one
    backward() reaching only Python floats: the same ops in lean tuples, and for each input
    of each node whether its gradient is the first to arrive (eager's pending dict stores the
    first as it is and adds the later ones, in this same order). None for any other record."""
    if not segments or segments[0][0] != "ops" or len(segments) > 2 or (
            len(segments) == 2 and segments[1][0] != "backward"):
        return None
    forward = []
    for ctx, op, ins, out, kwargs_fill, xp, arrays in segments[0][1]:
        if xp is not floatmath or arrays or kwargs_fill or ctx.kwargs or len(ins) > 2:
            return None
        forward.append((op.forward, ctx, ins[0], ins[1] if len(ins) == 2 else None, out))
    if len(segments) == 1:
        return forward, None
    _, root_slot, root, nodes = segments[1]
    if type(root._data) is not float:
        return None
    arrived: set[int] = set()
    backward, targets = [], []
    for k, ctx, op, parents, target in nodes:
        if target is not None:
            targets.append((k, target))
        if ctx is None:
            continue
        if not all(p_float for _, _, _, p_float, _ in parents):
            return None
        sends = []
        for i, pk, _, _, _ in parents:  # one at a time: x * x sends to the same slot twice
            sends.append((i, pk, pk not in arrived))
            arrived.add(pk)
        backward.append((op.backward, ctx, k, sends))
    return forward, (root_slot, backward, targets)


def _run_scalar(plan, data, flat):
    """The record on Python floats: each op's forward, then its backward, as eager runs them;
    the parameters' .grad are written only at the end, once every number is known."""
    forward, back = plan
    for fwd, ctx, i, j, out in forward:
        try:
            r = fwd(ctx, data[i]) if j is None else fwd(ctx, data[i], data[j])
        except (ArithmeticError, ValueError, TypeError, IndexError):
            raise _NotScalar from None
        if r.__class__ is not float:
            raise _NotScalar
        data[out] = r
    if back is None:
        return data
    root_slot, backward, targets = back
    pending: list[Any] = [None] * len(data)
    pending[root_slot] = 1.0
    for bwd, ctx, k, sends in backward:
        try:
            grads = bwd(ctx, pending[k])
        except (ArithmeticError, ValueError):
            raise _NotScalar from None
        if grads.__class__ is not tuple:
            grads = (grads,)
        for i, pk, first in sends:
            pg = grads[i]
            if pg.__class__ is not float:
                raise _NotScalar
            pending[pk] = pg if first else pending[pk] + pg
    with _grad_lock:
        for k, (how, what) in targets:
            v = what if how == "value" else flat[what]
            g = pending[k]
            v._grad = g if v._grad is None else v._grad + g
    return data


# -- arguments and results ---------------------------------------------------------------------
def _flat_args(args, kwargs) -> list:
    return list(args) + [kwargs[k] for k in sorted(kwargs)]


def _arg_index(args, kwargs) -> dict:
    """id(argument) -> its position in _flat_args (Values and arrays only)."""
    return {id(x): i for i, x in enumerate(_flat_args(args, kwargs))
            if isinstance(x, (Value, np.ndarray))}


def _template(result, slot):
    """fn's result with each Value replaced by where its data comes from in a replay."""
    if isinstance(result, Value):
        if id(result) in slot:
            return ("slot", slot[id(result)], result.label)
        return ("same", result)
    if isinstance(result, (tuple, list)):
        return (type(result), [_template(r, slot) for r in result])
    if isinstance(result, dict):
        return (dict, {k: _template(r, slot) for k, r in result.items()})
    if result is None or isinstance(result, (str, bool)):
        return ("same", result)
    raise RuntimeError(
        f"jit: fn returned a {type(result).__name__}; a replay could only return the number "
        f"of the record. Return Values (a loss.item() becomes loss after the call)")


def _build(template, data):
    kind = template[0]
    if kind == "slot":
        return Value(data[template[1]], requires_grad=False, label=template[2], copy=False)
    if kind == "same":
        return template[1]
    if kind is dict:
        return {k: _build(t, data) for k, t in template[1].items()}
    return kind(_build(t, data) for t in template[1])


def _equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True))
    try:
        return bool(a == b) or a is b
    except Exception:  # noqa: BLE001 - objects that cannot be compared are different
        return a is b


def _step_name(sig) -> str:
    return "backward()" if sig[0] == "backward" else f"{sig[1].__name__} ({sig[1].op})"
