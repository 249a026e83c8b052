"""Uploaded pictures -> the pixels a model receives, refusing what is not a
picture or too large a one before decoding it."""

import asyncio
import base64
import concurrent.futures
import contextlib
import io
import time

import numpy as np

from ..preprocessing import preprocess_image
from ._errors import ClientError

__all__ = [
    "FORMATS",
    "MAX_SIDE",
    "PicturePool",
    "SMALL_PICTURE",
    "picture_size",
    "pixels_of_upload",
    "view_png",
]

#: the picture formats accepted (Pillow's names): photos, scans, screenshots
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
#: pixels a picture may hold whatever its file's size: a picture of more
#: must hold at most ``max_pixels_per_byte`` pixels per byte of its file
SMALL_PICTURE = 2**20
#: the longest side accepted (WebP's own limit, above any camera's): a
#: decoder's cost grows with the rows as well as the pixels, and a 48 KB PNG
#: of 1 x 25,000,000 pixels took seconds to decode
MAX_SIDE = 16384


@contextlib.contextmanager
def _opened(data, name):
    """The picture, opened: its header read, nothing decoded yet."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ClientError(400, f"{name}: the file is empty")
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            yield image
    except UnidentifiedImageError:
        raise ClientError(
            415, f"{name}: not a picture (accepted: {', '.join(FORMATS)})"
        ) from None
    except Image.DecompressionBombError as exc:
        raise ClientError(413, f"{name}: refused, too large an image ({exc})") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ClientError(400, f"{name}: not a readable picture ({exc})") from None


def picture_size(data, *, name, max_pixels):
    """``(width, height)`` of an uploaded picture, from its header alone;
    a :class:`ClientError` if it is not a picture, or over ``max_pixels``
    pixels or :data:`MAX_SIDE` a side (a decompression bomb, refused
    unread)."""
    with _opened(data, name) as image:
        return _checked_size(image, name, max_pixels)


def _checked_size(image, name, max_pixels):
    width, height = image.size
    if max(width, height) > MAX_SIDE:
        raise ClientError(
            413,
            f"{name}: {width}x{height} pixels has a side over the limit of "
            f"{MAX_SIDE:,} pixels",
        )
    if width * height > max_pixels:
        raise ClientError(
            413,
            f"{name}: {width}x{height} pixels is over the limit of "
            f"{max_pixels:,} pixels",
        )
    return width, height


def _check_density(data, name, width, height, max_pixels_per_byte):
    """Refuse a picture whose pixels are out of proportion to its bytes.

    Decoding costs memory by the pixel (a 25 Mpx WebP ~400 MB, whatever its
    file's size), so past :data:`SMALL_PICTURE` a picture may hold at most
    ``max_pixels_per_byte`` pixels per byte of its file: what a 1 KB file
    can cost is bounded by its size. Photos hold a few pixels a byte."""
    pixels = width * height
    if pixels > max(SMALL_PICTURE, max_pixels_per_byte * len(data)):
        raise ClientError(
            413,
            f"{name}: {width}x{height} pixels in {len(data):,} bytes is over "
            f"the limit of {max_pixels_per_byte:,} pixels a byte for a picture "
            f"of more than {SMALL_PICTURE:,} pixels (a decompression bomb?); "
            "send it smaller or less compressed",
        )


def _decode(data, name, max_pixels, max_pixels_per_byte=None):
    from PIL import ImageOps

    with _opened(data, name) as image:
        width, height = _checked_size(image, name, max_pixels)  # the header
        if max_pixels_per_byte is not None:
            _check_density(data, name, width, height, max_pixels_per_byte)
        image.load()
        return ImageOps.exif_transpose(image)


def pixels_of_upload(data, *, name, side, max_pixels, max_pixels_per_byte=None):
    """The pixels (``side`` * ``side``, uint8) of an uploaded picture, made
    the way :func:`skfashion.preprocess_image` makes them.

    Raises :class:`ClientError` for an empty file (400), something that is
    not a picture (415), a truncated or corrupt one (400), or one of more
    than ``max_pixels`` pixels, a side over :data:`MAX_SIDE`, or (over
    :data:`SMALL_PICTURE` pixels) more than ``max_pixels_per_byte`` pixels
    per byte of ``data`` (413, judged from its header, before any
    decoding). Its cost: a few bytes and nanoseconds a pixel, whatever the
    picture's shape.
    """
    image = _decode(data, name, max_pixels, max_pixels_per_byte)
    try:
        return preprocess_image(image, size=side)
    except (ValueError, OSError) as exc:  # a mode Pillow cannot convert
        raise ClientError(400, f"{name}: not a usable picture ({exc})") from None


class PicturePool:
    """Decode the pictures of requests in a few threads, within a deadline.

    Decoding takes the CPU (Pillow releases the GIL), so at most
    ``workers`` pictures are decoded at once, whatever the number of
    requests; at most ``max_waiting`` requests wait for a thread (more are
    refused with 503 at once), and a request's pictures must be decoded
    within ``timeout`` seconds of its arrival, waiting included: a request
    still waiting then is refused with 503 (the server is busy), one whose
    pictures took that long with 413 before its next picture. A picture's
    own cost is bounded by ``max_pixels``, :data:`MAX_SIDE` and
    ``max_pixels_per_byte``.

    Parameters
    ----------
    workers : int
        Threads decoding pictures.
    max_waiting : int
        Requests that may wait for a thread.
    timeout : float
        Seconds a request's pictures may take, from its arrival.
    """

    def __init__(self, workers, max_waiting, timeout):
        self.workers = workers
        self.max_waiting = max_waiting
        self.timeout = timeout
        self._executor = None
        self._queued = 0

    def start(self):
        self._executor = concurrent.futures.ThreadPoolExecutor(
            self.workers, thread_name_prefix="skfashion-pictures"
        )

    def stop(self):
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    async def decode(
        self,
        uploads,
        *,
        side,
        max_pixels,
        max_request_pixels=None,
        max_pixels_per_byte=None,
    ):
        """``(name, bytes)`` pairs -> the pixel rows and their views.

        Every picture's size is read from its header first: a request
        whose pictures hold over ``max_request_pixels`` pixels together is
        refused (413) before any is decoded. Each picture is then checked
        and decoded by :func:`pixels_of_upload`."""
        if self._queued >= self.max_waiting + self.workers:
            raise ClientError(
                503,
                f"the server is busy: {self._queued} requests' pictures are "
                "being decoded; try again in a moment",
                {"Retry-After": "1"},
            )
        deadline = time.monotonic() + self.timeout
        self._queued += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._executor,
                self._decode_all,
                uploads,
                side,
                (max_pixels, max_request_pixels, max_pixels_per_byte),
                deadline,
            )
        finally:
            self._queued -= 1

    def _decode_all(self, uploads, side, budget, deadline):
        max_pixels, max_request_pixels, per_byte = budget
        if time.monotonic() > deadline:
            raise ClientError(
                503,
                f"the server is busy: the pictures waited over {self.timeout:g} s "
                "to be decoded; try again in a moment",
                {"Retry-After": "1"},
            )
        if max_request_pixels is not None:
            _check_request_pixels(uploads, max_pixels, max_request_pixels)
        rows = []
        for name, data in uploads:
            if time.monotonic() > deadline:
                raise ClientError(
                    413,
                    f"{name}: the pictures before it took over {self.timeout:g} s "
                    "to decode; send fewer or smaller pictures",
                )
            rows.append(
                pixels_of_upload(
                    data,
                    name=name,
                    side=side,
                    max_pixels=max_pixels,
                    max_pixels_per_byte=per_byte,
                )
            )
        return np.stack(rows), [view_png(row, side) for row in rows]


def _check_request_pixels(uploads, max_pixels, max_request_pixels):
    total = 0
    for name, data in uploads:
        width, height = picture_size(data, name=name, max_pixels=max_pixels)
        total += width * height
    if total > max_request_pixels:
        raise ClientError(
            413,
            f"the {len(uploads)} pictures hold {total:,} pixels together, over "
            f"the limit of {max_request_pixels:,} a request; send fewer or "
            "smaller pictures",
        )


def view_png(pixels, side):
    """The pixels as a PNG data URL: the picture the model receives."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, np.uint8).reshape(side, side)).save(
        buffer, format="PNG"
    )
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
