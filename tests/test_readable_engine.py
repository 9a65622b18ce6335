"""Issue 18: an engine a learner can read and step through.

1. The reading budget, measured with sys.settrace line events inside the library, as
   ../shared/tools/step_count.py measures it (written out here, not imported): the lecture's
   neuron runs at most 80 distinct library lines; the library files it steps through (ops/
   aside) hold at most 500 lines; ``repr(ctx)`` works on entering every op's forward and
   backward, on Python floats and on arrays.
2. Nothing an op saves shows on a Value.
3. No import circle, each core module imports alone, no module over 700 lines.
4. ``backward(retain_graph=...)``: a second pass through a released graph raises and changes
   nothing; a retained one accumulates; interior nodes keep ``.grad`` and ``.ctx``.
5. A real debugger (bdb) stops in ``Mul.backward`` with ``ctx`` in reach, and stepping into
   ``w0 * x0`` reaches ``Mul.forward`` quickly.

Threads are in test_threads.py.
"""
import ast
import bdb
import dis
import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_lite
import tinygrad_lite.functional as F
from tinygrad_lite import Function, Value, backward_order, ops
from tinygrad_lite.floatmath import floatmath

LIB = os.path.dirname(os.path.abspath(tinygrad_lite.__file__))
OPS = os.path.join(LIB, "ops")
ROOT = os.path.dirname(LIB)

MAX_DISTINCT_LINES = 80
MAX_FILE_LINES = 500
MAX_MODULE_LINES = 700
MAX_LINES_TO_MUL_FORWARD = 25


def _inside(path, folder):
    return os.path.abspath(path).startswith(folder + os.sep)


def _qualname(code):
    return getattr(code, "co_qualname", code.co_name)


# -- the lecture's neuron ----------------------------------------------------------------------
def _neuron():
    """f = relu(w0*x0 + w1*x1 + w2), the lecture's numbers. Returns (leaves, f)."""
    w0, x0 = Value(2.0, label="w0"), Value(-1.0, label="x0")
    w1, x1 = Value(-3.0, label="w1"), Value(-2.0, label="x1")
    w2 = Value(-3.0, label="w2")
    return (w0, x0, w1, x1, w2), (w0 * x0 + w1 * x1 + w2).relu()


NEURON_GRADS = {"w0": -1.0, "x0": 2.0, "w1": -2.0, "x1": -3.0, "w2": 1.0}  # f = relu(1) = 1


def _line_events(fn, folder):
    """Run fn() under sys.settrace; return (its result, [(file, line, qualname)] of the line
    events in files under ``folder``)."""
    events = []

    def local(frame, event, arg):
        if event == "line":
            code = frame.f_code
            events.append((os.path.abspath(code.co_filename), frame.f_lineno, _qualname(code)))
        return local

    def tracer(frame, event, arg):
        return local if _inside(frame.f_code.co_filename, folder) else None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        result = fn()
    finally:
        sys.settrace(previous)
    return result, events


def _neuron_events():
    (leaves, f), forward = _line_events(_neuron, LIB)
    _, backward = _line_events(f.backward, LIB)
    assert f.item() == 1.0
    assert {v.label: v.grad.item() for v in leaves} == NEURON_GRADS
    return forward, backward


# -- 1. the reading budget ---------------------------------------------------------------------
def test_neuron_forward_and_backward_run_at_most_80_distinct_library_lines():
    forward, backward = _neuron_events()
    lines = {(path, n) for path, n, _ in forward + backward}
    functions = sorted({f"{os.path.relpath(p, ROOT)}:{q}" for p, _, q in forward + backward})
    assert forward and backward, "no line event inside the library: is the tracer working?"
    assert any(q == "Mul.forward" for _, _, q in forward), "the ops' lines must be counted too"
    assert any(q == "ReLU.backward" for _, _, q in backward)
    assert len(lines) <= MAX_DISTINCT_LINES, (
        f"the neuron's forward and backward run {len(lines)} distinct library lines (budget "
        f"{MAX_DISTINCT_LINES}), in {len(functions)} functions: {functions}")


def test_library_files_stepped_through_outside_ops_hold_at_most_500_lines():
    forward, backward = _neuron_events()
    files = sorted({p for p, _, _ in forward + backward if not _inside(p, OPS)})
    sizes = {}
    for path in files:
        with open(path, encoding="utf-8") as fh:
            sizes[os.path.relpath(path, ROOT)] = len(fh.read().splitlines())
    assert any(name.endswith("value.py") for name in sizes), sizes  # the tracer sees the core
    assert sum(sizes.values()) <= MAX_FILE_LINES, (
        f"the neuron steps through {sum(sizes.values())} lines of library files outside ops/ "
        f"(budget {MAX_FILE_LINES}): {sizes}")


def _op_classes():
    """Every op defined in tinygrad_lite/ops: {class name: class}."""
    found = {}
    for name in ops.__all__:
        cls = getattr(ops, name)
        if isinstance(cls, type) and issubclass(cls, Function) and _inside(
                inspect.getsourcefile(cls), OPS):
            found[cls.__name__] = cls
    assert len(found) >= 30, sorted(found)
    return found


def _every_elementwise_op(x):
    """+ - * / ** neg abs sqrt log exp sigmoid tanh relu leaky_relu elu clip, reflected forms
    included; a scalar for a scalar x."""
    y = ((x * 0.9 + 0.1) - 0.2) / 1.5
    y = 1.0 - y * 0.5 + 2.0 / (y * y + 1.0) + 0.5 * y
    y = y ** 2 + abs(y) + (y * y + 1.0).sqrt() + (y * y + 1.0).log() + (-y).exp()
    y = y.sigmoid() + y.tanh() + y.relu() + y.leaky_relu(0.1) + y.elu() + y.clip(-1.0, 1.0)
    return y.sum() if y.ndim else y


def _every_other_op():
    """matmul, sum, mean, max, reshape, transpose, getitem, softmax, log_softmax, the three
    losses, batch_norm, layer_norm, dropout, conv2d, max_pool2d, prelu, maxout: one loss."""
    rng = np.random.default_rng(18)
    x = Value(rng.standard_normal((4, 6)), label="x")
    w = Value(rng.standard_normal((6, 6)) * 0.5, label="W")
    h = x @ w  # (4, 6)
    y = np.array([0, 2, 1, 5])
    parts = [
        h.sum(axis=0).sum(), h.mean(axis=1).sum(), h.max(axis=1).sum(), h.max(),
        h.reshape(6, 4).transpose().sum(axis=(0, 1)), h.T.mean(), h[1:3].sum(), h[[0, 2], 1].sum(),
        F.softmax(h, axis=-1)[:, 0].sum(), F.log_softmax(h).mean(),
        F.softmax_cross_entropy(h, y), F.svm_loss(h, y), F.mse_loss(h, np.ones((4, 6))),
        F.batch_norm(h, Value(np.ones(6)), Value(np.zeros(6)), running_mean=np.zeros(6),
                     running_var=np.ones(6))[:, 1].sum(),
        (F.layer_norm(h, Value(np.ones(6)), Value(np.zeros(6))) * h).mean(),
        F.dropout(h, 0.3, rng=np.random.default_rng(0)).sum(),
        F.prelu(h, Value(0.25)).sum(), F.maxout(h, 2).sum(),
    ]
    img = Value(rng.standard_normal((2, 3, 5, 5)), label="img")
    k = Value(rng.standard_normal((4, 3, 3, 3)) * 0.3, label="k")
    conv = F.conv2d(img, k, Value(np.zeros(4)), stride=1, padding=1)  # (2, 4, 5, 5)
    parts.append(F.max_pool2d(conv, 2).sum())
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


def _trace_op_entries(fn):
    """Run fn() and call repr(ctx) on entering every op's forward and backward in ops/.
    Returns ([(class name, method, xp)], [failures])."""
    entries, failures = [], []

    def tracer(frame, event, arg):
        code = frame.f_code
        name = _qualname(code)
        if event == "call" and _inside(code.co_filename, OPS) and name.endswith(
                (".forward", ".backward")):
            cls_name, method = name.rsplit(".", 1)
            ctx = frame.f_locals.get("ctx")
            try:
                text = repr(ctx)
                assert ctx is not None and type(ctx).__name__ == cls_name, type(ctx)
                assert text.startswith(f"<{cls_name} op="), text
            except Exception as e:  # noqa: BLE001 - every failure is reported
                failures.append(f"{name}: {type(e).__name__}: {e}")
            entries.append((cls_name, method, getattr(ctx, "xp", None)))
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(previous)
    return entries, failures


def test_repr_ctx_works_on_entering_every_ops_forward_and_backward():
    def run():
        _every_elementwise_op(Value(0.3, label="s")).backward()
        _every_elementwise_op(Value(np.linspace(-1.0, 1.0, 6), label="v")).backward()
        _every_other_op().backward()

    entries, failures = _trace_op_entries(run)
    assert not failures, f"{len(failures)} of {len(entries)} repr(ctx) calls failed: {failures}"
    classes = _op_classes()
    seen = {(c, m) for c, m, _ in entries}
    missing = sorted((c, m) for c in classes for m in ("forward", "backward") if (c, m) not in seen)
    assert not missing, f"ops never entered by the test's graphs: {missing}"
    # the elementwise ops ran both on Python floats (floatmath) and on arrays (numpy)
    for name, cls in classes.items():
        if cls.elementwise:
            kinds = {xp for c, m, xp in entries if c == name and m == "backward"}
            assert kinds >= {floatmath, np}, (name, kinds)


# -- 2. nothing an op saves shows on a Value ---------------------------------------------------
VALUE_API = {  # Value's documented attributes (API.md): they are Value's own, not an op's
    "data", "grad", "requires_grad", "label", "ctx", "grad_fn", "shape", "ndim", "dtype", "size",
    "item", "numpy", "op", "parents", "is_leaf", "detach", "named", "backward", "zero_grad",
    "register_hook", "T", "exp", "log", "sqrt", "abs", "clip", "sigmoid", "tanh", "relu",
    "leaky_relu", "elu", "sum", "mean", "max", "reshape", "transpose", "flatten",
}


def _op_saved_names():
    """Every name an op declares in __slots__, and every name an op's forward saved on its
    context while the test graphs ran (ops without __slots__ save into a __dict__)."""
    names = set()
    for cls in _op_classes().values():
        for klass in cls.__mro__:
            if klass is not Function and klass is not object and issubclass(klass, Function):
                slots = klass.__dict__.get("__slots__", ())
                names.update((slots,) if isinstance(slots, str) else slots)
    roots = [_every_other_op(), _every_elementwise_op(Value(0.3)),
             _every_elementwise_op(Value(np.linspace(-1.0, 1.0, 6)))]
    for root in roots:
        for node in backward_order(root):
            if node.ctx is not None:
                names.update(vars(node.ctx) if hasattr(node.ctx, "__dict__") else ())
    names -= set(dir(Function))  # the engine's own context attributes (parents, kwargs, ...)
    names.discard("__weakref__")
    return names


def test_dir_of_a_value_shows_no_name_an_op_saves():
    saved = _op_saved_names()
    assert {"a", "b", "x", "out", "p", "slope", "lo", "hi", "alpha", "mask"} <= saved, saved
    for v in (Value(1.0), Value(1.0) * Value(2.0), Value([1.0, 2.0]).tanh()):
        shown = (set(dir(v)) & saved) - VALUE_API
        assert not shown, f"op-saved names show on a Value made by {v.op!r}: {sorted(shown)}"


def test_value_attributes_that_share_an_ops_saved_name_are_the_values_own():
    x = Value(np.arange(6.0).reshape(2, 3))
    s = x.sum()  # Sum saves the input's shape as ctx.shape
    assert s.ctx.shape == (2, 3) and s.shape == ()
    m = x.max(axis=1)
    assert callable(m.max) and m.shape == (2,)


def test_a_tanh_node_has_no_attribute_an_other_op_saves():
    t = Value(0.5).tanh()
    for name in ("slope", "lo", "hi", "p", "alpha", "a", "b", "x", "out"):
        assert not hasattr(t, name), f"a tanh node has .{name}"
    assert not hasattr(Value(1.0) * Value(2.0), "alpha")
    assert not hasattr(Value(1.0) * Value(2.0), "hi")
    with pytest.raises(AttributeError, match="out"):
        Value(1.0).out  # noqa: B018 - the attribute access is the test
    assert t.ctx.out == pytest.approx(np.tanh(0.5))  # what tanh saved lives on its ctx


# -- 3. no import circle; each core module imports alone; no module over 700 lines -------------
def _modules():
    """{dotted module name: path} for every module of tinygrad_lite."""
    found = {}
    for folder, _, files in os.walk(LIB):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(folder, f)
                parts = os.path.relpath(path, ROOT)[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                found[".".join(parts)] = path
    return found


def _module_level_imports(tree):
    """Import nodes that run when the module is imported: not those inside functions, nor
    under ``if TYPE_CHECKING:``."""
    found, stack = [], list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))
    return found


def _import_graph():
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
        package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
        targets = set()
        for node in _module_level_imports(tree):
            if isinstance(node, ast.Import):
                bases = [a.name for a in node.names]
                candidates = [b for b in bases]
            else:
                if node.level:
                    base = package
                    for _ in range(node.level - 1):
                        base = base.rpartition(".")[0]
                    base = f"{base}.{node.module}" if node.module else base
                else:
                    base = node.module or ""
                # ``from pkg import sub`` imports the module pkg.sub where there is one
                candidates = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                              for a in node.names]
            for target in candidates:
                while target and target not in modules:  # ``import a.b.c`` -> nearest module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def _find_cycle(graph):
    """A list of modules forming an import circle, or None. Iterative depth-first search."""
    state = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [], [(start, iter(sorted(graph[start])))]
        state[start] = 1
        path.append(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_find_cycle_finds_a_circle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_package_internal_module_level_imports_form_no_circle():
    graph = _import_graph()
    cycle = _find_cycle(graph)
    assert cycle is None, f"import circle: {' -> '.join(cycle)}"
    # the graph is read right: the ops import the Function base, the package its modules
    assert "tinygrad_lite.function" in graph["tinygrad_lite.ops.elementwise"]
    assert "tinygrad_lite.ops.elementwise" in graph["tinygrad_lite.ops"]
    assert "tinygrad_lite.nn.layers" in graph["tinygrad_lite.nn"]


@pytest.mark.parametrize("module, name", [
    ("tinygrad_lite.value", "Value"), ("tinygrad_lite.function", "Function"),
    ("tinygrad_lite.backward", "backward"),
])
def test_each_core_module_imports_alone_in_a_fresh_interpreter(module, name):
    code = f"import {module} as m; assert callable(m.{name}); print('ok')"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_no_module_of_the_library_is_over_700_lines():
    sizes = {}
    for name, path in _modules().items():
        with open(path, encoding="utf-8") as fh:
            sizes[name] = len(fh.read().splitlines())
    over = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not over, f"modules over {MAX_MODULE_LINES} lines: {over}"
    assert len(sizes) > 20 and "tinygrad_lite.ops.elementwise" in sizes, sorted(sizes)


# -- 4. retain_graph ---------------------------------------------------------------------------
def _leaves(kind):
    if kind == "scalar":
        return Value(0.7, label="x"), Value(-1.3, label="w")
    rng = np.random.default_rng(4)
    return Value(rng.standard_normal((3, 4)), label="x"), Value(rng.standard_normal(4), label="w")


def _graph(kind, leaves=None):
    """A small graph with a shared interior node (h feeds two consumers), on new leaves or on
    ``leaves``. Returns every Value that requires grad (leaves, interior nodes, the loss, in
    backward_order) and the loss."""
    x, w = leaves or _leaves(kind)
    h = (x * w).named("h")
    loss = (h.tanh() * h + h.sigmoid()).named("loss")
    if kind == "array":
        loss = loss.mean().named("loss")
    return backward_order(loss), loss


def _grads(nodes):
    return [None if v.grad is None else v.grad.copy() for v in nodes]


KINDS = pytest.mark.parametrize("kind", ["scalar", "array"])


@KINDS
def test_second_backward_through_a_released_graph_raises_and_changes_no_grad(kind):
    nodes, loss = _graph(kind)
    loss.backward()
    before = _grads(nodes)
    assert all(g is not None for g in before)
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        loss.backward()
    after = _grads(nodes)
    for v, b, a in zip(nodes, before, after, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=f"{v.label or v.op}'s grad changed")
    assert loss.grad is not None and loss.grad.item() == 1.0  # the root too


@KINDS
def test_retained_graph_accumulates_on_a_second_pass(kind):
    nodes, loss = _graph(kind)
    loss.backward(retain_graph=True)
    once = _grads(nodes)
    loss.backward()  # allowed: the first pass retained the graph
    for v, g1 in zip(nodes, _grads(nodes), strict=True):
        np.testing.assert_allclose(g1, 2.0 * once[nodes.index(v)], rtol=1e-15,
                                   err_msg=f"{v.label or v.op}")
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        loss.backward()  # the second pass did not retain it


@KINDS
def test_a_new_forward_pass_accumulates(kind):
    nodes, loss = _graph(kind)
    loss.backward()
    leaves = [v for v in nodes if v.ctx is None]
    once = _grads(leaves)
    x, w = (next(v for v in leaves if v.label == name) for name in ("x", "w"))
    _, loss2 = _graph(kind, (x, w))  # the same leaves, a new graph
    loss2.backward()
    for v, g1 in zip(leaves, once, strict=True):
        np.testing.assert_allclose(v.grad, 2.0 * g1, rtol=1e-15, err_msg=v.label)


@KINDS
def test_interior_nodes_keep_grad_and_ctx_after_backward(kind):
    nodes, loss = _graph(kind)
    loss.backward()
    interior = [v for v in nodes if v.ctx is not None]
    assert len(interior) >= 5
    for v in nodes:
        assert v.grad is not None and v.grad.shape == v.shape, v
    for v in interior:
        ctx = v.ctx
        assert isinstance(ctx, Function) and not isinstance(ctx, Value) and ctx.parents, v
        text = repr(ctx)  # `p ctx` after backward, as a drawing needs
        assert type(ctx).__name__ in text and "inputs=(" in text, text
    h = next(v for v in nodes if v.label == "h")
    assert "'x'" in repr(h.ctx) and "'w'" in repr(h.ctx), repr(h.ctx)


# -- 5. a real debugger ------------------------------------------------------------------------
def _first_body_line(fn):
    """The first line of ``fn``'s body that runs (where pdb's ``break Mul.backward`` stops)."""
    fn = inspect.unwrap(fn)
    code = fn.__code__
    lines, start = inspect.getsourcelines(fn)
    def_line = start + next(i for i, text in enumerate(lines) if text.lstrip().startswith("def "))
    return min(n for _, n in dis.findlinestarts(code) if n is not None and n > def_line)


class _Stops(bdb.Bdb):
    """A debugger that, at each breakpoint, records the frame's ``ctx`` and continues."""

    def __init__(self):
        super().__init__()
        self.stops = []

    def user_line(self, frame):
        if self.get_break(self.canonic(frame.f_code.co_filename), frame.f_lineno):
            ctx = frame.f_locals.get("ctx")
            self.stops.append((_qualname(frame.f_code), frame.f_lineno, ctx, repr(ctx)))
        self.set_continue()


def test_bdb_breakpoint_on_mul_backward_is_hit_with_ctx_in_reach():
    filename = inspect.getsourcefile(ops.Mul)
    assert filename.endswith(os.path.join("ops", "elementwise.py")), filename
    line = _first_body_line(ops.Mul.backward)
    leaves, f = _neuron()  # (f's contexts are left untouched until the debugger has run)
    dbg = _Stops()
    assert dbg.set_break(filename, line) is None, f"bdb refused a break at {filename}:{line}"
    previous = sys.gettrace()
    try:
        dbg.runcall(f.backward)
    finally:
        dbg.clear_all_breaks()
        sys.settrace(previous)
    assert [(q, n) for q, n, _, _ in dbg.stops] == [("Mul.backward", line)] * 2, dbg.stops
    for _, _, ctx, text in dbg.stops:
        assert type(ctx) is ops.Mul, f"ctx is a {type(ctx).__name__}: {text}"
        names = [p.label for p in ctx.parents]
        assert names in (["w0", "x0"], ["w1", "x1"]), names
        for p in ctx.parents:  # the inputs, by label and value
            assert f"'{p.label}' {p.item():.4g}" in text, text
    assert {v.label: v.grad.item() for v in leaves} == NEURON_GRADS
    muls = [v.ctx for v in backward_order(f) if v.op == "*"]  # the contexts the graph keeps
    assert {id(ctx) for _, _, ctx, _ in dbg.stops} == {id(c) for c in muls}


def test_stepping_into_w0_times_x0_reaches_mul_forward_within_25_lines():
    """Line events a debugger's `step` would stop at, in any file but this test's, from
    `w0 * x0` until Mul.forward is called."""
    w0, x0 = Value(2.0, label="w0"), Value(-1.0, label="x0")
    here = os.path.abspath(__file__)
    events, reached = [], []

    def local(frame, event, arg):
        if event == "line" and not reached:
            events.append(f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno} "
                          f"{_qualname(frame.f_code)}")
        return local

    def tracer(frame, event, arg):
        if reached or os.path.abspath(frame.f_code.co_filename) == here:
            return None
        if _qualname(frame.f_code) == "Mul.forward" and _inside(frame.f_code.co_filename, OPS):
            reached.append(frame.f_locals.get("ctx"))
            return None
        return local

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        y = w0 * x0
    finally:
        sys.settrace(previous)
    assert reached, f"Mul.forward was never called; line events: {events}"
    assert type(reached[0]) is ops.Mul and reached[0] is y.ctx
    assert 0 < len(events) <= MAX_LINES_TO_MUL_FORWARD, (
        f"{len(events)} line events before Mul.forward: {events}")
