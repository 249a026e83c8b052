"""
===========================================
Under shift: corrupted garments, and others
===========================================

A model is scored on clean test images; the pictures it meets are blurred,
turned, noisy -- or not garments at all. Here we regenerate Fashion-MNIST-C
(:func:`~skfashion.datasets.corrupt_images`: its 15 corruptions at five
severities), see what they cost a small model, and fit a
:class:`~skfashion.novelty.NoveltyDetector` that tells garments from
handwritten digits (:func:`~skfashion.datasets.make_not_garments`).
"""

# %%
# The corruptions, from severity 1 to 5
# -------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from skfashion import FashionMLP, PixelScaler, fetch_fashion_mnist
from skfashion.datasets import CORRUPTIONS, corrupt_images, make_not_garments
from skfashion.evaluation import detection_scores
from skfashion.novelty import NoveltyDetector

test = fetch_fashion_mnist(subset="test")
boot = test.data[:1]
fig, axes = plt.subplots(5, 15, figsize=(12, 4.6), layout="constrained")
for col, corruption in enumerate(CORRUPTIONS):
    for row, severity in enumerate(range(1, 6)):
        image = corrupt_images(boot, corruption, severity=severity, random_state=0)[0]
        axes[row, col].imshow(image.reshape(28, 28), cmap="gray", vmin=0, vmax=255)
        axes[row, col].set_axis_off()
    axes[0, col].set_title(corruption.replace("_", "\n"), fontsize=7)
plt.show()

# %%
# What they cost a model
# ----------------------
# A small MLP, trained for two epochs on 10,000 images, on 2,000 test images
# clean and with one random corruption at a random severity each (the mixed
# set, as the published Fashion-MNIST-C).
train = fetch_fashion_mnist(subset="train")
model = make_pipeline(
    PixelScaler(), FashionMLP(max_epochs=2, verbose=0, random_state=0)
).fit(train.data[:10000], train.target[:10000])
X, y = test.data[:2000], test.target[:2000]
shifted, corruptions, _ = corrupt_images(X, random_state=0)
right = model.predict(shifted) == y
print(f"clean: {model.score(X, y):.1%}, mixed Fashion-MNIST-C: {right.mean():.1%}")
for corruption in CORRUPTIONS:
    print(f"  {corruption:16s} {right[corruptions == corruption].mean():.1%}")

# %%
# All of it at once
# -----------------
# :func:`~skfashion.evaluation.evaluate_under_shift` measures what the report's
# "Under shift" section shows: the mixed set and each corruption at each
# severity, calibration there, selective accuracy, and each novelty score
# against each set of images that are not garments.
from skfashion.evaluation import evaluate_under_shift, plot_shift_accuracy

result = evaluate_under_shift(
    model,
    X,
    y,
    train.data[10000:12000],
    train.target[10000:12000],
    n_per_severity=100,
    n_in=1000,
    n_out=500,
)
print(f"mixed: {result.numbers['mixed_accuracy']:.1%}")
plot_shift_accuracy(result)
plt.show()

# %%
# Is it a garment at all?
# -----------------------
# The detector scores how typical an image's penultimate features are
# (Mahalanobis distance to the nearest class mean) and rejects what scores
# below the level that 95 % of held-out training images reach.
detector = NoveltyDetector(model, random_state=0).fit(train.data[:10000])
digits = make_not_garments("digits", n_samples=1000)
inside, outside = detector.score_samples(X), detector.score_samples(digits)
print(detection_scores(inside, outside))
print(
    f"garments accepted: {(detector.predict(X) == 1).mean():.1%}, "
    f"digits accepted: {(detector.predict(digits) == 1).mean():.1%}"
)

fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
bins = np.linspace(min(inside.min(), outside.min()), max(inside.max(), 0), 60)
ax.hist(inside, bins, alpha=0.6, label="Fashion-MNIST test images")
ax.hist(outside, bins, alpha=0.6, label="digits (load_digits, 28x28)")
ax.axvline(detector.offset_, color="k", linestyle="--", label="threshold")
ax.set_xlabel("score (higher: more like a garment)")
ax.legend(fontsize=8)
plt.show()
