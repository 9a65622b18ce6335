"""Small datasets and their iteration: spiral, load_digits, load_cifar10; minibatches, splits.

Labels are int64. load_digits needs scikit-learn (imported inside it); load_cifar10 reads
the CIFAR-10 python pickles with a restricted unpickler that runs nothing.
"""
from __future__ import annotations

import io
import math
import os
import pickle
import warnings
from pathlib import Path

import numpy as np

from ._checks import _make_rng, _positive_int, _to_array

__all__ = ["UnsafePickleError", "spiral", "load_digits", "load_cifar10", "minibatches",
           "train_val_split"]


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A pickle asked load_cifar10's restricted unpickler for something it does not allow (a
    global, a call, an array whose bytes do not match its shape). Also a ValueError, like
    every other load error."""


def spiral(n_per_class=100, n_classes=3, rng=None):
    """CS231n's toy spiral: n_classes interleaved arms, not linearly separable.

    class j: r = linspace(0, 1, n), t = linspace(4j, 4(j+1), n) + 0.2 * randn,
             x = r * [sin t, cos t]
    Shapes: -> X (n_per_class * n_classes, 2) float64, y (n_per_class * n_classes,) int64,
            rows grouped by class. rng: a Generator, an int seed, or None (seed 0).
    """
    n = _positive_int(n_per_class, "n_per_class", "spiral")
    k = _positive_int(n_classes, "n_classes", "spiral")
    gen = _make_rng(rng, "spiral", default_seed=0)
    X = np.zeros((n * k, 2), dtype=np.float64)
    y = np.zeros(n * k, dtype=np.int64)
    r = np.linspace(0.0, 1.0, n)  # radius
    for j in range(k):
        rows = slice(n * j, n * (j + 1))
        t = np.linspace(j * 4.0, (j + 1) * 4.0, n) + gen.standard_normal(n) * 0.2  # angle
        X[rows, 0] = r * np.sin(t)
        X[rows, 1] = r * np.cos(t)
        y[rows] = j
    return X, y


def load_digits():
    """scikit-learn's 8x8 handwritten digits (bundled with scikit-learn: no download).

    pixel values are integers 0..16
    Shapes: -> X (1797, 64) float64, y (1797,) int64 in 0..9.
    """
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as err:
        raise ImportError(
            "load_digits needs scikit-learn, which is not installed; "
            "install it from a clone with pip install -e \".[data]\", or, where tinygrad_lite is "
            "installed from a wheel, with pip install \"tinygrad_lite[data]\""
        ) from err
    bunch = _sk_load_digits()
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)


_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_TEST = "test_batch"
_CIFAR_FILES = _CIFAR_TRAIN + (_CIFAR_TEST,)
_CIFAR_WANTED = (
    "the CIFAR-10 python version: data_batch_1, data_batch_2, data_batch_3, data_batch_4, "
    "data_batch_5 and test_batch (unpack cifar-10-python.tar.gz from "
    "https://www.cs.toronto.edu/~kriz/cifar.html)"
)
_CIFAR_ROW = 3 * 32 * 32


_CIFAR_KEYS = (b"data", b"labels", b"batch_label", b"filenames")
# the dtypes an array or a scalar in a CIFAR batch may have: numbers, never objects
_PLAIN_DTYPES = frozenset(f"{k}{n}" for k in "iu" for n in (1, 2, 4, 8)) | {"f4", "f8", "b1"}


class _DtypeBuilder:
    """What the unpickler gets for ``numpy.dtype(spec, ...)``: a plain numeric dtype, or an
    error. Its ``__setstate__`` (pickle's BUILD) accepts only a byte order."""

    def __init__(self, path, spec, align=False, copy=True):
        if isinstance(spec, bytes):  # Python 2 pickles, read with encoding="bytes"
            spec = spec.decode("latin-1")
        if not isinstance(spec, str) or spec not in _PLAIN_DTYPES:
            raise UnsafePickleError(f"load_cifar10: {path} asks for dtype {spec!r}; only plain "
                                    f"numeric dtypes are allowed")
        self.path, self.dtype = path, np.dtype(spec)

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) > 1 and isinstance(state[1], bytes):
            state = (state[0], state[1].decode("latin-1"), *state[2:])  # Python 2
        if (not isinstance(state, tuple) or len(state) < 5 or state[1] not in ("<", ">", "|", "=")
                or any(x is not None for x in state[2:5])):
            raise UnsafePickleError(f"load_cifar10: {self.path} sets up dtype {self.dtype} "
                                    f"with the state {state!r}; only a byte order is allowed")
        if state[1] in "<>" and self.dtype.itemsize > 1:
            self.dtype = self.dtype.newbyteorder(state[1])


class _ArrayBuilder:
    """What the unpickler gets for ``numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')``:
    an empty placeholder whose ``__setstate__`` (pickle's BUILD) makes the array, after
    checking that the bytes given are exactly what the declared shape and dtype need."""

    def __init__(self, path):
        self.path, self.array = path, None

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) != 5:
            raise UnsafePickleError(f"load_cifar10: {self.path} sets up an array with a state "
                                    f"that is not numpy's (version, shape, dtype, order, data)")
        _, shape, dtype, fortran, raw = state
        self.array = _checked_array(self.path, raw, dtype, shape, "F" if fortran else "C")


def _checked_array(path, raw, dtype, shape, order):
    """An array from ``raw`` bytes, once shape, dtype and byte count agree (else ValueError)."""
    if isinstance(dtype, _DtypeBuilder):
        dtype = dtype.dtype
    if not isinstance(dtype, np.dtype) or dtype.str[1:] not in _PLAIN_DTYPES:
        raise UnsafePickleError(f"load_cifar10: {path} declares an array of dtype {dtype!r}; "
                                f"only plain numeric dtypes are allowed")
    if (not isinstance(shape, tuple) or len(shape) > 8
            or any(type(n) is not int or n < 0 for n in shape)):
        raise ValueError(f"load_cifar10: {path} declares an array of shape {shape!r}, which is "
                         f"not a shape (a tuple of at most 8 non-negative ints)")
    if isinstance(raw, str):  # protocol 0-2 write the bytes as a latin-1 str
        raw = raw.encode("latin-1")
    if not isinstance(raw, (bytes, bytearray, pickle.PickleBuffer)):
        raise UnsafePickleError(f"load_cifar10: {path} gives an array's data as a "
                                f"{type(raw).__name__}, not bytes")
    raw = memoryview(raw).cast("B")
    want = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if raw.nbytes != want:
        raise ValueError(f"load_cifar10: {path} declares an array of shape {shape} and dtype "
                         f"{dtype} ({want} bytes) but holds {raw.nbytes} bytes of data")
    return np.frombuffer(raw, dtype=dtype).reshape(shape, order=order).copy()


class _CifarUnpickler(pickle.Unpickler):
    """An unpickler that builds checked numpy arrays and plain containers, and nothing else.

    The globals a CIFAR-10 batch names are replaced by checking stand-ins: numpy's array
    reconstruction (``_reconstruct`` with ``ndarray`` as its argument, never called itself,
    so no array of uninitialised memory can be asked for), ``dtype`` for plain numeric types,
    ``scalar`` and ``_frombuffer`` (protocol 5), each checking that the bytes given match the
    declared shape before anything is allocated, and ``_codecs.encode`` with latin-1 only,
    which Python 3 uses for bytes in protocol 2. Any other global raises UnsafePickleError
    before it is looked up.
    """

    def __init__(self, file, path):
        super().__init__(file, encoding="bytes")  # the batches were written by Python 2
        self._path = path

    def find_class(self, module, name):
        if (module, name) == ("_codecs", "encode"):
            return self._latin1_encode
        if module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            if name == "_reconstruct":
                return self._reconstruct
            if name == "scalar":
                return self._scalar
        if module in ("numpy.core.numeric", "numpy._core.numeric") and name == "_frombuffer":
            return self._frombuffer
        if (module, name) == ("numpy", "dtype"):
            return self._dtype
        if (module, name) == ("numpy", "ndarray"):
            return self._ndarray
        raise UnsafePickleError(
            f"load_cifar10: {self._path} refers to the global {module}.{name}, which is "
            "not allowed (only numpy array reconstruction is); refusing to load it: the "
            "file is not a CIFAR-10 batch, or it has been tampered with"
        )

    def _ndarray(self, *args, **kwargs):
        """numpy.ndarray may be named (as _reconstruct's argument), never called: calling it
        makes an array of uninitialised memory of any declared size."""
        raise UnsafePickleError(
            f"load_cifar10: {self._path} calls numpy.ndarray directly, which would make an "
            f"array of uninitialised memory; a CIFAR-10 batch never does")

    def _reconstruct(self, subtype, shape, typecode):
        if subtype != self._ndarray or shape != (0,) or typecode not in (b"b", "b"):
            raise UnsafePickleError(f"load_cifar10: {self._path} calls numpy's _reconstruct "
                                    f"with ({subtype!r}, {shape!r}, {typecode!r}); only a "
                                    f"plain ndarray is allowed")
        return _ArrayBuilder(self._path)

    def _dtype(self, *args, **kwargs):
        return _DtypeBuilder(self._path, *args, **kwargs)

    def _scalar(self, dtype, raw=None):
        return _checked_array(self._path, raw, dtype, (), "C")[()]

    def _frombuffer(self, buf, dtype, shape, order):
        return _checked_array(self._path, buf, dtype, shape, order)

    def _latin1_encode(self, obj, encoding="utf-8", errors="strict"):
        codec = str(encoding).lower().replace("-", "").replace("_", "")
        if codec not in ("latin1", "iso88591") or errors != "strict" or not isinstance(obj, str):
            raise UnsafePickleError(
                f"load_cifar10: {self._path} calls _codecs.encode with encoding {encoding!r}; "
                "only latin-1 encoding of str is allowed"
            )
        return obj.encode("latin-1")


def _read_cifar_batch(path):
    """One CIFAR-10 batch file as (uint8 rows, int64 labels), validated.

    The documented structure only: a dict with b'data' (a uint8 array (N, 3072)), b'labels'
    (a list of N ints in 0..9) and optionally b'batch_label' (bytes) and b'filenames' (a list
    of N bytes). Shapes: -> data (N, 3072) uint8, labels (N,) int64 in 0..9.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except IsADirectoryError:
        raise ValueError(f"load_cifar10: {path} is a folder, not a CIFAR-10 batch file") from None
    if not raw:
        raise ValueError(f"load_cifar10: {path} is empty (0 bytes); expected a CIFAR-10 batch")
    try:
        batch = _CifarUnpickler(io.BytesIO(raw), path).load()
    except (UnsafePickleError, ValueError) as err:
        if str(path) in str(err):
            raise
        raise ValueError(f"load_cifar10: {path} is corrupt or truncated; it could not be "
                         f"unpickled ({type(err).__name__}: {err})") from err
    except Exception as err:  # truncated or garbage files fail in many ways
        raise ValueError(
            f"load_cifar10: {path} is corrupt or truncated; it could not be unpickled "
            f"({type(err).__name__}: {err})"
        ) from err
    return _checked_batch(path, batch)


def _checked_batch(path, batch):
    if not isinstance(batch, dict):
        raise ValueError(
            f"load_cifar10: {path} holds a {type(batch).__name__}, expected a dict with keys "
            "b'data' and b'labels'"
        )
    batch = {k.encode("latin-1") if isinstance(k, str) else k: v for k, v in batch.items()}
    missing = [k for k in (b"data", b"labels") if k not in batch]
    if missing:
        raise ValueError(
            f"load_cifar10: {path} lacks the key(s) {', '.join(map(repr, missing))}; "
            f"found keys {sorted(map(repr, batch))}"
        )
    extra = [k for k in batch if k not in _CIFAR_KEYS]
    if extra:
        raise ValueError(f"load_cifar10: {path} has the unexpected key(s) "
                         f"{', '.join(map(repr, extra))}; a batch holds only "
                         f"{', '.join(map(repr, _CIFAR_KEYS))}")
    data = batch[b"data"]
    if isinstance(data, _ArrayBuilder):
        data = data.array
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != _CIFAR_ROW:
        shape = data.shape if isinstance(data, np.ndarray) else type(data).__name__
        raise ValueError(
            f"load_cifar10: {path} has b'data' of shape {shape}; expected a uint8 array of "
            f"shape (n, {_CIFAR_ROW}) (3 x 32 x 32 values per image)"
        )
    if data.dtype != np.uint8:
        raise ValueError(
            f"load_cifar10: {path} has b'data' of dtype {data.dtype}; expected uint8 "
            "values 0..255"
        )
    n = data.shape[0]
    labels = batch[b"labels"]
    if not isinstance(labels, list) or len(labels) != n:
        what = f"a list of {len(labels)}" if isinstance(labels, list) else type(labels).__name__
        raise ValueError(
            f"load_cifar10: {path} has {n} images but b'labels' of shape "
            f"({len(labels) if isinstance(labels, list) else '?'},) ({what}); expected a list "
            f"of {n} integer labels"
        )
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
               and 0 <= v <= 9 for v in labels):
        bad = next(v for v in labels if not (isinstance(v, (int, np.integer))
                                             and not isinstance(v, (bool, np.bool_))
                                             and 0 <= v <= 9))
        raise ValueError(f"load_cifar10: {path} has a label {bad!r} that is not an int in 0..9")
    names = batch.get(b"filenames")
    if names is not None and (not isinstance(names, list) or len(names) != n
                              or not all(isinstance(x, (bytes, str)) for x in names)):
        raise ValueError(f"load_cifar10: {path} has b'filenames' that is not a list of {n} "
                         f"names")
    label = batch.get(b"batch_label")
    if label is not None and not isinstance(label, (bytes, str)):
        raise ValueError(f"load_cifar10: {path} has b'batch_label' of type "
                         f"{type(label).__name__}; expected bytes")
    return data, np.array(labels, dtype=np.int64).reshape(n)


def _cifar_folder(folder):
    """The folder holding the six batch files, or FileNotFoundError naming what is missing."""
    folder = Path(os.fspath(folder))
    if not folder.exists():
        raise FileNotFoundError(
            f"load_cifar10: folder '{folder}' does not exist; it should hold {_CIFAR_WANTED}"
        )
    if not folder.is_dir():
        raise NotADirectoryError(
            f"load_cifar10: '{folder}' is not a folder; pass the folder that holds {_CIFAR_WANTED}"
        )
    missing = [name for name in _CIFAR_FILES if not (folder / name).is_file()]
    if missing:
        nested = folder / "cifar-10-batches-py"  # the name the archive unpacks to
        if nested.is_dir() and all((nested / name).is_file() for name in _CIFAR_FILES):
            return nested
        raise FileNotFoundError(
            f"load_cifar10: missing {', '.join(missing)} in folder '{folder}'; "
            f"it should hold {_CIFAR_WANTED}"
        )
    return folder


def load_cifar10(folder):
    """CIFAR-10 from the python-version batch files, as NCHW float32 with raw 0..255 values.

    each 3072-value row = 1024 red, 1024 green, 1024 blue values, each 32x32 row-major
    Shapes: -> X_train (50000, 3, 32, 32) float32, y_train (50000,) int64,
               X_test (10000, 3, 32, 32) float32, y_test (10000,) int64
               (fewer rows if the batch files hold fewer).

    folder holds data_batch_1..5 and test_batch (or is the parent of the unpacked
    cifar-10-batches-py folder). The pickles are read with a restricted unpickler that
    builds checked numpy arrays only: any other global or call raises UnsafePickleError (a
    pickle.UnpicklingError and a ValueError). Missing files raise FileNotFoundError; empty,
    corrupt, truncated or misshapen files ValueError naming the file and what is wrong.
    """
    root = _cifar_folder(folder)
    train = [_read_cifar_batch(root / name) for name in _CIFAR_TRAIN]
    data_test, y_test = _read_cifar_batch(root / _CIFAR_TEST)
    data_train = np.concatenate([d for d, _ in train])  # (N, 3072)
    y_train = np.concatenate([lab for _, lab in train])
    X_train = data_train.reshape(-1, 3, 32, 32).astype(np.float32)  # (N, C, H, W)
    X_test = data_test.reshape(-1, 3, 32, 32).astype(np.float32)
    return X_train, y_train, X_test, y_test


# ============================================================ iteration


def _paired(X, y, where):
    X = _to_array(X)
    y = _to_array(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{where}: X and y need a leading sample axis, got shapes {X.shape} "
                         f"and {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{where}: X and y have different numbers of samples: shapes {X.shape} and {y.shape}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{where}: X has 0 rows (shape {X.shape})")
    return X, y


def minibatches(X, y, batch_size, rng=None, shuffle=True, drop_last=False):
    """One epoch of (Xb, yb) minibatches, shuffled by default.

    every sample appears exactly once per epoch (at most batch_size - 1 dropped with drop_last)
    Shapes: X (N, ...), y (N, ...) -> yields Xb (B, ...), yb (B, ...) with B = batch_size,
            the last batch smaller unless drop_last.

    rng: a Generator (a new order on every call as it advances), an int seed (the same
    order on every call), or None (fresh entropy). Arguments are checked when called,
    before the first batch is asked for.
    """
    where = "minibatches"
    X, y = _paired(X, y, where)
    batch_size = _positive_int(batch_size, "batch_size", where)
    n = X.shape[0]
    order = _make_rng(rng, where).permutation(n) if shuffle else None
    stop = n - n % batch_size if drop_last else n
    if stop == 0:
        warnings.warn(
            f"minibatches: batch_size={batch_size} exceeds the {n} samples and drop_last=True, "
            "so the epoch has no batches",
            stacklevel=2,
        )
    return _batches(X, y, batch_size, order, stop)


def _batches(X, y, batch_size, order, stop):
    for start in range(0, stop, batch_size):
        end = min(start + batch_size, stop)
        if order is None:
            yield X[start:end], y[start:end]
        else:
            idx = order[start:end]
            yield X[idx], y[idx]


def train_val_split(X, y, val_fraction=0.2, rng=None):
    """Shuffle and split off a validation set.

    n_val = round(N * val_fraction), n_train = N - n_val
    Shapes: X (N, ...), y (N, ...) -> X_tr (n_train, ...), y_tr (n_train, ...),
            X_val (n_val, ...), y_val (n_val, ...).
    rng: a Generator, an int seed, or None (seed 0, so the split is reproducible).
    """
    where = "train_val_split"
    X, y = _paired(X, y, where)
    frac = float(val_fraction)
    if not 0.0 < frac < 1.0:
        raise ValueError(f"{where}: val_fraction must be strictly between 0 and 1, "
                         f"got {val_fraction}")
    n = X.shape[0]
    n_val = int(round(n * frac))
    if n_val == 0 or n_val == n:
        raise ValueError(
            f"{where}: val_fraction={val_fraction} of {n} samples leaves "
            f"{n - n_val} for training and {n_val} for validation; both need at least one"
        )
    order = _make_rng(rng, where, default_seed=0).permutation(n)
    val_idx, tr_idx = order[:n_val], order[n_val:]
    return X[tr_idx], y[tr_idx], X[val_idx], y[val_idx]
