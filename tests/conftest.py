"""Shared pytest setup: bounded hypothesis profiles so the whole suite fits in a few minutes.

HYPOTHESIS_PROFILE=ci (the default) keeps examples few and deadlines off, since 2-core CI
machines time unevenly; HYPOTHESIS_PROFILE=thorough runs many more examples locally.
"""
import os

try:  # plots render off-screen in tests
    import matplotlib

    matplotlib.use("Agg")
except ImportError:  # the viz extra is not installed
    pass

from hypothesis import HealthCheck, settings

try:  # one BLAS thread: small matrices on a shared 2-core machine run 4-5x faster this way
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:
    pass

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
