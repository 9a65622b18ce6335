"""Preprocessing fitted on training data: ZeroCenter, Standardize, PCA, Whiten.

Each has fit(X) -> self, transform(X) and fit_transform(X); statistics are fitted once on
the training data and applied unchanged to validation and test data. A float input keeps its
dtype (statistics are computed in float64 and cast when applied); integer and bool inputs
become float64.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from ._checks import _positive_int, _to_array

__all__ = ["NotFittedError", "ZeroCenter", "Standardize", "PCA", "Whiten"]


class NotFittedError(RuntimeError):
    """A preprocessor was used before fit() was called on training data."""


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
