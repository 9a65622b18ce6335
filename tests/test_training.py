"""End-to-end training, seeded and asserted: the building blocks together learn real tasks.

1. An MLP with He init and batch norm fits CS231n's spiral data (>= 95% training accuracy).
2. A small CNN with spatial batch norm classifies scikit-learn's 8x8 digits (> 90% on a
   held-out validation split).
"""
import numpy as np

import tinygrad_lite.functional as F
from tinygrad_lite import data, nn, no_grad, optim


def accuracy(model, X, y):
    model.eval()
    with no_grad():
        scores = model(X).data
    model.train()
    return float((scores.argmax(axis=1) == y).mean())


def test_mlp_with_he_init_and_batch_norm_fits_spiral():
    X, y = data.spiral(n_per_class=100, n_classes=3, rng=0)
    model = nn.Sequential(
        nn.Linear(2, 100, init="he", rng=0),
        nn.BatchNorm1d(100),
        nn.ReLU(),
        nn.Linear(100, 3, rng=1),
    )
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    losses = []
    for _ in range(200):  # full batch
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 < losses[0]
    assert accuracy(model, X, y) >= 0.95


def test_cnn_with_spatial_batch_norm_classifies_digits():
    X, y = data.load_digits()  # ships with scikit-learn (the data extra, part of dev)
    X = (X / 16.0).reshape(-1, 1, 8, 8)  # (N, 1, 8, 8) images, pixels in [0, 1]
    X_train, y_train, X_val, y_val = data.train_val_split(X, y, val_fraction=0.2, rng=0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, init="he", rng=0),  # (N, 8, 8, 8)
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),                                  # (N, 8, 4, 4)
        nn.Flatten(),                                     # (N, 128)
        nn.Linear(8 * 4 * 4, 10, rng=1),
    )
    opt = optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    for _ in range(3):
        for xb, yb in data.minibatches(X_train, y_train, batch_size=64, rng=rng):
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
    assert accuracy(model, X_val, y_val) > 0.90
