"""What the PyTorch networks share: batch augmentation."""

import torch


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
