"""Data preprocessing and small datasets for CS231n lecture 6, on numpy alone.

Preprocessing (each with fit(X) -> self, transform(X), fit_transform(X)): statistics are
fitted on the training data once and then applied unchanged to validation and test data.

    ZeroCenter   subtract the mean image, or one mean per channel
    Standardize  zero mean, unit (population) std per feature
    PCA          project onto the top principal components
    Whiten       PCA or ZCA whitening: output covariance ~ identity

dtypes: a float input keeps its dtype (float32 stays float32; statistics are computed in
float64 and cast to the input's dtype when applied); integer and bool inputs become float64.
Anything with a ``.data`` ndarray attribute (such as a Value) is accepted as its ``.data``.

Datasets (labels are int64): spiral, load_digits (needs scikit-learn), load_cifar10 (reads
the CIFAR-10 python pickles with a restricted unpickler). Iteration: minibatches,
train_val_split.

Nothing runs at import time; scikit-learn is imported only inside load_digits.
"""
from __future__ import annotations

import math
import operator
import os
import pickle
import warnings
from pathlib import Path

import numpy as np

__all__ = [
    "NotFittedError",
    "UnsafePickleError",
    "ZeroCenter",
    "Standardize",
    "PCA",
    "Whiten",
    "spiral",
    "load_digits",
    "load_cifar10",
    "minibatches",
    "train_val_split",
]


class NotFittedError(RuntimeError):
    """A preprocessor was used before fit() was called on training data."""


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for a global that load_cifar10's restricted unpickler does not allow."""


# ============================================================ shared helpers


def _to_array(X):
    """X as an ndarray: an ndarray as is, else np.asarray of X.data (a Value) or of X."""
    if isinstance(X, np.ndarray):
        return X
    return np.asarray(getattr(X, "data", X))


def _make_rng(rng, where, default_seed=None):
    """A numpy Generator from a Generator, an int seed, or None (default_seed, else fresh entropy)."""
    if rng is None:
        return np.random.default_rng(default_seed)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{where}: rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}"
    )


def _positive_int(value, what, where):
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: {what} must be an int, got bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{where}: {what} must be an int, got {type(value).__name__}") from None
    if value < 1:
        raise ValueError(f"{where}: {what} must be >= 1, got {value}")
    return value


# ============================================================ preprocessing


class _Preprocessor:
    """Shared plumbing: input checks, the fitted-or-not check, fit_transform."""

    def fit(self, X):  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def transform(self, X):  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def fit_transform(self, X):
        """Fit on X, then transform X.

        fit_transform(X) == fit(X).transform(X)
        Shapes: as for fit and transform.
        """
        return self.fit(X).transform(X)

    @property
    def _name(self):
        return type(self).__name__

    def _input(self, X, method, *, two_d=False, check_finite=False):
        """X as an ndarray in its output dtype, after the checks every preprocessor shares."""
        where = f"{self._name}.{method}"
        X = _to_array(X)
        kind = X.dtype.kind
        if kind in "iub":
            X = X.astype(np.float64)
        elif kind != "f":
            raise TypeError(f"{where}: expected a real numeric array, got dtype {X.dtype}")
        if two_d and X.ndim != 2:
            hint = "; flatten images first, e.g. X.reshape(len(X), -1)" if X.ndim > 2 else ""
            raise ValueError(f"{where}: expected a 2-D array (N, D), got shape {X.shape}{hint}")
        if X.ndim < 2:
            raise ValueError(
                f"{where}: expected an array of shape (N, ...) with at least 2 dims, "
                f"got shape {X.shape}"
            )
        if X.shape[0] == 0:
            raise ValueError(f"{where}: X has 0 rows (shape {X.shape}); need at least one sample")
        if X.size == 0:
            raise ValueError(f"{where}: X has no features (shape {X.shape})")
        if check_finite and not np.isfinite(X).all():
            bad = int(X.size - np.count_nonzero(np.isfinite(X)))
            raise ValueError(
                f"{where}: X contains {bad} NaN or inf entries (shape {X.shape}); "
                "statistics fitted on them would be NaN"
            )
        return X

    def _require_fitted(self, method):
        if not getattr(self, "_fitted", False):
            raise NotFittedError(
                f"{self._name}.{method}: this {self._name} is not fitted yet; "
                f"call fit(X_train) first"
            )

    def _check_features(self, X, method):
        """Raise unless X's trailing shape is the one seen in fit."""
        fitted = self._fitted_trailing
        if X.shape[1:] != fitted:
            raise ValueError(
                f"{self._name}.{method}: fitted on samples of shape {fitted} "
                f"(X of shape (N, {', '.join(map(str, fitted))})), "
                f"got X of shape {X.shape} whose samples have shape {X.shape[1:]}"
            )


class ZeroCenter(_Preprocessor):
    """Subtract the training mean: the mean image, or one mean per channel.

    x' = x - mean_,  mean_ = mean over the N training samples (per position, or per channel)
    Shapes: per_channel=False: X (N, *S) -> (N, *S), mean_ S (any rank >= 2 input);
            per_channel=True: X (N, C, H, W) with channel_axis=1, or (N, H, W, C) with
            channel_axis=-1 -> same shape, mean_ (C,).

    With per_channel=True only the channel count must match at transform time, so the
    same means apply to images of another size (crops, say); the mean image needs the
    exact trailing shape it was fitted on.
    """

    def __init__(self, per_channel=False, channel_axis=1):
        try:
            axis = operator.index(channel_axis)
        except TypeError:
            raise TypeError(
                f"ZeroCenter: channel_axis must be an int, got {type(channel_axis).__name__}"
            ) from None
        if axis % 4 not in (1, 3) or not -4 <= axis <= 3:
            raise ValueError(
                f"ZeroCenter: channel_axis must be 1 (NCHW) or -1 (NHWC), got {channel_axis}"
            )
        self.per_channel = bool(per_channel)
        self.channel_axis = axis
        self._fitted = False

    def __repr__(self):
        return f"ZeroCenter(per_channel={self.per_channel}, channel_axis={self.channel_axis})"

    def _channel_input(self, X, method):
        if X.ndim != 4:
            raise ValueError(
                f"ZeroCenter.{method}: per_channel=True needs 4-D input (N, C, H, W) for "
                f"channel_axis=1 or (N, H, W, C) for channel_axis=-1, got shape {X.shape}"
            )
        return self.channel_axis % 4  # 1 or 3

    def fit(self, X):
        """Compute the training mean.

        mean_ = (1/N) sum_i x_i  (per position), or the mean over N, H, W (per channel)
        Shapes: X (N, *S) -> self; mean_ S, or (C,) with per_channel=True.
        """
        X = self._input(X, "fit", check_finite=True)
        if self.per_channel:
            axis = self._channel_input(X, "fit")
            reduce_axes = tuple(a for a in range(4) if a != axis)
            self.mean_ = X.mean(axis=reduce_axes, dtype=np.float64)  # (C,)
            self._n_channels = X.shape[axis]
        else:
            self.mean_ = X.mean(axis=0, dtype=np.float64)  # (*S)
        self._fitted_trailing = X.shape[1:]
        self._fitted = True
        return self

    def transform(self, X):
        """Subtract the fitted mean (never recomputed from X).

        x' = x - mean_
        Shapes: X (N, *S) -> (N, *S), in X's float dtype.
        """
        self._require_fitted("transform")
        X = self._input(X, "transform")
        mean = self.mean_.astype(X.dtype)
        if self.per_channel:
            axis = self._channel_input(X, "transform")
            if X.shape[axis] != self._n_channels:
                raise ValueError(
                    f"ZeroCenter.transform: fitted on {self._n_channels} channels "
                    f"(X of shape {self._fitted_shape_text()}), got X of shape {X.shape} "
                    f"with {X.shape[axis]} channels on axis {self.channel_axis}"
                )
            bshape = [1, 1, 1, 1]
            bshape[axis] = self._n_channels
            return X - mean.reshape(bshape)
        self._check_features(X, "transform")
        return X - mean

    def _fitted_shape_text(self):
        return "(N, " + ", ".join(map(str, self._fitted_trailing)) + ")"


class Standardize(_Preprocessor):
    """Zero mean and unit population std per feature.

    x' = (x - mean_) / std_,  std_ = sqrt(mean((x - mean_)^2))  (ddof=0)
    Shapes: X (N, D) -> (N, D); mean_ (D,), std_ (D,).

    A constant feature (all training values equal) has std_ 0; it is divided by 1
    instead (scale_ holds the divisor), so it maps to exactly 0 on the training data
    and to finite values elsewhere, never NaN or inf.
    """

    def __init__(self):
        self._fitted = False

    def __repr__(self):
        return "Standardize()"

    def fit(self, X):
        """Compute each feature's mean and population std.

        mean_ = mean_i x_i,  std_ = sqrt(mean_i (x_i - mean_)^2),  scale_ = std_ or 1 where std_ = 0
        Shapes: X (N, D) -> self; mean_, std_, scale_ (D,).
        """
        X = self._input(X, "fit", two_d=True, check_finite=True)
        mean = X.mean(axis=0, dtype=np.float64)
        constant = X.max(axis=0) == X.min(axis=0)
        # the exact value, so rounding in the mean cannot leave a tiny nonzero residue
        mean[constant] = X[0, constant]
        std = np.sqrt(X.var(axis=0, dtype=np.float64))
        std[constant] = 0.0
        self.mean_ = mean
        self.std_ = std
        self.scale_ = np.where(std > 0, std, 1.0)
        self._fitted_trailing = X.shape[1:]
        self._fitted = True
        return self

    def transform(self, X):
        """Standardize with the fitted mean and std.

        x' = (x - mean_) / scale_
        Shapes: X (N, D) -> (N, D), in X's float dtype.
        """
        self._require_fitted("transform")
        X = self._input(X, "transform", two_d=True)
        self._check_features(X, "transform")
        scale = self.scale_.astype(X.dtype)
        scale[scale == 0] = 1  # a std that underflows in a narrow dtype
        return (X - self.mean_.astype(X.dtype)) / scale


def _sorted_eig_cov(X):
    """Mean, eigenvalues (descending, >= 0) and eigenvectors (columns) of X's population covariance.

    cov = (X - mean)^T (X - mean) / N = U diag(lam) U^T
    Shapes: X (N, D) -> mean (D,), lam (D,), U (D, D).
    """
    X64 = X.astype(np.float64)
    mean = X64.mean(axis=0)
    Xc = X64 - mean  # (N, D)
    cov = Xc.T @ Xc / X64.shape[0]  # (D, D)
    lam, U = np.linalg.eigh(cov)
    order = np.argsort(lam)[::-1]
    lam = np.clip(lam[order], 0.0, None)  # rounding can leave tiny negatives
    U = U[:, order]
    # a deterministic sign: each eigenvector's largest-magnitude entry is positive
    pivots = np.argmax(np.abs(U), axis=0)
    signs = np.sign(U[pivots, np.arange(U.shape[1])])
    signs[signs == 0] = 1.0
    return mean, lam, U * signs


class PCA(_Preprocessor):
    """Project centred data onto its top principal components.

    z = (x - mean_) @ components_^T;  components_ = top eigenvectors of the covariance
    Shapes: X (N, D) -> Z (N, n_components); components_ (n_components, D);
            explained_variance_, explained_variance_ratio_ (n_components,); mean_ (D,).

    The covariance is the population one (divide by N), as in the lecture, so
    explained_variance_ is the variance of each output column on the training data.
    Each component's sign is fixed so that its largest-magnitude entry is positive.
    """

    def __init__(self, n_components):
        self.n_components = _positive_int(n_components, "n_components", "PCA")
        self._fitted = False

    def __repr__(self):
        return f"PCA(n_components={self.n_components})"

    def fit(self, X):
        """Find the principal axes of the training data.

        cov = Xc^T Xc / N = U diag(lam) U^T,  components_ = U[:, :k]^T
        Shapes: X (N, D) -> self.
        """
        X = self._input(X, "fit", two_d=True, check_finite=True)
        k = self.n_components
        if k > X.shape[1]:
            raise ValueError(
                f"PCA.fit: n_components={k} exceeds the number of features D={X.shape[1]} "
                f"(X of shape {X.shape})"
            )
        mean, lam, U = _sorted_eig_cov(X)
        total = lam.sum()
        self.mean_ = mean
        self.components_ = np.ascontiguousarray(U[:, :k].T)  # (k, D)
        self.explained_variance_ = lam[:k]
        # all-constant data has no variance to explain: ratios 0 rather than NaN
        self.explained_variance_ratio_ = lam[:k] / total if total > 0 else np.zeros(k)
        self._fitted_trailing = X.shape[1:]
        self._fitted = True
        return self

    def transform(self, X):
        """Centre on the training mean and project.

        z = (x - mean_) @ components_^T
        Shapes: X (N, D) -> (N, n_components), in X's float dtype.
        """
        self._require_fitted("transform")
        X = self._input(X, "transform", two_d=True)
        self._check_features(X, "transform")
        dt = X.dtype
        return (X - self.mean_.astype(dt)) @ self.components_.T.astype(dt)

    def inverse_transform(self, Z):
        """Map projections back to the input space (exact when n_components = D).

        x ~= z @ components_ + mean_
        Shapes: Z (N, n_components) -> (N, D), in Z's float dtype.
        """
        self._require_fitted("inverse_transform")
        Z = self._input(Z, "inverse_transform", two_d=True)
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"PCA.inverse_transform: expected Z of shape (N, {self.n_components}) "
                f"(n_components={self.n_components}), got shape {Z.shape}"
            )
        dt = Z.dtype
        return Z @ self.components_.astype(dt) + self.mean_.astype(dt)


class Whiten(_Preprocessor):
    """PCA or ZCA whitening: decorrelate, then give every direction unit variance.

    PCA: z = (x - mean_) @ U diag(1/sqrt(lam + eps));   ZCA: z = PCA(z) @ U^T
    Shapes: X (N, D) -> (N, D); matrix_ (D, D) with z = (x - mean_) @ matrix_;
            components_ (D, D) = U^T (rows are eigenvectors), explained_variance_ (D,) = lam.

    On the training data the output's population covariance is diag(lam / (lam + eps)),
    i.e. ~ identity wherever lam >> eps. ZCA's matrix_ is symmetric, so it stays as close
    as possible to the input's orientation (whitened images still look like images).
    eps must be > 0 when the covariance is singular (constant or collinear features).
    """

    def __init__(self, eps=1e-5, zca=False):
        eps = float(eps)
        if not (eps >= 0.0 and math.isfinite(eps)):
            raise ValueError(f"Whiten: eps must be finite and >= 0, got {eps}")
        self.eps = eps
        self.zca = bool(zca)
        self._fitted = False

    def __repr__(self):
        return f"Whiten(eps={self.eps}, zca={self.zca})"

    def fit(self, X):
        """Compute the whitening matrix from the training covariance.

        cov = U diag(lam) U^T;  matrix_ = U diag(1/sqrt(lam+eps)) (PCA) or that @ U^T (ZCA)
        Shapes: X (N, D) -> self.
        """
        X = self._input(X, "fit", two_d=True, check_finite=True)
        mean, lam, U = _sorted_eig_cov(X)
        if self.eps == 0.0 and lam[-1] <= 0.0:
            raise ValueError(
                f"Whiten.fit: the covariance of X (shape {X.shape}) is singular "
                f"(smallest eigenvalue {lam[-1]:.3g}) and eps=0 would divide by zero; use eps > 0"
            )
        root = np.sqrt(lam + self.eps)  # (D,)
        whiten = U / root  # (D, D): column j is u_j / sqrt(lam_j + eps)
        unwhiten = (U * root).T  # (D, D): row j is u_j * sqrt(lam_j + eps)
        if self.zca:
            whiten = whiten @ U.T
            unwhiten = U @ unwhiten
        self.mean_ = mean
        self.components_ = np.ascontiguousarray(U.T)
        self.explained_variance_ = lam
        self.matrix_ = whiten
        self.inverse_matrix_ = unwhiten
        self._fitted_trailing = X.shape[1:]
        self._fitted = True
        return self

    def transform(self, X):
        """Whiten with the fitted mean and matrix.

        z = (x - mean_) @ matrix_
        Shapes: X (N, D) -> (N, D), in X's float dtype.
        """
        self._require_fitted("transform")
        X = self._input(X, "transform", two_d=True)
        self._check_features(X, "transform")
        dt = X.dtype
        return (X - self.mean_.astype(dt)) @ self.matrix_.astype(dt)

    def inverse_transform(self, Z):
        """Undo the whitening.

        x = z @ inverse_matrix_ + mean_
        Shapes: Z (N, D) -> (N, D), in Z's float dtype.
        """
        self._require_fitted("inverse_transform")
        Z = self._input(Z, "inverse_transform", two_d=True)
        self._check_features(Z, "inverse_transform")
        dt = Z.dtype
        return Z @ self.inverse_matrix_.astype(dt) + self.mean_.astype(dt)


# ============================================================ datasets


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
            "install it with: pip install tinygrad_lite[data]"
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


def _numpy_internal(dotted):
    """numpy._core.X.name on numpy 2, numpy.core.X.name on numpy 1; None if absent."""
    sub, name = dotted.rsplit(".", 1)
    for base in ("_core", "core"):
        mod = getattr(np, base, None)
        if mod is None:
            continue
        try:
            obj = getattr(getattr(mod, sub), name)
        except AttributeError:
            continue
        return obj
    return None


def _allowed_globals():
    """(module, name) -> object: the only globals a CIFAR-10 batch pickle may name."""
    allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for pkg in ("numpy.core", "numpy._core"):
        for sub, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"),
                          ("numeric", "_frombuffer")):
            obj = _numpy_internal(f"{sub}.{name}")
            if obj is not None:
                allowed[(f"{pkg}.{sub}", name)] = obj
    return allowed


class _CifarUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays and plain containers, and nothing else.

    Allowed: numpy's array reconstruction (_reconstruct, ndarray, dtype, scalar, and
    _frombuffer for protocol 5) and _codecs.encode with latin-1 only, which Python 3 uses
    for bytes in protocol 2. Any other global raises UnsafePickleError before it is looked up.
    """

    def __init__(self, file, path):
        super().__init__(file, encoding="bytes")  # the batches were written by Python 2
        self._path = path
        self._allowed = _allowed_globals()

    def find_class(self, module, name):
        if (module, name) == ("_codecs", "encode"):
            return self._latin1_encode
        obj = self._allowed.get((module, name))
        if obj is None:
            raise UnsafePickleError(
                f"load_cifar10: {self._path} refers to the global {module}.{name}, which is "
                "not allowed (only numpy array reconstruction is); refusing to load it: the "
                "file is not a CIFAR-10 batch, or it has been tampered with"
            )
        return obj

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

    Shapes: -> data (n, 3072) uint8, labels (n,) int64 in 0..9.
    """
    try:
        with open(path, "rb") as f:
            batch = _CifarUnpickler(f, path).load()
    except UnsafePickleError:
        raise
    except OSError:
        raise
    except Exception as err:  # truncated or garbage files fail in many ways
        raise ValueError(
            f"load_cifar10: {path} is corrupt or truncated; it could not be unpickled "
            f"({type(err).__name__}: {err})"
        ) from err
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
    data = batch[b"data"]
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != _CIFAR_ROW:
        shape = data.shape if isinstance(data, np.ndarray) else type(data).__name__
        raise ValueError(
            f"load_cifar10: {path} has b'data' of shape {shape}; expected a uint8 array of "
            f"shape (n, {_CIFAR_ROW}) (3 x 32 x 32 values per image)"
        )
    if data.dtype.kind not in "iu" or (data.size and (data.min() < 0 or data.max() > 255)):
        raise ValueError(
            f"load_cifar10: {path} has b'data' of dtype {data.dtype}; expected uint8 "
            "values 0..255"
        )
    try:
        labels = np.asarray(batch[b"labels"])
    except Exception as err:
        raise ValueError(f"load_cifar10: {path} has unreadable b'labels' ({err})") from err
    if labels.shape != (data.shape[0],) or (labels.size and labels.dtype.kind not in "iu"):
        raise ValueError(
            f"load_cifar10: {path} has {data.shape[0]} images but b'labels' of shape "
            f"{labels.shape} and dtype {labels.dtype}; expected {data.shape[0]} integer labels"
        )
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(
            f"load_cifar10: {path} has labels outside 0..9 "
            f"(min {labels.min()}, max {labels.max()})"
        )
    return data.astype(np.uint8, copy=False), labels


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
    builds numpy arrays only: any other global raises UnsafePickleError (a
    pickle.UnpicklingError). Missing files raise FileNotFoundError; corrupt files ValueError.
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
        raise ValueError(f"{where}: X and y need a leading sample axis, got shapes {X.shape} and {y.shape}")
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
        raise ValueError(f"{where}: val_fraction must be strictly between 0 and 1, got {val_fraction}")
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
