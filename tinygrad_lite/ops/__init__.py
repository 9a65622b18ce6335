"""One Function per op. Grouped by kind; every op is also reachable from here."""
from .activations import ELU, LeakyReLU, Maxout, PReLU, ReLU, Sigmoid, Tanh
from .elementwise import Abs, Add, Clip, Div, Exp, Log, Mul, Neg, Pow, Sqrt, Sub
from .linalg import MatMul
from .losses import LogSoftmax, MSELoss, Softmax, SoftmaxCrossEntropy, SVMLoss
from .reduce import Max, Mean, Sum
from .shape import GetItem, Reshape, Transpose
from .normalization import BatchNorm, Dropout, LayerNorm
from .conv import Conv2d, MaxPool2d
