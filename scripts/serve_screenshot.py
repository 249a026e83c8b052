"""The docs' screenshot of ``skfashion serve``'s page, taken the way the
browser test drives it (Debian's chromium, Selenium).

    python scripts/serve_screenshot.py [--model report/mlp]

Without ``--model`` it trains a FashionMLP for a minute. Photos: three
Fashion-MNIST test images made to look like product photos (dark garment
on white, 8x larger). Writes docs/images/serve.png.
"""

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from PIL import Image  # noqa: E402
from test_serve_browser import browser  # noqa: E402

from benchmarks._serving import serving  # noqa: E402
from skfashion import fetch_fashion_mnist  # noqa: E402


def _model(folder):
    from sklearn.pipeline import make_pipeline

    from skfashion import FashionMLP, PixelScaler, save_model

    data = fetch_fashion_mnist(subset="train")
    model = make_pipeline(PixelScaler(), FashionMLP(max_epochs=5, random_state=0))
    model.fit(data.data, data.target)
    save_model(model, folder / "model.safetensors")
    return folder


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a model file or folder (default: train)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "images" / "serve.png"))
    args = parser.parse_args()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    test = fetch_fashion_mnist(subset="test")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = args.model or _model(tmp)
        photos = []
        for name, index in (("sneaker.jpg", 9), ("coat.jpg", 6), ("bag.jpg", 18)):
            image = Image.fromarray(255 - test.images[index]).resize((224, 224))
            image.convert("RGB").save(tmp / name, quality=92)
            photos.append(str(tmp / name))
        with serving(model) as (_, url, _):
            driver = browser(tmp / "profile")
            try:
                driver.set_window_size(900, 1150)
                driver.get(url + "/")
                driver.find_element(By.ID, "files").send_keys("\n".join(photos))
                WebDriverWait(driver, 60).until(
                    lambda d: len(d.find_elements(By.CSS_SELECTOR, ".result")) == 3
                )
                driver.save_screenshot(args.out)
            finally:
                driver.quit()
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
