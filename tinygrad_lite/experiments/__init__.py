"""The experiments of CS231n lecture 6, once: functions that run one and return its numbers.

Each module is one part of the lecture. Its functions build the data and models, train, measure
and return the results (dataclasses, dicts and numpy arrays); they never print, plot or write
files, and they import nothing but numpy and tinygrad_lite. ``examples/*.py`` call them and
print and plot; ``tinygrad-lite report`` (``tinygrad_lite.report``) calls the same functions and
lays their results out on one page, so the two cannot drift apart.

    common          the digits split, minibatch SGD over a model, accuracy, one BLAS thread
    neuron          backprop through one sigmoid neuron, edge by edge
    activations     local gradients of each activation; the zig-zag of all-positive inputs
    dead_relu       a too-high learning rate kills ReLU units; dead units get no gradient
    preprocessing   zero-centring, normalization, PCA and whitening of a 2-D cloud
    weight_init     activation statistics of a 10-layer net per initialization scheme
    batch_norm      a bad init trains with batch norm; the learning-rate range; train vs eval
    babysitting     the checklist before a long run: initial loss, reg, overfit, lr probe
    search          random against grid search, coarse to fine, edge warnings
    monitoring      loss, train/val gap, update-to-weight ratios and the Monitor's warnings

Every function takes its sizes (and usually its data) as arguments, with fixed seeds inside, so
a caller chooses quick or full runs and gets the same numbers every time.
"""
