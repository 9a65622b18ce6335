"""Tests for tinygrad_lite.data: preprocessing, datasets, CIFAR-10 loading and batching."""
import codecs
import os
import pickle
import pickletools
import struct
import sys
import warnings

import numpy as np
import pytest

from tinygrad_lite import data
from tinygrad_lite.data import (
    PCA,
    NotFittedError,
    Standardize,
    Whiten,
    ZeroCenter,
)


def _rng(seed=0):
    return np.random.default_rng(seed)


class _Boxed:
    """Stands in for a Value: an object holding its array in .data."""

    def __init__(self, array):
        self.data = array


# ====================================================================== ZeroCenter


def test_zero_center_mean_image():
    X = _rng().normal(3.0, 2.0, size=(50, 3, 4, 5))
    zc = ZeroCenter().fit(X)
    assert zc.mean_.shape == (3, 4, 5)
    np.testing.assert_allclose(zc.mean_, X.mean(axis=0))
    out = zc.transform(X)
    assert out.shape == X.shape
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)


def test_zero_center_accepts_2d():
    X = _rng().normal(size=(20, 6)) + np.arange(6)
    np.testing.assert_allclose(ZeroCenter().fit_transform(X).mean(axis=0), 0, atol=1e-12)


def test_zero_center_per_channel_nchw():
    X = _rng().normal(size=(40, 3, 6, 6)) + np.array([1.0, -2.0, 5.0])[:, None, None]
    zc = ZeroCenter(per_channel=True).fit(X)
    assert zc.mean_.shape == (3,)
    np.testing.assert_allclose(zc.mean_, X.mean(axis=(0, 2, 3)))
    out = zc.transform(X)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    # one mean per channel, not per pixel: each pixel's mean is not zeroed
    assert np.abs(out.mean(axis=0)).max() > 1e-3


def test_zero_center_per_channel_nhwc_matches_nchw():
    X = _rng(1).normal(size=(30, 3, 5, 5)) + np.array([10.0, 20.0, 30.0])[:, None, None]
    X_nhwc = X.transpose(0, 2, 3, 1)
    a = ZeroCenter(per_channel=True, channel_axis=1).fit(X)
    b = ZeroCenter(per_channel=True, channel_axis=-1).fit(X_nhwc)
    np.testing.assert_allclose(a.mean_, b.mean_)
    np.testing.assert_allclose(b.transform(X_nhwc), a.transform(X).transpose(0, 2, 3, 1))
    np.testing.assert_allclose(b.transform(X_nhwc).mean(axis=(0, 1, 2)), 0, atol=1e-12)


def test_zero_center_reuses_training_mean_on_test_data():
    train = _rng(2).normal(5.0, 1.0, size=(100, 2, 3, 3))
    test = _rng(3).normal(-5.0, 1.0, size=(7, 2, 3, 3))
    zc = ZeroCenter().fit(train)
    mean_before = zc.mean_.copy()
    out = zc.transform(test)
    np.testing.assert_allclose(out, test - train.mean(axis=0))
    assert np.abs(out.mean(axis=0)).min() > 5  # not re-centred on the test mean
    np.testing.assert_array_equal(zc.mean_, mean_before)

    zc_c = ZeroCenter(per_channel=True).fit(train)
    np.testing.assert_allclose(
        zc_c.transform(test), test - train.mean(axis=(0, 2, 3))[None, :, None, None]
    )


def test_zero_center_per_channel_allows_other_image_sizes():
    zc = ZeroCenter(per_channel=True).fit(_rng().normal(size=(10, 3, 8, 8)))
    assert zc.transform(np.zeros((2, 3, 4, 4))).shape == (2, 3, 4, 4)


def test_zero_center_transform_before_fit():
    with pytest.raises(NotFittedError, match=r"ZeroCenter.transform: this ZeroCenter is not fitted "
                                             r"yet; call fit"):
        ZeroCenter().transform(np.zeros((2, 3)))
    assert issubclass(NotFittedError, RuntimeError)


def test_zero_center_wrong_trailing_shape():
    zc = ZeroCenter().fit(np.zeros((4, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"ZeroCenter.transform: fitted on samples of shape \(3, "
                                         r"4, 4\).*got X of shape \(2, 3, 5, 5\)"):
        zc.transform(np.zeros((2, 3, 5, 5)))
    zc2 = ZeroCenter().fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"ZeroCenter.transform: fitted on samples of shape "
                                         r"\(3,\).*\(2, 4\)"):
        zc2.transform(np.zeros((2, 4)))


def test_zero_center_wrong_channel_count():
    zc = ZeroCenter(per_channel=True).fit(np.zeros((4, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"ZeroCenter.transform: fitted on 3 channels.*\(2, 4, 2, "
                                         r"2\)"):
        zc.transform(np.zeros((2, 4, 2, 2)))


def test_zero_center_bad_inputs():
    with pytest.raises(ValueError, match=r"ZeroCenter.fit: expected an array of shape \(N, "
                                         r"\.\.\.\) with at least 2 dims, got shape \(5,\)"):
        ZeroCenter().fit(np.zeros(5))
    with pytest.raises(ValueError, match=r"per_channel=True needs 4-D input.*got shape \(4, 3\)"):
        ZeroCenter(per_channel=True).fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"ZeroCenter.fit: X has 0 rows \(shape \(0, 3\)\)"):
        ZeroCenter().fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"ZeroCenter: channel_axis must be 1 \(NCHW\) or -1 "
                                         r"\(NHWC\), got 2"):
        ZeroCenter(per_channel=True, channel_axis=2)


def test_zero_center_dtypes_and_boxed_input():
    X32 = _rng().normal(size=(10, 4)).astype(np.float32)
    assert ZeroCenter().fit_transform(X32).dtype == np.float32
    Xi = np.arange(12).reshape(4, 3)
    out = ZeroCenter().fit_transform(Xi)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, Xi - Xi.mean(axis=0))
    zc = ZeroCenter().fit(_Boxed(X32))
    assert zc.transform(_Boxed(X32)).dtype == np.float32
    assert repr(ZeroCenter(per_channel=True)) == "ZeroCenter(per_channel=True, channel_axis=1)"


# ====================================================================== Standardize


def test_standardize_zero_mean_unit_std():
    X = _rng().normal(size=(200, 4)) * np.array([1.0, 10.0, 0.1, 3.0]) + np.array([5, -3, 0, 100])
    st = Standardize().fit(X)
    out = st.transform(X)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-12)  # population std (ddof=0)
    np.testing.assert_allclose(st.std_, X.std(axis=0))
    np.testing.assert_allclose(st.mean_, X.mean(axis=0))


def test_standardize_reuses_training_stats():
    train = _rng(0).normal(2.0, 3.0, size=(300, 3))
    test = _rng(1).normal(size=(5, 3))
    st = Standardize().fit(train)
    np.testing.assert_allclose(st.transform(test), (test - train.mean(0)) / train.std(0))


def test_standardize_constant_feature_stays_finite():
    X = _rng().normal(size=(50, 3))
    X[:, 1] = 0.1  # not exactly representable: a naive mean leaves a rounding residue
    st = Standardize().fit(X)
    assert st.std_[1] == 0.0 and st.scale_[1] == 1.0
    out = st.transform(X)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[:, 1], 0.0)
    # on new data the constant feature is shifted, not scaled
    new = np.array([[0.0, 0.6, 0.0]])
    assert st.transform(new)[0, 1] == pytest.approx(0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Standardize().fit_transform(np.ones((4, 2)))  # all constant: no warning, no NaN


def test_standardize_float32_stays_float32():
    X = (_rng().normal(size=(100, 5)) * 100).astype(np.float32)
    out = Standardize().fit_transform(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.std(axis=0, dtype=np.float64), 1, atol=1e-4)
    assert Standardize().fit_transform(np.arange(6).reshape(3, 2)).dtype == np.float64


def test_standardize_errors():
    with pytest.raises(NotFittedError, match=r"Standardize.transform: this Standardize is not "
                                             r"fitted yet; call fit"):
        Standardize().transform(np.zeros((2, 2)))
    st = Standardize().fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"Standardize.transform: fitted on samples of shape "
                                         r"\(4,\).*got X of shape \(3, 5\)"):
        st.transform(np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"Standardize.fit: expected a 2-D array \(N, D\), got "
                                         r"shape \(2, 3, 4\); flatten"):
        Standardize().fit(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"Standardize.fit: X has 0 rows"):
        Standardize().fit(np.ones((0, 4)))
    with pytest.raises(ValueError, match=r"Standardize.fit: X contains 1 NaN or inf"):
        Standardize().fit(np.array([[1.0, np.nan], [2.0, 3.0]]))


# ====================================================================== PCA and Whiten


def _correlated_cloud(n=5000, angle_deg=30.0, stds=(3.0, 1.0), seed=0):
    """A 2-D gaussian whose major axis points at angle_deg; returns X and the unit major axis."""
    theta = np.deg2rad(angle_deg)
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    Z = _rng(seed).normal(size=(n, 2)) * np.array(stds)
    X = Z @ R.T + np.array([4.0, -1.0])
    return X, R[:, 0]


def _mixed(n=4000, d=5, seed=0):
    A = _rng(seed + 100).normal(size=(d, d))
    return _rng(seed).normal(size=(n, d)) @ A + np.arange(d)


def test_pca_first_component_is_major_axis():
    X, major = _correlated_cloud()
    pca = PCA(1).fit(X)
    assert pca.components_.shape == (1, 2)
    assert abs(pca.components_[0] @ major) > 0.999
    assert pca.components_[0] @ major > 0  # sign convention: largest entry positive
    np.testing.assert_allclose(pca.mean_, X.mean(axis=0))
    assert pca.explained_variance_[0] == pytest.approx(9.0, rel=0.05)
    Z = pca.transform(X)
    assert Z.shape == (5000, 1)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-10)  # centred on the training mean
    np.testing.assert_allclose(Z.var(axis=0), pca.explained_variance_)


def test_pca_full_rank_ratios_and_round_trip():
    X = _mixed()
    pca = PCA(5).fit(X)
    assert pca.components_.shape == (5, 5)
    assert pca.explained_variance_ratio_.sum() == pytest.approx(1.0)
    assert np.all(np.diff(pca.explained_variance_) <= 0)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(5), atol=1e-10)
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(X)), X, atol=1e-10)


def test_pca_truncated_reconstruction_error_is_dropped_variance():
    X = _mixed(seed=1)
    pca_full = PCA(5).fit(X)
    pca = PCA(2).fit(X)
    err = ((pca.inverse_transform(pca.transform(X)) - X) ** 2).sum(axis=1).mean()
    assert err == pytest.approx(pca_full.explained_variance_[2:].sum(), rel=1e-8)
    assert pca.explained_variance_ratio_.sum() < 1


def test_pca_float32_and_errors():
    X = _mixed().astype(np.float32)
    pca = PCA(3).fit(X)
    Z = pca.transform(X)
    assert Z.dtype == np.float32
    assert pca.inverse_transform(Z).dtype == np.float32
    with pytest.raises(NotFittedError,
                       match=r"PCA.transform: this PCA is not fitted yet; call fit"):
        PCA(2).transform(X)
    with pytest.raises(ValueError, match=r"PCA.fit: n_components=6 exceeds the number of features "
                                         r"D=5"):
        PCA(6).fit(X)
    with pytest.raises(ValueError, match=r"PCA.transform: fitted on samples of shape \(5,\).*got X "
                                         r"of shape \(4, 4\)"):
        pca.transform(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"PCA.inverse_transform: expected Z of shape \(N, "
                                         r"3\).*got shape \(4, 2\)"):
        pca.inverse_transform(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"PCA.fit: expected a 2-D array \(N, D\), got shape "
                                         r"\(10,\)"):
        PCA(1).fit(np.zeros(10))
    with pytest.raises(ValueError, match=r"PCA.fit: X has 0 rows"):
        PCA(1).fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"PCA: n_components must be >= 1, got 0"):
        PCA(0)


@pytest.mark.parametrize("zca", [False, True])
def test_whiten_covariance_is_identity(zca):
    X = _mixed(seed=2)
    w = Whiten(zca=zca).fit(X)
    Z = w.transform(X)
    assert Z.shape == X.shape
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(np.cov(Z, rowvar=False, bias=True), np.eye(5), atol=1e-2)
    np.testing.assert_allclose(w.inverse_transform(Z), X, atol=1e-8)


def test_whiten_test_data_uses_training_statistics():
    X = _mixed(seed=3)
    w = Whiten().fit(X)
    test = X[:10] + 1.0
    np.testing.assert_allclose(w.transform(test), (test - X.mean(axis=0)) @ w.matrix_)


def test_zca_is_symmetric_and_keeps_orientation():
    X = _mixed(seed=4)
    zca = Whiten(zca=True).fit(X)
    pca_w = Whiten(zca=False).fit(X)
    np.testing.assert_allclose(zca.matrix_, zca.matrix_.T, atol=1e-10)
    Xc = X - X.mean(axis=0)
    Xs = Xc / Xc.std(axis=0)  # the input, each feature at unit variance
    Z_zca, Z_pca = zca.transform(X), pca_w.transform(X)
    # ZCA is the whitening closest to its input: each output feature tracks its input feature
    corr = [np.corrcoef(Xs[:, j], Z_zca[:, j])[0, 1] for j in range(5)]
    assert min(corr) > 0.3
    assert ((Z_zca - Xs) ** 2).mean() < ((Z_pca - Xs) ** 2).mean()


def test_zca_of_white_data_is_nearly_identity():
    X = _rng(5).normal(size=(20000, 3))
    Z = Whiten(zca=True).fit_transform(X)
    np.testing.assert_allclose(Z, X - X.mean(axis=0), atol=0.05)


def test_whiten_float32_singular_and_errors():
    X = _mixed(seed=6).astype(np.float32)
    Z = Whiten().fit_transform(X)
    assert Z.dtype == np.float32
    singular = np.c_[X, X[:, :1]]  # a repeated column: covariance is singular
    Zs = Whiten(eps=1e-5).fit_transform(singular.astype(np.float64))
    assert np.isfinite(Zs).all()
    with pytest.raises(ValueError, match=r"Whiten.fit: the covariance of X \(shape \(4000, 6\)\) "
                                         r"is singular.*use eps > 0"):
        Whiten(eps=0.0).fit(np.c_[np.zeros((4000, 1)), X.astype(np.float64)[:, :5]])
    with pytest.raises(NotFittedError, match=r"Whiten.transform: this Whiten is not fitted yet; "
                                             r"call fit"):
        Whiten().transform(X)
    with pytest.raises(ValueError, match=r"Whiten.transform: fitted on samples of shape "
                                         r"\(5,\).*got X of shape \(2, 3\)"):
        Whiten().fit(X).transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"Whiten.fit: expected a 2-D array \(N, D\), got shape "
                                         r"\(3, 2, 2\)"):
        Whiten().fit(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match=r"Whiten: eps must be finite and >= 0"):
        Whiten(eps=-1)


# ====================================================================== spiral and digits


def test_spiral_shapes_labels_and_formula():
    X, y = data.spiral()
    assert X.shape == (300, 2) and X.dtype == np.float64
    assert y.shape == (300,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [100, 100, 100])
    assert np.linalg.norm(X, axis=1).max() <= 1.0 + 1e-12

    # CS231n's recipe, drawn from the same generator
    gen = np.random.default_rng(7)
    n, k = 20, 4
    Xs, ys = data.spiral(n, k, rng=np.random.default_rng(7))
    for j in range(k):
        r = np.linspace(0.0, 1, n)
        t = np.linspace(j * 4, (j + 1) * 4, n) + gen.standard_normal(n) * 0.2
        np.testing.assert_allclose(Xs[n * j:n * (j + 1)], np.c_[r * np.sin(t), r * np.cos(t)])
        np.testing.assert_array_equal(ys[n * j:n * (j + 1)], j)


def test_spiral_seeding():
    a, ya = data.spiral(50, 3)
    b, yb = data.spiral(50, 3)
    np.testing.assert_array_equal(a, b)  # default seed 0: reproducible
    np.testing.assert_array_equal(data.spiral(50, 3, rng=3)[0],
                                  data.spiral(50, 3, rng=np.random.default_rng(3))[0])
    assert not np.array_equal(data.spiral(50, 3, rng=1)[0], a)
    with pytest.raises(ValueError, match=r"spiral: n_classes must be >= 1, got 0"):
        data.spiral(10, 0)


def test_load_digits():
    pytest.importorskip("sklearn")
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16
    np.testing.assert_array_equal(np.unique(y), np.arange(10))


def test_load_digits_without_sklearn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install "tinygrad_lite\[data\]"'):
        data.load_digits()


# ====================================================================== CIFAR-10


_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def _batch_dict(n, seed):
    rng = _rng(seed)
    return {
        b"batch_label": f"batch {seed}".encode(),
        b"labels": [int(v) for v in rng.integers(0, 10, size=n)],
        b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{seed}_{i}.png".encode() for i in range(n)],
    }


def _write(path, obj, protocol=2):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


@pytest.fixture
def cifar_dir(tmp_path):
    """A tiny CIFAR-10 folder in the real format: six protocol-2 pickles, a few rows each."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batches = {}
    for seed, name in enumerate(_BATCHES):
        batches[name] = _batch_dict(n=3 if name != "test_batch" else 4, seed=seed)
        _write(folder / name, batches[name])
    return folder, batches


def test_load_cifar10_shapes_values_and_layout(cifar_dir):
    folder, batches = cifar_dir
    X_tr, y_tr, X_te, y_te = data.load_cifar10(folder)
    assert X_tr.shape == (15, 3, 32, 32) and X_tr.dtype == np.float32
    assert X_te.shape == (4, 3, 32, 32) and X_te.dtype == np.float32
    assert y_tr.dtype == np.int64 and y_te.dtype == np.int64
    raw_tr = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in range(1, 6)])
    labels_tr = sum((batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)), [])
    np.testing.assert_array_equal(y_tr, labels_tr)
    np.testing.assert_array_equal(y_te, batches["test_batch"][b"labels"])
    # raw 0..255 values, unscaled
    np.testing.assert_array_equal(X_tr.reshape(15, -1), raw_tr.astype(np.float32))
    # channel layout: first 1024 values of a row are red, row-major 32x32, then green, blue
    row = batches["data_batch_2"][b"data"][1]
    img = X_tr[3 + 1]
    np.testing.assert_array_equal(img[0], row[:1024].reshape(32, 32))
    np.testing.assert_array_equal(img[1], row[1024:2048].reshape(32, 32))
    np.testing.assert_array_equal(img[2], row[2048:].reshape(32, 32))
    assert img[0, 0, 1] == row[1] and img[0, 1, 0] == row[32]


def test_load_cifar10_accepts_parent_folder_and_other_protocols(cifar_dir, tmp_path):
    folder, batches = cifar_dir
    _write(folder / "data_batch_3", batches["data_batch_3"], protocol=pickle.HIGHEST_PROTOCOL)
    X_tr, *_ = data.load_cifar10(str(tmp_path))  # the parent of cifar-10-batches-py
    assert X_tr.shape == (15, 3, 32, 32)


class _Py2StylePickler(pickle._Pickler):
    """Writes bytes and str as Python 2's str opcodes (SHORT_BINSTRING/BINSTRING), as cPickle
    did."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_bytes_py2(self, obj):
        if isinstance(obj, str):
            obj = obj.encode("latin-1")
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = _save_bytes_py2
    dispatch[str] = _save_bytes_py2


def test_load_cifar10_reads_python2_style_pickles(cifar_dir):
    folder, batches = cifar_dir
    import io

    buf = io.BytesIO()
    _Py2StylePickler(buf, protocol=2).dump(batches["test_batch"])
    raw = buf.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert b"_codecs" not in raw and b"cnumpy.core.multiarray\n_reconstruct" in raw
    assert "BINUNICODE" not in {op.name for op, _, _ in pickletools.genops(raw)}
    (folder / "test_batch").write_bytes(raw)
    _, _, X_te, y_te = data.load_cifar10(folder)
    np.testing.assert_array_equal(X_te.reshape(4, -1), batches["test_batch"][b"data"])
    np.testing.assert_array_equal(y_te, batches["test_batch"][b"labels"])


class _SystemCall:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"echo pwned > {self.target}",))


class _EvalCall:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


class _Rot13Call:
    def __reduce__(self):
        return (codecs.encode, ("abc", "rot13"))


def test_load_cifar10_refuses_os_system_pickle(cifar_dir, tmp_path):
    folder, batches = cifar_dir
    marker = tmp_path / "pwned.txt"
    evil = dict(batches["data_batch_1"])
    evil[b"data"] = _SystemCall(marker)
    _write(folder / "data_batch_1", evil)
    with pytest.raises(pickle.UnpicklingError,
                       match=r"data_batch_1 refers to the global (posix|nt|os)\.system, which "
                             r"is not allowed"):
        data.load_cifar10(folder)
    assert not marker.exists()


def test_load_cifar10_refuses_eval_and_other_codecs(cifar_dir):
    folder, batches = cifar_dir
    _write(folder / "data_batch_4", {b"data": _EvalCall(), b"labels": []})
    with pytest.raises(pickle.UnpicklingError, match=r"data_batch_4 refers to the global "
                                                     r"(__builtin__|builtins)\.eval"):
        data.load_cifar10(folder)
    _write(folder / "data_batch_4", batches["data_batch_4"])
    _write(folder / "test_batch", {b"data": _Rot13Call(), b"labels": []})
    with pytest.raises(pickle.UnpicklingError, match=r"test_batch calls _codecs.encode with "
                                                     r"encoding 'rot13'"):
        data.load_cifar10(folder)


def test_load_cifar10_missing_folder(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError,
                       match=r"folder '.*nope' does not exist; it should hold the CIFAR-10 "
                             r"python version: data_batch_1.*test_batch"):
        data.load_cifar10(missing)


def test_load_cifar10_missing_batches(cifar_dir):
    folder, _ = cifar_dir
    (folder / "data_batch_3").unlink()
    (folder / "test_batch").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing data_batch_3, test_batch in folder .*; "
                                                r"it should hold .*data_batch_5 and test_batch"):
        data.load_cifar10(folder)


def test_load_cifar10_truncated_file(cifar_dir):
    folder, _ = cifar_dir
    path = folder / "data_batch_5"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=r"data_batch_5 is corrupt or truncated"):
        data.load_cifar10(folder)


def test_load_cifar10_wrong_keys_and_sizes(cifar_dir):
    folder, batches = cifar_dir
    _write(folder / "data_batch_2",
           {b"images": batches["data_batch_2"][b"data"], b"labels": [0, 1, 2]})
    with pytest.raises(ValueError, match=r"data_batch_2 lacks the key\(s\) b'data'"):
        data.load_cifar10(folder)
    _write(folder / "data_batch_2", {b"data": np.zeros((3, 100), np.uint8), b"labels": [0, 1, 2]})
    with pytest.raises(ValueError, match=r"data_batch_2 has b'data' of shape \(3, 100\); expected "
                                         r"a uint8 array of shape \(n, 3072\)"):
        data.load_cifar10(folder)
    _write(folder / "data_batch_2", {b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1]})
    with pytest.raises(ValueError,
                       match=r"data_batch_2 has 3 images but b'labels' of shape \(2,\)"):
        data.load_cifar10(folder)
    _write(folder / "data_batch_2", [1, 2, 3])
    with pytest.raises(ValueError, match=r"data_batch_2 holds a list, expected a dict"):
        data.load_cifar10(folder)
    (folder / "data_batch_2").write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(ValueError, match=r"data_batch_2 is corrupt or truncated"):
        data.load_cifar10(folder)


# ====================================================================== minibatches and split


def test_minibatches_cover_each_index_once():
    X = np.arange(103)[:, None] * np.ones((1, 2))
    y = np.arange(103)
    batches = list(data.minibatches(X, y, 10, rng=0))
    assert [len(yb) for _, yb in batches] == [10] * 10 + [3]
    seen = np.concatenate([yb for _, yb in batches])
    np.testing.assert_array_equal(np.sort(seen), np.arange(103))
    assert not np.array_equal(seen, np.arange(103))  # shuffled
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], yb)  # rows stay paired with their labels


def test_minibatches_drop_last_and_no_shuffle():
    X, y = np.arange(25).reshape(25, 1), np.arange(25)
    sizes = [len(yb) for _, yb in data.minibatches(X, y, 10, rng=1, drop_last=True)]
    assert sizes == [10, 10]
    ordered = np.concatenate([yb for _, yb in data.minibatches(X, y, 4, shuffle=False)])
    np.testing.assert_array_equal(ordered, np.arange(25))


def test_minibatches_seeded_and_advancing():
    X, y = np.zeros((50, 3)), np.arange(50)

    def epoch(rng):
        return np.concatenate([yb for _, yb in data.minibatches(X, y, 8, rng=rng)])

    np.testing.assert_array_equal(epoch(5), epoch(5))
    np.testing.assert_array_equal(epoch(np.random.default_rng(5)), epoch(5))
    gen = np.random.default_rng(5)
    assert not np.array_equal(epoch(gen), epoch(gen))  # a Generator gives a new order each epoch


def test_minibatches_errors_raised_eagerly():
    with pytest.raises(ValueError, match=r"minibatches: X and y have different numbers of samples: "
                                         r"shapes \(5, 2\) and \(4,\)"):
        data.minibatches(np.zeros((5, 2)), np.zeros(4), 2)
    with pytest.raises(ValueError, match=r"minibatches: batch_size must be >= 1, got 0"):
        data.minibatches(np.zeros((5, 2)), np.zeros(5), 0)
    with pytest.warns(UserWarning, match=r"batch_size=10 exceeds the 5 samples and drop_last=True"):
        assert list(data.minibatches(np.zeros((5, 2)), np.zeros(5), 10, drop_last=True)) == []


def test_train_val_split():
    X = np.arange(100)[:, None] * np.ones((1, 3))
    y = np.arange(100)
    X_tr, y_tr, X_val, y_val = data.train_val_split(X, y, val_fraction=0.25)
    assert X_tr.shape == (75, 3) and X_val.shape == (25, 3)
    np.testing.assert_array_equal(np.sort(np.r_[y_tr, y_val]), np.arange(100))
    np.testing.assert_array_equal(X_tr[:, 0], y_tr)
    again = data.train_val_split(X, y, val_fraction=0.25)
    np.testing.assert_array_equal(again[3], y_val)  # seeded by default
    other = data.train_val_split(X, y, val_fraction=0.25, rng=1)
    assert not np.array_equal(other[3], y_val)
    with pytest.raises(ValueError, match=r"train_val_split: val_fraction must be strictly between "
                                         r"0 and 1, got 1.5"):
        data.train_val_split(X, y, val_fraction=1.5)
    with pytest.raises(ValueError, match=r"leaves 3 for training and 0 for validation"):
        data.train_val_split(X[:3], y[:3], val_fraction=0.1)
