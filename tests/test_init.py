"""Tests for tinygrad_lite.init: fans, the std of each recipe, seeding, and error messages."""
import math

import numpy as np
import pytest

from tinygrad_lite import init

# ---------------------------------------------------------------- fans

@pytest.mark.parametrize(
    "shape, expected",
    [
        (7, (7, 7)),
        ((7,), (7, 7)),
        ((300, 100), (300, 100)),          # (in, out): used as x @ W
        ((16, 3, 5, 5), (3 * 25, 16 * 25)),  # (F, C, kh, kw)
        ((8, 4, 3, 1), (4 * 3, 8 * 3)),
        ((6, 2, 3), (2 * 3, 6 * 3)),      # a 1-D conv weight (F, C, k)
    ],
)
def test_fans(shape, expected):
    assert init.fans(shape) == expected


def test_fans_accepts_numpy_ints():
    assert init.fans((np.int64(4), np.int32(5))) == (4, 5)


# ---------------------------------------------------------------- std of large draws

def _expected_std(name, shape):
    fan_in, fan_out = init.fans(shape)
    return {
        "xavier": 1 / math.sqrt(fan_in),
        "glorot": math.sqrt(2 / (fan_in + fan_out)),
        "he": math.sqrt(2 / fan_in),
        "normal": 0.01,
    }[name]


@pytest.mark.parametrize("name", ["xavier", "glorot", "he", "normal"])
@pytest.mark.parametrize("shape", [(512, 256), (64, 32, 3, 3), (40000,)])
def test_std_matches_formula(name, shape):
    W = getattr(init, name)(shape, rng=np.random.default_rng(1))
    assert W.shape == shape
    assert W.dtype == np.float64
    expected = _expected_std(name, shape)
    assert abs(W.std() / expected - 1) < 0.03
    assert abs(W.mean()) < 0.03 * expected


def test_formulas_differ_as_documented():
    # (in, out) = (400, 100): xavier uses fan_in only, glorot both, he doubles xavier's variance
    shape = (400, 100)
    rng = np.random.default_rng(0)
    sx = init.xavier(shape, rng=rng).std()
    sg = init.glorot(shape, rng=rng).std()
    sh = init.he(shape, rng=rng).std()
    assert sx == pytest.approx(0.05, rel=0.03)
    assert sg == pytest.approx(math.sqrt(2 / 500), rel=0.03)
    assert sh == pytest.approx(math.sqrt(2) * 0.05, rel=0.03)


def test_normal_custom_std():
    W = init.normal((200, 200), std=0.5, rng=np.random.default_rng(3))
    assert W.std() == pytest.approx(0.5, rel=0.03)


def test_zeros():
    Z = init.zeros((3, 4))
    assert Z.shape == (3, 4) and Z.dtype == np.float64 and not Z.any()
    assert init.zeros(5).shape == (5,)


def test_int_shape_and_dtype_keyword():
    W = init.he(10, rng=np.random.default_rng(0), dtype=np.float32)
    assert W.shape == (10,) and W.dtype == np.float32
    assert init.zeros((2, 2), dtype=np.float32).dtype == np.float32


def test_float32_draw_equals_float64_draw_cast():
    a = init.xavier((5, 4), rng=np.random.default_rng(9))
    b = init.xavier((5, 4), rng=np.random.default_rng(9), dtype=np.float32)
    np.testing.assert_array_equal(a.astype(np.float32), b)


# ---------------------------------------------------------------- seeding

@pytest.mark.parametrize("name", ["xavier", "glorot", "he", "normal"])
def test_seeded_reproducibility(name):
    fn = getattr(init, name)
    a = fn((20, 30), rng=np.random.default_rng(42))
    b = fn((20, 30), rng=np.random.default_rng(42))
    c = fn((20, 30), rng=np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_int_seed_accepted():
    np.testing.assert_array_equal(init.he((3, 3), rng=5),
                                  init.he((3, 3), rng=np.random.default_rng(5)))


def test_shared_generator_advances():
    rng = np.random.default_rng(0)
    assert not np.array_equal(init.he((4, 4), rng=rng), init.he((4, 4), rng=rng))


def test_unseeded_default_works():
    assert init.xavier((3, 2)).shape == (3, 2)


# ---------------------------------------------------------------- get

@pytest.mark.parametrize("name", ["xavier", "glorot", "he", "normal", "zeros"])
def test_get_names_called_with_rng(name):
    fn = init.get(name)
    W = fn((6, 5), rng=np.random.default_rng(0))
    assert W.shape == (6, 5) and W.dtype == np.float64


def test_get_matches_module_functions():
    assert init.get("he") is init.he
    assert init.get("Xavier") is init.xavier


def test_get_callable_passthrough():
    def my_init(shape, rng=None):
        return np.full(shape, 0.5)

    assert init.get(my_init) is my_init


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown initialisation "
                                         r"'kaiming'.*'xavier'.*'glorot'.*'he'.*'normal'.*'zeros'"):
        init.get("kaiming")


def test_get_rejects_non_callable():
    with pytest.raises(ValueError, match=r"init.get: expected a name or a callable, got "
                                         r"int.*'xavier'"):
        init.get(3)


# ---------------------------------------------------------------- bad shapes and arguments

@pytest.mark.parametrize("name", ["xavier", "glorot", "he", "normal", "zeros"])
def test_zero_dim_rejected_naming_function_and_shape(name):
    with pytest.raises(ValueError, match=rf"{name}: shape \(3, 0\) has a zero or negative entry"):
        getattr(init, name)((3, 0))


def test_negative_dim_rejected():
    with pytest.raises(ValueError, match=r"he: shape \(-2, 4\) has a zero or negative entry"):
        init.he((-2, 4))
    with pytest.raises(ValueError, match=r"fans: shape \(0,\)"):
        init.fans(0)


def test_non_int_shape_rejected():
    with pytest.raises(TypeError, match=r"xavier: shape entries must be ints, got float"):
        init.xavier((2.5, 3))
    with pytest.raises(TypeError, match=r"glorot: shape must be an int or a tuple of ints"):
        init.glorot(None)


def test_bad_rng_rejected():
    with pytest.raises(TypeError, match=r"he: rng must be a numpy.random.Generator"):
        init.he((2, 2), rng="seed")


def test_bad_dtype_and_std_rejected():
    with pytest.raises(TypeError, match=r"xavier: dtype must be a float dtype, got int64"):
        init.xavier((2, 2), dtype=np.int64)
    with pytest.raises(ValueError, match=r"normal: std must be finite and >= 0"):
        init.normal((2, 2), std=-1.0)
