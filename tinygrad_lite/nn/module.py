"""The Module machinery: parameters by attribute, state dicts, hooks, modes; Sequential.

A Module finds its parameters by looking at its attributes, in assignment order: every leaf
Value (a parameter), every Module (a child, whose parameters get dotted names such as
``layers.0.weight``), and Values and Modules inside lists, tuples and dicts assigned as
attributes. Buffers (such as batch norm's running statistics) are plain ndarrays registered
with ``register_buffer``: saved in ``state_dict`` but not parameters. The layers themselves are
in ``layers.py``.
"""
from __future__ import annotations

import os
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from .. import replay
from ..files import atomic_write
from ..value import Value

__all__ = ["Module", "Sequential", "StateDictError", "RemovableHandle"]


class StateDictError(KeyError, ValueError):
    """load_state_dict found missing, unexpected or wrongly shaped entries (nothing changed).

    Both a KeyError and a ValueError, so either ``except`` catches it."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class _IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list


class RemovableHandle:
    """Returned by register_forward_hook: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class Module:
    """Base class of every layer and model. Subclass it, assign parameters (Values) and
    sub-modules as attributes in ``__init__``, and write ``forward``.

    Calling the module runs forward-pre hooks, ``forward``, then forward hooks.
    ``training`` is True until ``eval()``; ``train()``/``eval()`` reach every child.
    """

    training = True  # class default, so a subclass that forgets super().__init__() still works

    def __init__(self):
        self.__dict__["training"] = True
        self.__dict__["_buffers"] = OrderedDict()
        self.__dict__["_forward_hooks"] = OrderedDict()
        self.__dict__["_forward_pre_hooks"] = OrderedDict()

    # -- attributes and buffers ----------------------------------------------------------
    def _own(self, name):
        d = self.__dict__
        if name not in d:
            d[name] = OrderedDict()
        return d[name]

    def __getattr__(self, name):  # only called when normal lookup fails: buffers live here
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            return buffers[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, np.ndarray):
                raise TypeError(f"{type(self).__name__}: buffer '{name}' must be an ndarray "
                                f"or None, got {type(value).__name__}")
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            del buffers[name]
        else:
            object.__delattr__(self, name)

    def register_buffer(self, name: str, array) -> None:
        """Keep an ndarray that is state but not a parameter (e.g. running statistics).

        It is saved in state_dict, reachable as ``self.name``, and never given to optimizers.
        """
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"register_buffer: name must be a non-empty string without dots, "
                             f"got {name!r}")
        if name in self.__dict__:
            raise KeyError(f"register_buffer: attribute '{name}' already exists")
        if array is not None and not isinstance(array, np.ndarray):
            raise TypeError(f"register_buffer: buffer '{name}' must be an ndarray or None, got "
                            f"{type(array).__name__}")
        self._own("_buffers")[name] = array

    # -- the tree ------------------------------------------------------------------------
    def _members(self) -> Iterator[tuple]:
        """(name, Value or Module) directly held by this module, in assignment order."""
        for name, val in self.__dict__.items():
            if isinstance(val, (Value, Module)):
                yield name, val
            elif isinstance(val, (list, tuple)):
                for i, item in enumerate(val):
                    if isinstance(item, (Value, Module)):
                        yield f"{name}.{i}", item
            elif isinstance(val, dict) and not name.startswith("_"):
                for k, item in val.items():
                    if isinstance(item, (Value, Module)):
                        yield f"{name}.{k}", item

    def named_children(self) -> Iterator[tuple]:
        """(name, module) for each direct sub-module."""
        seen = set()
        for name, m in self._members():
            if isinstance(m, Module) and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple]:
        """(dotted name, module) for this module ("") and every descendant, depth first.

        Each module appears once, under the first name that reaches it (as PyTorch)."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            kids = [(f"{name}.{n}" if name else n, c) for n, c in m.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "") -> Iterator[tuple]:
        """(dotted name, Value) for every parameter: the leaf Values held by this module and
        its descendants, in assignment order (``layers.0.weight``). A shared Value is listed
        once. Values made by ops (cached activations) are not parameters and are skipped."""
        seen = set()
        for mname, m in self.named_modules(prefix):
            for name, v in m._members():
                if isinstance(v, Value) and v.is_leaf and id(v) not in seen:
                    seen.add(id(v))
                    yield (f"{mname}.{name}" if mname else name), v

    def parameters(self) -> Iterator[Value]:
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple]:
        """(dotted name, ndarray) for every registered buffer that is not None."""
        for mname, m in self.named_modules(prefix):
            for name, b in m.__dict__.get("_buffers", {}).items():
                if b is not None:
                    yield (f"{mname}.{name}" if mname else name), b

    def buffers(self) -> Iterator[np.ndarray]:
        for _, b in self.named_buffers():
            yield b

    def num_parameters(self) -> int:
        """How many numbers the parameters hold in all."""
        return sum(p.size for p in self.parameters())

    # -- modes and gradients -------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics, dropout on) for this module and every child."""
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
        replay.invalidate()  # a jit record of this model's forward may no longer hold
        return self

    def eval(self) -> Module:
        """Evaluation mode (running statistics, dropout off): ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (None, or zeros with set_to_none=False)."""
        for p in self.parameters():
            p.zero_grad(set_to_none)

    def to(self, dtype) -> Module:
        """Cast every float parameter and buffer to ``dtype`` (e.g. np.float32), in place.

        Gradients are dropped (they would have the old dtype). Returns the module."""
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"to: dtype must be a float dtype, got {dt}")
        for p in self.parameters():
            if p.dtype != dt:
                p.data = p.data.astype(dt)
                p.zero_grad()
        for m in self.modules():
            bufs = m.__dict__.get("_buffers", {})
            for k, b in bufs.items():
                if b is not None and b.dtype.kind == "f" and b.dtype != dt:
                    bufs[k] = b.astype(dt)
        return self

    def float(self) -> Module:
        """Cast parameters and buffers to float32."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Cast parameters and buffers to float64."""
        return self.to(np.float64)

    # -- calling ----------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(...)")

    def __call__(self, *args, **kwargs):
        pre = self.__dict__.get("_forward_pre_hooks")
        if pre:
            for hook in list(pre.values()):
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        out = self.forward(*args, **kwargs)
        hooks = self.__dict__.get("_forward_hooks")
        if hooks:
            for hook in list(hooks.values()):
                res = hook(self, args, out)
                if res is not None:
                    out = res
        return out

    def register_forward_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward (PyTorch's signature).

        ``inputs`` is the tuple of positional arguments; a hook that returns something other
        than None replaces the output. Returns a handle whose ``remove()`` unregisters it."""
        hooks = self._own("_forward_hooks")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, inputs)`` before every forward; a non-None result replaces the
        inputs (a tuple, or a single input). Returns a handle with ``remove()``."""
        hooks = self._own("_forward_pre_hooks")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    # -- saving and loading -------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Dotted name -> a copy of the array, for every parameter and buffer."""
        state = OrderedDict()
        for name, kind, target in self._state_entries():
            if kind == "buffer":
                arr = target[0]._buffers[target[1]]
            elif target.ndim == 0:  # item() keeps a scalar's fast float storage
                arr = np.array(target.item(), dtype=target.dtype)
            else:
                arr = target.data
            state[name] = np.array(arr, copy=True)
        return state

    def _state_entries(self):
        """(dotted name, "param", Value) or (dotted name, "buffer", (module, key)), module by
        module: each module's parameters, then its buffers (PyTorch's order)."""
        seen = set()
        for mname, m in self.named_modules():
            for name, v in m._members():
                if isinstance(v, Value) and v.is_leaf and id(v) not in seen:
                    seen.add(id(v))
                    yield (f"{mname}.{name}" if mname else name), "param", v
            for key, b in m.__dict__.get("_buffers", {}).items():
                if b is not None:
                    yield (f"{mname}.{key}" if mname else key), "buffer", (m, key)

    def load_state_dict(self, state, strict: bool = True) -> _IncompatibleKeys:
        """Copy arrays from ``state`` into the parameters and buffers of the same names.

        Everything is checked before anything changes: missing and unexpected names (with
        strict=True) and wrongly shaped arrays raise StateDictError (a KeyError and a
        ValueError) that lists every problem, and the module is left untouched. Values are
        cast to each parameter's dtype. Returns (missing_keys, unexpected_keys).
        """
        targets = OrderedDict((name, (kind, target))
                              for name, kind, target in self._state_entries())
        try:
            keys = list(state.keys())
        except AttributeError:
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got "
                            f"{type(state).__name__}") from None
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in keys if k not in targets]
        problems = []
        if strict and missing:
            problems.append("missing: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected: " + ", ".join(map(str, unexpected)))
        arrays = {}
        wrong = []
        for name, (kind, target) in targets.items():
            if name not in state:
                continue
            try:
                arr = np.asarray(getattr(state[name], "data", state[name]))
            except Exception as err:  # noqa: BLE001 - reported with the name below
                wrong.append(f"{name} (unreadable: {err})")
                continue
            shape = target.shape if kind == "param" else target[0]._buffers[target[1]].shape
            if arr.shape != shape:
                wrong.append(f"{name} (expected shape {tuple(shape)}, got {arr.shape})")
            elif arr.dtype.kind not in "fiub":
                wrong.append(f"{name} (expected numbers, got dtype {arr.dtype})")
            else:
                arrays[name] = arr
        if wrong:
            problems.append("wrong shape: " + "; ".join(wrong))
        if problems:
            raise StateDictError(f"load_state_dict into {type(self).__name__}: "
                                 + " | ".join(problems) + "; nothing was loaded")
        for name, arr in arrays.items():
            kind, target = targets[name]
            if kind == "param":
                # through the setter, never into the old array: the setter marks the change,
                # so a backward through an op that saved the old data raises, and the array
                # that op saved is left as it was
                target.data = np.array(arr, dtype=target.dtype, copy=True)
            else:
                m, key = target
                m._buffers[key][...] = arr  # in place: layers hand this array to their op
        return _IncompatibleKeys(missing, unexpected)

    def save(self, path) -> str:
        """Write ``state_dict()`` to an .npz file; returns the path written.

        ".npz" is appended when the name lacks it (as numpy does), and ``load`` looks for the
        same name. The file is written to a temporary file beside it and moved into place, so
        a failure or a kill part-way leaves the previous file intact.
        """
        target = npz_path(path)
        arrays: dict[str, Any] = dict(self.state_dict())  # numpy's stub types **kwds as bool
        with atomic_write(target, "wb") as f:
            np.savez(f, **arrays)
        return target

    def load(self, path, strict: bool = True) -> _IncompatibleKeys:
        """Read an .npz file written by ``save`` and ``load_state_dict`` it; never unpickles.

        ``path`` as given to ``save`` (".npz" is appended when the name lacks it and no file
        has the bare name). Before anything is inflated, each member's size in the zip
        directory and its .npy header (shape, dtype) are checked against this module's
        parameters and buffers. Anything else (a missing, empty, truncated or corrupted file,
        pickled data, a single .npy, a member that is not a numeric .npy, a shape or size that
        does not match) raises ValueError (FileNotFoundError for a missing file) naming the
        file and what was wrong; nothing is loaded then.
        """
        source = _existing_npz(path)
        expected = {name: (tuple(target.shape) if kind == "param"
                           else target[0]._buffers[target[1]].shape)
                    for name, kind, target in self._state_entries()}
        state = _read_npz(source, expected, strict)
        return self.load_state_dict(state, strict=strict)

    # -- repr ---------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr; override in layers."""
        return ""

    def __repr__(self):
        lines = []
        for name, child in self.named_children():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}({extra}" if extra else f"{type(self).__name__}("
        return head + "\n" + "\n".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied in order: ``Sequential(m0, m1, ...)(x) = ...m1(m0(x))``.

    Children are named "0", "1", ... so parameters are named "0.weight" and so on."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: item {i} is a {type(m).__name__}, not a Module")
            self.__dict__[str(i)] = m

    def _layers(self):
        return [m for _, m in self._members() if isinstance(m, Module)]

    def forward(self, x):
        for m in self._layers():
            x = m(x)
        return x

    def __getitem__(self, i):
        layers = self._layers()
        if isinstance(i, slice):
            return Sequential(*layers[i])
        return layers[i]

    def __len__(self):
        return len(self._layers())

    def __iter__(self):
        return iter(self._layers())

    def append(self, module: Module) -> Sequential:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: expected a Module, got {type(module).__name__}")
        self.__dict__[str(len(self._layers()))] = module
        return self


# -- reading and writing checkpoints ----------------------------------------------------------

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a member first; an empty archive
_PICKLE_PROTOCOLS = tuple(bytes([0x80, p]) for p in range(2, 6))


def npz_path(path) -> str:
    """The name ``save`` writes: ``path`` with ".npz" appended when it lacks that suffix."""
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


def _existing_npz(path) -> str:
    """The file ``load`` reads: ``path`` itself if it exists, else what ``save(path)`` wrote."""
    path = os.fspath(path)
    if os.path.exists(path):
        return path
    saved = npz_path(path)
    if saved != path and os.path.exists(saved):
        return saved
    also = f" (nor {saved!r}, the name save() gives it)" if saved != path else ""
    raise FileNotFoundError(f"load: no file {path!r}{also}")


def _refuse(path, what) -> ValueError:
    return ValueError(f"load: {path} {what}; nothing was loaded")


def _sniff(path):
    """Refuse what is not a zip archive, saying what it is instead."""
    if os.path.isdir(path):
        return _refuse(path, "is a folder, not an .npz file written by save()")
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        return _refuse(path, "is empty (0 bytes), not an .npz file written by save()")
    if head.startswith(_NPY_MAGIC):
        return _refuse(path, "holds a single .npy array, not the .npz of named arrays that "
                             "save() writes")
    if head[:2] in _PICKLE_PROTOCOLS or head[:1] in (b"(", b"]", b"}"):
        return _refuse(path, "holds pickled data, which load never unpickles "
                             "(only .npz files written by save() are read)")
    if not head.startswith(_ZIP_MAGICS):
        return _refuse(path, f"is not an .npz file (it starts with {head[:8]!r}, not a zip "
                             f"header)")
    return None


def _read_header(path, zf, info, key):
    """(shape, dtype, header length) of a .npy member, reading only its first bytes."""
    try:
        with zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy version {version}")
            header_len = f.tell()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise _refuse(path, f"member {key!r} is truncated or corrupted "
                            f"({type(e).__name__}: {e})") from None
    except ValueError as e:
        raise _refuse(path, f"member {key!r} is not a .npy array: no readable .npy header "
                            f"({e})") from None
    return shape, dtype, header_len


def _check_member(path, zf, info, key, shape_want):
    """Refuse a member whose header or declared size disagrees with the expected shape."""
    shape, dtype, header_len = _read_header(path, zf, info, key)
    if dtype.hasobject or dtype.kind not in "fiub":
        what = "pickled objects" if dtype.hasobject else "no numbers"
        return (f"{key} (dtype {dtype}: {what}; only numeric arrays are loaded, and nothing is "
                f"ever unpickled)")
    if any(not isinstance(n, int) or n < 0 for n in shape):
        return f"{key} (declared shape {shape} is not a shape)"
    if tuple(shape) != tuple(shape_want):
        return f"{key} (expected shape {tuple(shape_want)}, the file declares {tuple(shape)})"
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if info.file_size != header_len + nbytes:
        return (f"{key} (its zip entry declares {info.file_size} bytes, but shape "
                f"{tuple(shape)} of {dtype} takes {header_len + nbytes})")
    return None


def _read_npz(path, expected: dict, strict: bool) -> dict:
    """The arrays of an .npz whose members all match ``expected`` (name -> shape).

    Sizes are checked from the zip directory and the .npy headers before any array is
    inflated; unexpected members are never inflated (strict=False skips them)."""
    bad = _sniff(path)
    if bad is not None:
        raise bad
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as e:
        raise _refuse(path, f"is a truncated or corrupted zip archive "
                            f"({type(e).__name__}: {e})") from None
    with zf:
        members: dict[str, zipfile.ZipInfo] = {}
        problems, unexpected = [], []
        for info in zf.infolist():
            key = info.filename[:-4] if info.filename.endswith(".npy") else None
            if key is None or info.is_dir():
                problems.append(f"{info.filename} (not a .npy array; not written by save())")
            elif key in members:
                problems.append(f"{key} (appears twice in the archive)")
            elif key not in expected:
                unexpected.append(key)
            else:
                members[key] = info
        missing = [k for k in expected if k not in members]
        if strict and missing:
            problems.append("missing: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected: " + ", ".join(unexpected))
        for key, info in members.items():
            why = _check_member(path, zf, info, key, expected[key])
            if why:
                problems.append(why)
        if problems:
            raise _refuse(path, "does not match this module: " + "; ".join(problems))
        state = {}
        for key, info in members.items():
            try:
                with zf.open(info) as f:
                    state[key] = np.lib.format.read_array(f, allow_pickle=False)
                    f.read(1)  # reach the end, where zipfile checks the CRC
            except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as e:
                raise _refuse(path, f"member {key!r} is truncated or corrupted "
                                    f"({type(e).__name__}: {e})") from None
    return state
