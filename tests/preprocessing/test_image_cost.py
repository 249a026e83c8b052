"""What a picture costs to prepare is bounded by its pixels, whatever its
shape: a picture much wider than tall once took seconds and gigabytes in
Lanczos' weights, a transparent one three full-size RGBA copies. Measured in
a fresh process (the peak of its resident memory), on pictures built there."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from skfashion import preprocess_image

_MEASURE = """
import resource, sys
import numpy as np
from PIL import Image
from skfashion import preprocess_image

if sys.argv[1] == "one row":  # 25,000,000 pixels, a garment all along
    row = np.tile(np.array([0, 0, 0, 255], np.uint8), 6_250_000)
    image = Image.frombytes("L", (row.size, 1), row.tobytes())
    del row
else:  # 16 Mpx, transparent around a dark square
    image = Image.new("RGBA", (4000, 4000), (0, 0, 0, 0))
    image.paste((20, 20, 20, 255), (1000, 1000, 3000, 3000))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
pixels = preprocess_image(image)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert pixels.shape == (784,) and pixels.max() > 30
print((after - before) / 1024)  # KiB -> MiB
"""


def _peak_mb(case):
    """The memory preparing the picture took beyond the picture, in MiB."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, case],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout)


@pytest.mark.parametrize(
    "case, limit_mb",
    [
        # 1,479 MB before (Lanczos' weights); now a few uint8 copies and
        # masks of 25 MB each: 96 MB (AVX2-only AMD EPYC)
        ("one row", 150),
        # 214 MB before (three RGBA copies, float32); now strips and uint8
        # copies: 46 MB
        ("transparent", 100),
    ],
)
def test_a_picture_costs_a_few_bytes_per_pixel_whatever_its_shape(case, limit_mb):
    assert _peak_mb(case) < limit_mb


@pytest.mark.parametrize("size", [(20_000, 30), (30, 20_000)])
def test_a_very_long_side_still_fills_the_image(size):
    """Past 14,336 pixels a side takes the box-reducing path (its cost is the
    memory test's); what it gives is still the garment along the whole
    longest side of the 28x28 image."""
    image = np.zeros(size[::-1], np.uint8)  # rows, columns
    long_axis = int(np.argmax(image.shape))
    index = [slice(None), slice(None)]
    index[1 - long_axis] = slice(10, 20)
    image[tuple(index)] = 200  # a bar along the long side
    pixels = preprocess_image(Image.fromarray(image)).reshape(28, 28)
    lit = np.flatnonzero(pixels.max(axis=1 - long_axis) > 100)
    assert lit[0] == 0 and lit[-1] == 27  # the bar spans the whole side
    assert pixels.max() >= 190
