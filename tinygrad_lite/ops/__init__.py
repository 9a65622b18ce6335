"""One Function per op. Grouped by kind; every op is also reachable from here."""
from .activations import ELU, LeakyReLU, Maxout, PReLU, ReLU, Sigmoid, Tanh
from .conv import Conv2d, MaxPool2d
from .elementwise import Abs, Add, Clip, Div, Exp, Log, Mul, Neg, Pow, Sqrt, Sub
from .linalg import MatMul
from .losses import LogSoftmax, MSELoss, Softmax, SoftmaxCrossEntropy, SVMLoss
from .normalization import BatchNorm, Dropout, LayerNorm
from .reduce import Max, Mean, Sum
from .shape import GetItem, Reshape, Transpose

__all__ = [
    "ELU", "LeakyReLU", "Maxout", "PReLU", "ReLU", "Sigmoid", "Tanh",
    "Abs", "Add", "Clip", "Div", "Exp", "Log", "Mul", "Neg", "Pow", "Sqrt", "Sub",
    "MatMul", "LogSoftmax", "MSELoss", "Softmax", "SoftmaxCrossEntropy", "SVMLoss",
    "Max", "Mean", "Sum", "GetItem", "Reshape", "Transpose",
    "BatchNorm", "Dropout", "LayerNorm", "Conv2d", "MaxPool2d",
]
