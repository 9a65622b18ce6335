"""Data preprocessing on a 2-D cloud: zero-centring, normalization, PCA and whitening.

The lecture's two pictures: original -> zero-centred (subtract the mean) -> normalized (divide
each feature by its std); and original -> decorrelated (PCA rotates onto the axes of the
covariance: a diagonal covariance) -> whitened (each axis scaled to variance 1: the identity
covariance). Every transform is fitted on training data and applied unchanged to test data.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import PCA, Standardize, Whiten, ZeroCenter

__all__ = ["make_cloud", "describe", "PreprocessingResult", "preprocess"]


def make_cloud(n: int, rng: np.random.Generator) -> np.ndarray:
    """A correlated, off-centre gaussian cloud: std 2 and 0.5 along axes rotated by 30 deg.

    x = z @ diag(2, 0.5) @ R(30 deg) + (4, 2),  z ~ N(0, I). Shapes: (n, 2).
    """
    angle = np.deg2rad(30.0)
    rotation = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    scales = np.diag([2.0, 0.5])
    Z = rng.standard_normal((n, 2))
    return Z @ scales @ rotation + np.array([4.0, 2.0])


def describe(X: np.ndarray) -> dict[str, np.ndarray]:
    """Mean (D,), per-feature std (D,) and population covariance (D, D) of a cloud (N, D)."""
    return {"mean": X.mean(axis=0), "std": X.std(axis=0),
            "cov": np.cov(X, rowvar=False, bias=True)}


@dataclass
class PreprocessingResult:
    """Every transformed cloud and its statistics (describe()), keyed by name.

    Names: "original", "zero-centred", "normalized", "decorrelated (PCA)", "whitened" (all
    on the training cloud) and "whitened test" (the whitener fitted on training data, applied
    to a test cloud).
    """

    clouds: dict[str, np.ndarray]
    stats: dict[str, dict[str, np.ndarray]]


def preprocess(n: int = 2000, seed: int = 0) -> PreprocessingResult:
    """Fit each transform on a training cloud of n points; whiten a test cloud of n // 4."""
    rng = np.random.default_rng(seed)
    X_train = make_cloud(n, rng)
    X_test = make_cloud(n // 4, rng)

    centred = ZeroCenter().fit_transform(X_train)
    normalized = Standardize().fit_transform(X_train)
    decorrelated = PCA(n_components=2).fit(X_train).transform(X_train)
    whitener = Whiten().fit(X_train)
    clouds = {"original": X_train, "zero-centred": centred, "normalized": normalized,
              "decorrelated (PCA)": decorrelated, "whitened": whitener.transform(X_train),
              "whitened test": whitener.transform(X_test)}
    return PreprocessingResult(clouds, {name: describe(X) for name, X in clouds.items()})
