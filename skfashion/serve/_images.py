"""Uploaded pictures -> the pixels a model receives, refusing what is not a
picture or too large a one before decoding it."""

import base64
import io

import numpy as np

from ..preprocessing import preprocess_image
from ._errors import ClientError

__all__ = ["FORMATS", "pixels_of_upload", "view_png"]

#: the picture formats accepted (Pillow's names): photos, scans, screenshots
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")


def _decode(data, name, max_pixels):
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ClientError(400, f"{name}: the file is empty")
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            # the header tells the size: refuse a decompression bomb unread
            width, height = image.size
            if width * height > max_pixels:
                raise ClientError(
                    413,
                    f"{name}: {width}x{height} pixels is over the limit of "
                    f"{max_pixels:,} pixels",
                )
            image.load()
            return ImageOps.exif_transpose(image)
    except UnidentifiedImageError:
        raise ClientError(
            415, f"{name}: not a picture (accepted: {', '.join(FORMATS)})"
        ) from None
    except Image.DecompressionBombError as exc:
        raise ClientError(413, f"{name}: refused, too large an image ({exc})") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ClientError(400, f"{name}: not a readable picture ({exc})") from None


def pixels_of_upload(data, *, name, side, max_pixels):
    """The pixels (``side`` * ``side``, uint8) of an uploaded picture, made
    the way :func:`skfashion.preprocess_image` makes them.

    Raises :class:`ClientError` for an empty file (400), something that is
    not a picture (415), a truncated or corrupt one (400), or one of more
    than ``max_pixels`` pixels (413, judged from its header, before any
    decoding).
    """
    image = _decode(data, name, max_pixels)
    try:
        return preprocess_image(image, size=side)
    except (ValueError, OSError) as exc:  # a mode Pillow cannot convert
        raise ClientError(400, f"{name}: not a usable picture ({exc})") from None


def view_png(pixels, side):
    """The pixels as a PNG data URL: the picture the model receives."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, np.uint8).reshape(side, side)).save(
        buffer, format="PNG"
    )
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
