"""The page of ``skfashion serve`` in a real browser (Debian's chromium,
driven by Selenium): choose a photo, read the class the page shows."""

import shutil

import pytest
from PIL import Image

pytest.importorskip("fastapi")
webdriver = pytest.importorskip("selenium.webdriver")

from benchmarks._serving import serving  # noqa: E402
from skfashion import CLASS_NAMES, preprocess_image  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no chromium and chromedriver (apt-get install chromium chromium-driver)",
)


def browser(user_data_dir):
    """Headless chromium that touches no network but localhost."""
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={user_data_dir}",
        "--window-size=1000,900",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def photo(fashion_test, index, path):
    """A test image as a 'photo': dark garment on white, 4x larger."""
    image = Image.fromarray(255 - fashion_test.images[index]).resize((112, 112))
    image.convert("RGB").save(path)
    return path


def test_the_page_classifies_a_chosen_photo(mlp_folder, fashion_test, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    pipe, folder = mlp_folder
    paths = [photo(fashion_test, i, tmp_path / f"photo{i}.jpg") for i in (0, 1)]
    expected = [CLASS_NAMES[pipe.predict(preprocess_image(p)[None])[0]] for p in paths]
    with serving(folder) as (proc, url, _):
        driver = browser(tmp_path / "profile")
        try:
            driver.get(url + "/")
            chooser = driver.find_element(By.ID, "files")
            chooser.send_keys("\n".join(str(p) for p in paths))
            wait = WebDriverWait(driver, 60)
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".result")) == 2)
            wait.until(lambda d: d.find_element(By.ID, "status").text == "")
            shown = [
                (
                    r.find_element(By.CSS_SELECTOR, ".file").text,
                    r.find_element(By.CSS_SELECTOR, ".label").text,
                )
                for r in driver.find_elements(By.CSS_SELECTOR, ".result")
            ]
            bars = driver.find_elements(By.CSS_SELECTOR, ".result .top li")
            view = driver.find_element(By.CSS_SELECTOR, ".result .view")
            loaded = driver.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth", view
            )
            about = driver.find_element(By.ID, "about").is_displayed()
        finally:
            driver.quit()
    assert not about  # the model has no card: no "About this model"
    # in the order chosen
    assert shown == list(zip(["photo0.jpg", "photo1.jpg"], expected, strict=True))
    assert len(bars) == 6  # the top three classes of each
    assert loaded == 28  # the 28x28 picture the model received


def test_the_page_warns_when_a_picture_is_not_a_garment(
    mlp_folder, fashion_train, fashion_test, tmp_path
):
    """A model with a novelty detector and a card: the page shows its
    warning on scikit-learn's sample photo of a temple, not on a garment,
    and "About this model", the card of the model it serves."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from sklearn.datasets import load_sample_image

    from skfashion import save_model
    from skfashion.novelty import NoveltyDetector

    pipe, _ = mlp_folder
    # the tiny model's logits do not tell the temple apart; its features do
    detector = NoveltyDetector(pipe, method="mahalanobis", random_state=0)
    detector.fit(fashion_train.data[:5000])
    folder = tmp_path / "model"
    folder.mkdir()
    hub = pytest.importorskip("huggingface_hub")
    accuracy = pipe.score(fashion_test.data[:1000], fashion_test.target[:1000])
    save_model(
        pipe,
        folder / "model.safetensors",
        detector=detector,
        card={"test_accuracy": accuracy},
    )
    card = hub.ModelCard.load(folder / "README.md")
    garment = photo(fashion_test, 0, tmp_path / "garment.jpg")
    assert detector.predict(preprocess_image(garment)[None])[0] == 1
    temple = tmp_path / "temple.jpg"
    Image.fromarray(load_sample_image("china.jpg")).save(temple)
    with serving(folder) as (proc, url, _):
        driver = browser(tmp_path / "profile")
        try:
            driver.get(url + "/")
            chooser = driver.find_element(By.ID, "files")
            chooser.send_keys(f"{garment}\n{temple}")
            wait = WebDriverWait(driver, 60)
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".result")) == 2)
            shown = [
                (
                    r.find_element(By.CSS_SELECTOR, ".file").text,
                    r.find_element(By.CSS_SELECTOR, ".warning").is_displayed(),
                    r.find_element(By.CSS_SELECTOR, ".warning").text,
                )
                for r in driver.find_elements(By.CSS_SELECTOR, ".result")
            ]
            wait.until(lambda d: d.find_element(By.ID, "about").is_displayed())
            title = driver.find_element(By.ID, "card-title").text
            rows = [
                [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                for row in driver.find_elements(By.CSS_SELECTOR, "#card-results tr")
            ]
            text = driver.execute_script(
                "return document.getElementById('card-text').textContent"
            )
        finally:
            driver.quit()
    assert title == "FashionMLP"
    assert rows == [["accuracy", "Fashion-MNIST (test)", f"{100 * accuracy:.2f} %"]]
    assert text == card.text and "Novelty detector: `mahalanobis`" in text
    assert [(name, visible) for name, visible, _ in shown] == [
        ("garment.jpg", False),
        ("temple.jpg", True),
    ]
    assert shown[1][2].startswith("Not a garment?") and "threshold" in shown[1][2]
