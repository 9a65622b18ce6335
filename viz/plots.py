"""Training plots (stub, filled below)."""
def activation_histograms(*a, **k): raise NotImplementedError
loss_curve = accuracy_plot = update_ratio_plot = grad_norm_plot = hyperparam_scatter = activation_histograms
