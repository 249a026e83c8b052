"""
==============================
Classifying your own picture
==============================

Photos of clothes are usually dark on a light background and not 28x28.
:func:`~skfashion.preprocess_image` converts them the way Fashion-MNIST was
made: grayscale, inverted, cropped, resized so the longest side is 28 pixels
and centered. Here we draw a "photo" of a pair of trousers, convert it, and
classify it with a model in a pipeline that starts with
:class:`~skfashion.ImagePreprocessor`, as ``skfashion predict`` does.
"""

# %%
# A picture: dark trousers on a light background
# -----------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image, ImageDraw
from sklearn.pipeline import make_pipeline

from skfashion import (
    CLASS_NAMES,
    FashionMLP,
    ImagePreprocessor,
    PixelScaler,
    fetch_fashion_mnist,
    preprocess_image,
)

photo = Image.new("RGB", (300, 400), (235, 230, 225))
draw = ImageDraw.Draw(photo)
draw.polygon(
    [(100, 40), (200, 40), (215, 370), (160, 370), (150, 150), (140, 370), (85, 370)],
    fill=(40, 50, 90),
)

pixels = preprocess_image(photo).reshape(28, 28)
fig, (a, b) = plt.subplots(1, 2, figsize=(7, 4), layout="constrained")
a.imshow(photo)
a.set_title("the picture")
b.imshow(pixels, cmap="gray")
b.set_title("preprocessed, 28x28")
for ax in (a, b):
    ax.axis("off")

# %%
# Classify it
# -----------
X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
model = make_pipeline(PixelScaler(), FashionMLP(max_epochs=3, random_state=0))
model.fit(X[:6000], y[:6000])

pictures = make_pipeline(ImagePreprocessor(), *[step for _, step in model.steps])
proba = pictures.predict_proba([photo])[0]
for k in np.argsort(proba)[::-1][:3]:
    print(f"{CLASS_NAMES[k]}: {100 * proba[k]:.1f} %")
