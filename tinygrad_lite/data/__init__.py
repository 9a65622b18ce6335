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
from .datasets import (
    UnsafePickleError,
    load_cifar10,
    load_digits,
    minibatches,
    spiral,
    train_val_split,
)
from .preprocessing import PCA, NotFittedError, Standardize, Whiten, ZeroCenter

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
