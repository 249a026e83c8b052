"""What a file holds, from its first bytes, without PyTorch: a server of an
ONNX graph never imports it."""

import struct

__all__ = ["is_model_file"]


def is_model_file(path):
    """Whether ``path`` looks like a safetensors file (checks 9 bytes): what
    ``skfashion predict`` reads as a model file rather than a pickle.

    Examples
    --------
    >>> from skfashion.io import is_model_file
    >>> is_model_file("no-such-file.safetensors")
    False
    """
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError:
        return False
    return len(head) == 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] > 1
