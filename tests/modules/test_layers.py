"""What the PyTorch networks share: batch augmentation."""
import functools
import io
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from cases import MAKERS, NAMES, tiny_cnn, tiny_mlp
from cases import make as make_case
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import classification_report, confusion_matrix
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from skorch.callbacks import EarlyStopping

from skfashion import CLASS_NAMES, FashionCNN, FashionMLP, PixelScaler
from skfashion.callbacks import dense_kernels
from skfashion.utils import bf16_supported, resolve_precision


def test_augment_batch_shapes_and_content():
    from skfashion.modules import augment_batch

    x = torch.arange(2 * 36, dtype=torch.float32).reshape(2, 1, 6, 6)
    same = augment_batch(x, flip=False, crop_padding=0)
    assert torch.equal(same, x)
    out = augment_batch(x, flip=True, crop_padding=2, erase_prob=1.0)
    assert out.shape == x.shape
    # every value comes from the image, the padding (0) or the erasing (0)
    assert set(out.unique().tolist()) <= set(x.unique().tolist()) | {0.0}
    row = torch.arange(8, dtype=torch.float32).reshape(1, 1, 1, 8)
    shifted = augment_batch(row, flip=False, crop_padding=2)
    assert shifted.shape == row.shape and shifted.max() > 0  # not shifted away
