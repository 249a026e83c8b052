"""Property-based tests: hostile input either works or raises a clear error.

Each call must succeed or raise ValueError, TypeError or OSError with a
message -- never crash, hang, or leak a torch/numpy internal error.
"""

import io
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from skfashion import FashionCNN, FashionMLP, PixelScaler, preprocess_image

CLEAN_ERRORS = (ValueError, TypeError, OSError)

DTYPES = st.sampled_from(
    [
        np.uint8,
        np.int8,
        np.int16,
        np.int64,
        np.float16,
        np.float32,
        np.float64,
        np.bool_,
        np.complex64,
        np.dtype(">f8"),
        np.dtype(">i4"),
        np.object_,
    ]
)


def _arrays(max_dims=4):
    return hnp.arrays(
        dtype=DTYPES,
        shape=hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=6),
        elements={"allow_nan": True, "allow_infinity": True},
    ).filter(lambda a: a.dtype != np.object_ or a.size < 50)


def _expect_clean(call):
    try:
        return call()
    except CLEAN_ERRORS as exc:
        assert str(exc), f"{type(exc).__name__} without a message"
        return None


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@FUZZ
@given(X=_arrays(), max_value=st.sampled_from([255.0, 1.0, 0.0, -1.0, np.nan]))
def test_pixel_scaler_fuzz(X, max_value):
    scaler = PixelScaler(max_value=max_value)
    out = _expect_clean(lambda: scaler.fit_transform(X))
    if out is not None:
        assert out.dtype == np.float32 and out.ndim == 2
        assert np.all((out >= 0) & (out <= 1))


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(30, 4)).astype(np.float32)
    y = np.arange(30) % 3
    mlp = FashionMLP(hidden_units=(4,), max_epochs=1, random_state=0).fit(X, y)
    cnn = FashionCNN(
        image_shape=(2, 2),
        filters=(2,),
        kernel_size=2,
        dense_units=(4,),
        max_epochs=1,
        random_state=0,
    ).fit(X, y)
    return mlp, cnn


@FUZZ
@given(X=_arrays(max_dims=3))
def test_predict_fuzz(fitted, X):
    for clf in fitted:
        out = _expect_clean(lambda clf=clf: clf.predict_proba(X))
        if out is not None:
            assert out.shape == (len(X), 3)
            assert np.all(np.isfinite(out))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    X=_arrays(max_dims=3),
    y=hnp.arrays(
        dtype=st.sampled_from([np.int64, np.float64, np.str_, np.bool_]),
        shape=st.integers(0, 8),
    ),
)
def test_fit_fuzz(X, y):
    clf = FashionMLP(hidden_units=(2,), max_epochs=1, batch_size=4, random_state=0)
    _expect_clean(lambda: clf.fit(X, y))


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=200))
def test_preprocess_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("img") / "f.png"
    path.write_bytes(data)
    out = _expect_clean(lambda: preprocess_image(path))
    if out is not None:
        assert out.shape == (784,) and out.dtype == np.uint8


@settings(max_examples=100, deadline=None)
@given(image=_arrays(max_dims=3))
def test_preprocess_random_arrays(image):
    out = _expect_clean(lambda: preprocess_image(image))
    if out is not None:
        assert out.shape == (784,) and out.dtype == np.uint8


def test_decompression_bomb_image_is_rejected(tmp_path):
    # a tiny PNG claiming a huge canvas: Pillow's bomb check must trip cleanly
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = (200_000).to_bytes(4, "big") * 2  # IHDR width and height
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")  # valid CRC
    path = tmp_path / "bomb.png"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="too large an image"):
        preprocess_image(path)
