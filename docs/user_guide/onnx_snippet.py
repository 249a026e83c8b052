import sys

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

model, picture = sys.argv[1], sys.argv[2]  # model.onnx photo.jpg
pixels = np.asarray(ImageOps.grayscale(Image.open(picture)).resize((28, 28)))
if pixels.mean() > 127:  # a dark garment on a light background: invert
    pixels = 255 - pixels
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
label, proba = session.run(None, {"input": pixels.reshape(1, 784).astype(np.uint8)})
print(label[0], f"{proba.max():.1%}")
