"""Property-based tests: hostile input either works or raises a clear error.

Every public entry point that takes user data is fuzzed. Each call must
succeed or raise ValueError, TypeError or OSError with a message -- never
crash, hang, or leak a torch/numpy internal error.

The examples are the same on every run (the "ci" profile in conftest.py);
``HYPOTHESIS_PROFILE=explore`` searches wider. An input that once failed is
kept below as an ``@example``.
"""

import io
import zlib
from decimal import Decimal

import numpy as np
import pytest
from cases import NAMES, blobs, make
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from skfashion import (
    ImagePreprocessor,
    PixelScaler,
    load_model,
    preprocess_image,
    save_model,
)

CLEAN_ERRORS = (ValueError, TypeError, OSError)

DTYPES = st.sampled_from(
    [
        np.uint8,
        np.int8,
        np.int16,
        np.int64,
        np.uint64,
        np.float16,
        np.float32,
        np.float64,
        np.bool_,
        np.complex64,
        np.dtype(">f8"),
        np.dtype(">i4"),
    ]
)

# what users put in object arrays: numbers of every size, Decimals, None, text
OBJECTS = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.complex_numbers(max_magnitude=1e3),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)

SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6)


def _arrays(max_dims=4):
    shapes = hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=6)
    numeric = hnp.arrays(
        dtype=DTYPES,
        shape=shapes,
        elements={"allow_nan": True, "allow_infinity": True},
    )
    objects = hnp.arrays(
        dtype=object,
        shape=hnp.array_shapes(min_dims=1, max_dims=max_dims, max_side=4),
        elements=OBJECTS,
    )
    return st.one_of(numeric, objects)


def _expect_clean(call):
    try:
        return call()
    except CLEAN_ERRORS as exc:
        assert str(exc), f"{type(exc).__name__} without a message"
        return None


SLOW = settings(max_examples=max(10, settings.default.max_examples // 3))
HUGE_INT = np.array([[2**70, 3], [4, 5]], dtype=object)


@given(X=_arrays(), max_value=st.sampled_from([255.0, 1.0, 0.0, -1.0, np.nan]))
@example(X=HUGE_INT, max_value=255.0)
@example(X=np.array([[1 + 2j, 3]], dtype=np.complex128), max_value=255.0)
def test_pixel_scaler_fuzz(X, max_value):
    scaler = PixelScaler(max_value=max_value)
    out = _expect_clean(lambda: scaler.fit_transform(X))
    if out is not None:
        assert out.dtype == np.float32 and out.ndim == 2
        assert np.all((out >= 0) & (out <= 1))
        again = _expect_clean(lambda: scaler.transform(X))
        np.testing.assert_array_equal(again, out)


@pytest.fixture(scope="module")
def fitted():
    """Each registry classifier, fitted on 2x2 'images' of 3 classes."""
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(30, 4)).astype(np.float32)
    y = np.arange(30) % 3
    shape = {"mlp": {}, "cnn": {"image_shape": (2, 2)}, "fast": {"image_shape": (2, 2)}}
    tiny = {
        "mlp": {"hidden_units": (4,)},
        "cnn": {"filters": (2,), "kernel_size": 2, "dense_units": (4,)},
        "fast": {"widths": (2,), "crop_padding": 0},
    }
    return [
        make(name, max_epochs=1, **shape[name], **tiny[name]).fit(X, y)
        for name in NAMES
    ]


@given(X=_arrays(max_dims=3))
@example(X=HUGE_INT[:, :1].repeat(4, axis=1))
def test_predict_fuzz(fitted, X):
    for clf in fitted:
        out = _expect_clean(lambda clf=clf: clf.predict_proba(X))
        if out is not None:
            assert out.shape == (len(X), 3)
            assert np.all(np.isfinite(out))


@SLOW
@given(
    X=_arrays(max_dims=3),
    y=st.one_of(
        hnp.arrays(
            dtype=st.sampled_from([np.int64, np.float64, np.str_, np.bool_]),
            shape=st.integers(0, 8),
        ),
        hnp.arrays(object, st.integers(0, 8), elements=st.sampled_from([0, 1, "a"])),
    ),
    weights=st.one_of(
        st.none(),
        hnp.arrays(np.float64, st.integers(0, 8), elements={"allow_nan": True}),
    ),
    name=st.sampled_from(NAMES),
    partial=st.booleans(),
)
def test_fit_fuzz(X, y, weights, name, partial):
    clf = make(name, max_epochs=1, batch_size=4, image_shape=None)
    if name == "mlp":
        clf = make(name, max_epochs=1, batch_size=4)
    method = clf.partial_fit if partial else clf.fit
    _expect_clean(lambda: method(X, y, sample_weight=weights))


@given(data=st.binary(max_size=200))
def test_preprocess_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("img") / "f.png"
    path.write_bytes(data)
    out = _expect_clean(lambda: preprocess_image(path))
    if out is not None:
        assert out.shape == (784,) and out.dtype == np.uint8


@given(image=_arrays(max_dims=3))
@example(image=np.array([[Decimal("Infinity")]], dtype=object))  # OverflowError
@example(image=np.array([[10**400, 1]], dtype=object))
@example(image=np.array([[300, -5]], dtype=np.int64))  # clipped, not wrapped
def test_preprocess_random_arrays(image):
    out = _expect_clean(lambda: preprocess_image(image))
    if out is not None:
        assert out.shape == (784,) and out.dtype == np.uint8


def test_int_images_are_clipped_not_wrapped():
    image = np.zeros((10, 10), np.int64)
    image[2:8, 2:8] = 300  # brighter than white: white, not 300 % 256 = 44
    assert preprocess_image(image).max() == 255


@SLOW
@given(images=st.lists(_arrays(max_dims=3), max_size=3))
def test_image_preprocessor_fuzz(images):
    out = _expect_clean(lambda: ImagePreprocessor().fit_transform(images))
    if out is not None:
        assert out.shape == (len(images), 784) and out.dtype == np.uint8


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    X, y = blobs(n_per_class=5)
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    save_model(make("mlp", max_epochs=1).fit(X, y), path)
    return path.read_bytes()


@given(data=st.binary(max_size=300), cut=st.integers(0, 10_000), flip=st.integers())
def test_load_model_fuzz(tmp_path_factory, model_file, data, cut, flip):
    """Random bytes, and a good file truncated or with one byte changed."""
    folder = tmp_path_factory.mktemp("load")
    mutated = bytearray(model_file[: cut % (len(model_file) + 1)])
    if mutated:
        mutated[flip % len(mutated)] ^= 0xFF
    for i, content in enumerate([data, bytes(mutated)]):
        path = folder / f"{i}.safetensors"
        path.write_bytes(content)
        model = _expect_clean(lambda path=path: load_model(path))
        if model is not None:
            assert hasattr(model, "predict_proba")


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
