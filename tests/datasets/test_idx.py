import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skfashion.datasets import load_idx, save_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("suffix", [".gz", ""])
def test_round_trip_every_type(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    path = tmp_path / f"a-idx3{suffix}"
    save_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    loaded = load_idx(path)
    assert loaded.dtype == np.dtype(dtype)
    assert loaded.dtype.isnative
    assert loaded.flags.writeable
    np.testing.assert_array_equal(loaded, array)


def test_gzip_detected_by_content_not_name(tmp_path):
    path = tmp_path / "plain-name"
    save_idx(path, np.arange(6, dtype=np.int16), compress=True)
    np.testing.assert_array_equal(load_idx(path), np.arange(6))


def test_big_endian_on_disk(tmp_path):
    path = tmp_path / "x.idx"
    save_idx(path, np.array([1, 256], dtype=np.int32))
    assert path.read_bytes() == (
        b"\x00\x00\x0c\x01" + struct.pack(">I", 2) + struct.pack(">2i", 1, 256)
    )


def test_multi_member_gzip(tmp_path):
    content = b"\x00\x00\x08\x01" + struct.pack(">I", 4) + bytes([1, 2, 3, 4])
    path = tmp_path / "m.gz"
    path.write_bytes(gzip.compress(content[:6]) + gzip.compress(content[6:]))
    np.testing.assert_array_equal(load_idx(path), [1, 2, 3, 4])


def _write(path, content, gz):
    path.write_bytes(gzip.compress(content) if gz else content)
    return path


GOOD = b"\x00\x00\x08\x02" + struct.pack(">2I", 2, 3) + bytes(range(6))


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize(
    "content, exc, match",
    [
        (b"", ValueError, "too short"),
        (b"\x00\x00", ValueError, "too short"),
        (b"\x12\x34\x08\x01" + GOOD[4:], ValueError, "bad magic number"),
        (b"\x00\x00\x07\x02" + GOOD[4:], ValueError, "bad magic number"),
        (b"\x00\x00\x08\x00", ValueError, "0 dimensions"),
        (b"\x00\x00\x08\x03" + GOOD[4:8], ValueError, "truncated IDX header"),
        (GOOD[:-1], ValueError, "size does not match"),
        (GOOD + b"\x00", ValueError, "size does not match"),
        (
            b"\x00\x00\x08\x02" + struct.pack(">2I", 3, 3) + bytes(6),
            ValueError,
            "size does not match",
        ),
    ],
)
def test_broken_files_raise_clear_errors(tmp_path, gz, content, exc, match):
    path = _write(tmp_path / "bad.idx", content, gz)
    with pytest.raises(exc, match=match) as info:
        load_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(GOOD + bytes(5000))[:-30])
    with pytest.raises((OSError, ValueError), match="t.gz"):
        load_idx(path)


def test_corrupt_gzip(tmp_path):
    data = bytearray(gzip.compress(GOOD))
    data[12:20] = b"\xff" * 8
    path = tmp_path / "c.gz"
    path.write_bytes(bytes(data))
    with pytest.raises((OSError, ValueError), match="c.gz"):
        load_idx(path)


def test_absurd_header_rejected_before_allocating(tmp_path):
    # claims 2**32-1 x 2**32-1 x 255 elements, ~4e21 bytes
    header = b"\x00\x00\x0e\x03" + struct.pack(">3I", 2**32 - 1, 2**32 - 1, 255)
    path = _write(tmp_path / "bomb.gz", header + bytes(100), gz=True)
    with pytest.raises(ValueError, match="cannot hold"):
        load_idx(path)
    raw = _write(tmp_path / "bomb.idx", header + bytes(100), gz=False)
    with pytest.raises(ValueError, match="size does not match"):
        load_idx(raw)


def test_decompression_stops_at_declared_size(tmp_path):
    # a small header followed by a lot of highly compressible data
    path = _write(tmp_path / "z.gz", GOOD + bytes(10_000_000), gz=True)
    with pytest.raises(ValueError, match="size does not match"):
        load_idx(path)


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(OSError):
        load_idx(tmp_path)
    with pytest.raises(OSError):
        load_idx(tmp_path / "nope.idx")


def test_save_rejects_unsupported(tmp_path):
    with pytest.raises(ValueError, match="cannot store dtype"):
        save_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="dimensions"):
        save_idx(tmp_path / "x", np.float32(1.0))
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=60, deadline=None)
@given(
    array=hnp.arrays(
        dtype=st.sampled_from(DTYPES),
        shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6),
    ),
    gz=st.booleans(),
)
def test_property_round_trip(tmp_path_factory, array, gz):
    path = tmp_path_factory.mktemp("rt") / ("a.gz" if gz else "a")
    save_idx(path, array)
    np.testing.assert_array_equal(load_idx(path), array)


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=64), gz=st.booleans(), prefix=st.booleans())
def test_property_random_bytes_load_or_raise_cleanly(
    tmp_path_factory, content, gz, prefix
):
    if prefix:  # make a plausible header more likely
        content = b"\x00\x00" + content
    path = tmp_path_factory.mktemp("fz") / "f"
    path.write_bytes(gzip.compress(content) if gz else content)
    try:
        array = load_idx(path)
    except (ValueError, OSError):
        return
    assert isinstance(array, np.ndarray)
