"""load_cifar10 with crafted and damaged batch files: only the documented structure loads,
no array of uninitialised memory can be asked for, a declared size must match the bytes
given before anything is allocated, and every error is a ValueError naming the file."""
import pickle
import tracemalloc

import numpy as np
import pytest

from tinygrad_lite.data import UnsafePickleError, load_cifar10

BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
_multiarray = getattr(np, "_core", None) or np.core
RECONSTRUCT = _multiarray.multiarray._reconstruct
FROMBUFFER = _multiarray.numeric._frombuffer


class _Reduce:
    """Pickles as ``fn(*args)``, then ``__setstate__(state)`` when a state is given."""

    def __init__(self, fn, args, state=None):
        self.fn, self.args, self.state = fn, args, state

    def __reduce__(self):
        return (self.fn, self.args) if self.state is None else (self.fn, self.args, self.state)


def _batch(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return {b"batch_label": b"training batch 1 of 5",
            b"labels": [int(v) for v in rng.integers(0, 10, n)],
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"filenames": [f"img_{i}.png".encode() for i in range(n)]}


@pytest.fixture
def folder(tmp_path):
    for i, name in enumerate(BATCHES):
        (tmp_path / name).write_bytes(pickle.dumps(_batch(seed=i), protocol=2))
    return tmp_path


def _put(folder, obj, protocol=2, name="data_batch_3"):
    raw = pickle.dumps(obj, protocol=protocol)
    (folder / name).write_bytes(raw)
    return raw


def _refused(folder, match, name="data_batch_3"):
    with pytest.raises(ValueError, match=match) as err:
        load_cifar10(folder)
    assert name in str(err.value)
    return err.value


@pytest.mark.parametrize("protocol", range(6))
def test_every_protocol_loads_the_documented_structure(folder, protocol):
    batch = _batch(n=4, seed=7)
    batch[b"labels"] = [np.int64(v) for v in batch[b"labels"]]  # numpy ints are ints too
    _put(folder, batch, protocol)
    X, y, _, _ = load_cifar10(folder)
    np.testing.assert_array_equal(X[6:10].reshape(4, -1), batch[b"data"])
    np.testing.assert_array_equal(y[6:10], batch[b"labels"])


def test_fortran_ordered_data_keeps_its_values(folder):
    batch = _batch(n=2)
    batch[b"data"] = np.asfortranarray(batch[b"data"])
    _put(folder, batch, protocol=2)
    X, *_ = load_cifar10(folder)
    np.testing.assert_array_equal(X[6:8].reshape(2, -1), batch[b"data"])


def test_calling_ndarray_for_uninitialised_memory_is_refused(folder):
    """The reported 193-byte file: 8 images of whatever the heap held."""
    evil = {b"data": _Reduce(np.ndarray, ((8, 3072), "u1")), b"labels": [0] * 8}
    raw = _put(folder, evil, protocol=2)
    assert len(raw) < 250
    err = _refused(folder, "calls numpy.ndarray directly, which would make an array of "
                           "uninitialised memory")
    assert isinstance(err, UnsafePickleError) and isinstance(err, pickle.UnpicklingError)


@pytest.mark.parametrize("how", ["reconstruct", "frombuffer"])
@pytest.mark.parametrize("shape, nbytes", [
    ((100_000, 3072), 800_000),  # an 800 KB file declaring 100,000 images
    ((8, 3072), 100),  # short
    ((2**40, 2**40), 64),  # overflowing
])
def test_a_declared_size_must_match_the_bytes_given(folder, how, shape, nbytes):
    raw = b"\0" * nbytes
    if how == "reconstruct":
        data = _Reduce(RECONSTRUCT, (np.ndarray, (0,), b"b"),
                       (1, shape, np.dtype("u1"), False, raw))
    else:
        data = _Reduce(FROMBUFFER, (raw, np.dtype("u1"), shape, "C"))
    _put(folder, {b"data": data, b"labels": [0] * 8}, protocol=2 if how == "reconstruct" else 5)
    tracemalloc.start()
    try:
        _refused(folder, rf"declares an array of shape \({shape[0]}, {shape[1]}\) and dtype "
                         rf"uint8 \(\d+ bytes\) but holds {nbytes} bytes")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * nbytes + 4 * 2**20  # nothing of the declared size was allocated


@pytest.mark.parametrize("shape", [(-8, 3072), (8, -3072), (3.0, 3072), "8x3072"])
def test_a_declared_shape_that_is_not_a_shape_is_refused(folder, shape):
    data = _Reduce(RECONSTRUCT, (np.ndarray, (0,), b"b"),
                   (1, shape, np.dtype("u1"), False, b"\0" * 64))
    _put(folder, {b"data": data, b"labels": [0] * 8})
    _refused(folder, "which is not a shape")


@pytest.mark.parametrize("dtype", ["O", "V8", "U4", "c16", "M8[s]"])
def test_only_plain_numeric_dtypes(folder, dtype):
    data = _Reduce(RECONSTRUCT, (np.ndarray, (0,), b"b"),
                   (1, (1,), np.dtype(dtype), False, b"\0" * 16))
    _put(folder, {b"data": data, b"labels": [0]})
    _refused(folder, "only plain numeric dtypes")


def test_reconstruct_of_anything_but_an_empty_ndarray_is_refused(folder):
    data = _Reduce(RECONSTRUCT, (np.ndarray, (8, 3072), b"b"))
    _put(folder, {b"data": data, b"labels": [0] * 8})
    _refused(folder, "only a plain ndarray is allowed")


def test_empty_and_truncated_files(folder):
    (folder / "data_batch_3").write_bytes(b"")
    _refused(folder, "is empty")
    raw = pickle.dumps(_batch(), protocol=2)
    for cut in (1, 2, 20, 200, len(raw) // 2, len(raw) - 1):
        (folder / "data_batch_3").write_bytes(raw[:cut])
        _refused(folder, "corrupt or truncated|declares an array")


@pytest.mark.parametrize("change, match", [
    (lambda b: {**b, b"extra": 1}, "unexpected key"),
    (lambda b: {**b, b"labels": np.array(b[b"labels"])}, "expected a list of 3 integer labels"),
    (lambda b: {**b, b"labels": [0, 1]}, "3 images but b'labels'"),
    (lambda b: {**b, b"labels": [0, 1, 10]}, "label 10 that is not an int in 0..9"),
    (lambda b: {**b, b"labels": [0, 1, -1]}, "label -1"),
    (lambda b: {**b, b"labels": [0, 1, 2.0]}, "label 2.0"),
    (lambda b: {**b, b"labels": [0, 1, True]}, "label True"),
    (lambda b: {**b, b"data": b[b"data"].astype(np.int64)}, "dtype int64; expected uint8"),
    (lambda b: {**b, b"data": b[b"data"].reshape(3, 3, 1024)}, r"shape \(3, 3, 1024\)"),
    (lambda b: {**b, b"filenames": [b"a.png"]}, "b'filenames' that is not a list of 3"),
    (lambda b: {**b, b"batch_label": 5}, "b'batch_label' of type int"),
    (lambda b: [b], "holds a list"),
], ids=["extra_key", "labels_array", "few_labels", "label_10", "label_negative",
        "label_float", "label_bool", "data_int64", "data_3d", "filenames", "batch_label",
        "not_a_dict"])
def test_anything_but_the_documented_structure_is_refused(folder, change, match):
    _put(folder, change(_batch()))
    _refused(folder, match)


def test_a_folder_in_place_of_a_batch(folder):
    (folder / "data_batch_3").unlink()
    (folder / "data_batch_3").mkdir()
    with pytest.raises(FileNotFoundError, match="missing data_batch_3"):
        load_cifar10(folder)
