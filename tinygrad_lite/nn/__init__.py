"""Modules: layers that own their parameters, as in PyTorch's torch.nn.

    from tinygrad_lite import nn
    model = nn.Sequential(nn.Linear(2, 100, init="he"), nn.BatchNorm1d(100), nn.ReLU(),
                          nn.Linear(100, 3))
    scores = model(X)                       # Module.__call__ runs forward (and hooks)
    [name for name, _ in model.named_parameters()]
    # ['0.weight', '0.bias', '1.weight', '1.bias', '3.weight', '3.bias']

A Module finds its parameters by looking at its attributes, in assignment order: every leaf
Value (a parameter), every Module (a child, whose parameters get dotted names such as
``layers.0.weight``), and Values and Modules inside lists, tuples and dicts assigned as
attributes. Buffers (such as batch norm's running statistics) are plain ndarrays registered
with ``register_buffer``: saved in ``state_dict`` but not parameters.

Where this differs from PyTorch: Linear's weight is stored (in_features, out_features) and
used as ``x @ W``; ``state_dict()`` returns copies (PyTorch shares storage); files are .npz
(``save``/``load``), never pickles.
"""
from .layers import (
    ELU,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    Maxout,
    MaxPool2d,
    PReLU,
    ReLU,
    Sigmoid,
    Tanh,
)
from .module import Module, RemovableHandle, Sequential, StateDictError

__all__ = [
    "Module", "Sequential", "Identity", "Linear", "Conv2d", "MaxPool2d", "Flatten",
    "ReLU", "Tanh", "Sigmoid", "LeakyReLU", "ELU", "PReLU", "Maxout",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout", "StateDictError", "RemovableHandle",
]
