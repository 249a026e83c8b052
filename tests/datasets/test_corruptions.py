"""Fashion-MNIST-C, regenerated: each corruption does what its source's
definition does, the same seed gives the same images, bad input is refused."""

import math

import numpy as np
import pytest

from skfashion.datasets import CORRUPTIONS, corrupt_images, make_fashion_mnist_c

#: drawn at random (noise, a direction or a sign); the others are fixed maps
RANDOM = {"shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "rotate"}
#: one strength whatever the severity
SINGLE = {"inverse", "flip_left_right", "flip_up_down", "turn_left", "turn_right"}


@pytest.fixture(scope="module")
def garments(fashion_test):
    return fashion_test.data[:40]


@pytest.mark.parametrize("corruption", CORRUPTIONS)
@pytest.mark.parametrize("severity", [1, 5])
def test_every_corruption_changes_images_and_keeps_their_form(
    garments, corruption, severity
):
    out, names, levels = corrupt_images(
        garments, corruption, severity=severity, random_state=0
    )
    assert out.shape == garments.shape and out.dtype == np.uint8
    assert list(names) == [corruption] * len(garments)
    assert levels.tolist() == [severity] * len(garments)
    changed = (out != garments).any(axis=1)
    assert changed.all(), f"{(~changed).sum()} images unchanged"
    images = corrupt_images(
        garments.reshape(-1, 28, 28), corruption, severity=severity, random_state=0
    )[0]
    np.testing.assert_array_equal(images.reshape(out.shape), out)


def test_the_exact_maps(garments):
    images = garments.reshape(-1, 28, 28)

    def run(name, severity=3):
        return corrupt_images(images, name, severity=severity, random_state=0)[0]

    np.testing.assert_array_equal(run("inverse"), 255 - images)
    np.testing.assert_array_equal(run("flip_left_right"), images[:, :, ::-1])
    np.testing.assert_array_equal(run("flip_up_down"), images[:, ::-1])
    np.testing.assert_array_equal(run("turn_left"), np.rot90(images, 1, axes=(1, 2)))
    np.testing.assert_array_equal(run("turn_right"), np.rot90(images, 3, axes=(1, 2)))
    # brightness adds to the value; a gray pixel's value is the pixel
    expected = np.rint(np.clip(images / 255 + 0.5, 0, 1) * 255)
    np.testing.assert_array_equal(run("brightness", 5), expected)
    # contrast pulls every pixel towards the image's mean
    out = run("contrast", 5).astype(float)
    means = images.mean(axis=(1, 2), keepdims=True)
    assert (np.abs(out - means) <= np.abs(images - means) + 0.5).all()


def test_scale_shrinks_about_the_centre():
    """MNIST-C's scale: the inverse map enlarges (1 / 0.5 at severity 5),
    so a garment shrinks to half its side, about the centre."""
    square = np.zeros((1, 28, 28), dtype=np.uint8)
    square[0, 4:24, 4:24] = 255
    out = corrupt_images(square, "scale", severity=5, random_state=0)[0][0]
    rows, cols = np.nonzero(out > 127)
    assert len(rows) == pytest.approx(100, abs=20)  # 10 x 10 of 20 x 20
    assert (rows.mean(), cols.mean()) == pytest.approx((13.5, 13.5), abs=0.6)


@pytest.mark.parametrize(
    "corruption", ["contrast", "scale", "impulse_noise", "shot_noise"]
)
def test_a_higher_severity_changes_more(garments, corruption):
    change = [
        np.abs(
            corrupt_images(garments, corruption, severity=s, random_state=0)[0].astype(
                int
            )
            - garments
        ).mean()
        for s in (1, 2, 3, 4, 5)
    ]
    assert change == sorted(change), change


def test_the_same_seed_gives_the_same_images_whatever_the_others(garments):
    a = corrupt_images(garments, random_state=7)
    b = corrupt_images(garments, random_state=7)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    # an image's corruption does not depend on the images after it
    first = corrupt_images(garments[:5], random_state=7)
    for x, y in zip(first, a, strict=True):
        np.testing.assert_array_equal(x, y[:5])
    other = corrupt_images(garments, random_state=8)
    assert not np.array_equal(other[0], a[0])
    np.random.seed(1)  # the global generator plays no part
    np.testing.assert_array_equal(corrupt_images(garments, random_state=7)[0], a[0])


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_only_the_random_corruptions_depend_on_the_seed(garments, corruption):
    a = corrupt_images(garments, corruption, severity=3, random_state=0)[0]
    b = corrupt_images(garments, corruption, severity=3, random_state=1)[0]
    assert np.array_equal(a, b) == (corruption not in RANDOM)


def test_mixed_draws_every_corruption_and_severity(garments):
    X = np.resize(garments, (600, 784))
    out, names, levels = corrupt_images(X, random_state=0)
    counts = {name: int((names == name).sum()) for name in CORRUPTIONS}
    assert min(counts.values()) >= 20, counts  # 40 each expected
    assert sorted(set(levels.tolist())) == [1, 2, 3, 4, 5]
    # a fixed severity with random corruptions
    _, other_names, levels = corrupt_images(X[:50], severity=2, random_state=0)
    assert set(levels.tolist()) == {2} and len(set(other_names)) > 5
    # each image is what its corruption makes of it (checked where that
    # draws nothing: the same whatever the generator)
    exact = np.flatnonzero(np.isin(names, sorted(SINGLE)))
    assert len(exact) > 100
    for i in exact:
        single = corrupt_images(X[i : i + 1], names[i], random_state=99)[0]
        np.testing.assert_array_equal(single[0], out[i])


def test_pixel_values_as_floats_are_rounded(garments):
    as_float = np.minimum(garments + 0.2, 255.0)
    a = corrupt_images(as_float, "inverse", random_state=0)[0]
    np.testing.assert_array_equal(a, 255 - garments)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"corruption": "fog"}, "corruption must be 'mixed' or one of"),
        ({"severity": 0}, "severity must be 1, 2, 3, 4, 5 or None"),
        ({"severity": 6}, "severity must be"),
        ({"severity": True}, "severity must be"),
        ({"random_state": -1}, "random_state must be non-negative"),
        ({"random_state": "x"}, "random_state must be an int"),
    ],
)
def test_bad_arguments_are_named(garments, kwargs, message):
    with pytest.raises(ValueError, match=message):
        corrupt_images(garments, **kwargs)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros((2, 783)), "28x28 images"),
        (np.zeros((2, 28, 27)), "28x28 images"),
        (np.full((2, 784), 256.0), "from 0 to 255"),
        (np.full((2, 784), np.nan), "from 0 to 255"),
        (np.full((2, 784), "a"), "pixel values 0-255"),
    ],
)
def test_bad_images_are_named(X, message):
    with pytest.raises(ValueError, match=message):
        corrupt_images(X, random_state=0)


def test_make_fashion_mnist_c_is_the_test_set_corrupted(fashion_test):
    shifted = make_fashion_mnist_c(n_samples=60, random_state=3)
    np.testing.assert_array_equal(shifted.target, fashion_test.target[:60])
    again = corrupt_images(fashion_test.data[:60], random_state=3)
    np.testing.assert_array_equal(shifted.data, again[0])
    np.testing.assert_array_equal(shifted.corruption, again[1])
    np.testing.assert_array_equal(shifted.severity, again[2])
    assert np.shares_memory(shifted.data, shifted.images)
    assert "Fashion-MNIST-C" in shifted.DESCR and "seed 3" in shifted.DESCR
    X, y = make_fashion_mnist_c(
        corruption="rotate", severity=4, n_samples=10, return_X_y=True
    )
    assert X.shape == (10, 784) and y.shape == (10,)
    with pytest.raises(ValueError, match="n_samples must be a positive int"):
        make_fashion_mnist_c(n_samples=0)


def test_rotation_angles_are_the_sources(garments):
    """MNIST-C's rotate: 0.2 to 1 radian, one way or the other."""
    square = np.zeros((1, 28, 28), dtype=np.uint8)
    square[0, 9:19, 4:24] = 255  # a bar, wider than tall
    out = corrupt_images(square, "rotate", severity=5, random_state=0)[0][0]
    rows, cols = np.nonzero(out > 127)
    angle = 0.5 * math.atan2(
        2 * np.cov(cols, rows)[0, 1], np.var(cols, ddof=1) - np.var(rows, ddof=1)
    )
    assert abs(angle) == pytest.approx(1.0, abs=0.1)
