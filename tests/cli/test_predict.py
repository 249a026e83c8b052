import json

import numpy as np
import pytest
from PIL import Image
from sklearn.pipeline import make_pipeline

from skfashion import (
    FashionMLP,
    ImagePreprocessor,
    PixelScaler,
    preprocess_image,
)
from skfashion.cli import main


def test_dark_on_light_photo_is_inverted_and_fitted():
    photo = np.full((200, 100), 240, np.uint8)  # tall, light background
    photo[20:180, 30:70] = 20  # dark garment, 160 x 40
    pixels = preprocess_image(photo).reshape(28, 28)
    assert pixels[0, 0] == 0  # background is black
    rows = np.flatnonzero(pixels.max(1) > 50)
    cols = np.flatnonzero(pixels.max(0) > 50)
    assert rows[0] == 0 and rows[-1] == 27  # longest side spans 28 pixels
    assert 5 <= len(cols) <= 9  # aspect ratio 4:1 kept (28 / 4 = 7)
    assert abs((cols[0] + cols[-1]) / 2 - 13.5) <= 1  # centered


def test_fashion_mnist_image_is_nearly_unchanged(fashion_test):
    # Fashion-MNIST images already are what the preprocessing makes
    corr = [
        np.corrcoef(preprocess_image(image), image.ravel())[0, 1]
        for image in fashion_test.images[:100]
    ]
    assert np.mean(corr) > 0.95


def test_color_transparent_and_float_inputs(tmp_path):
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[10:30, 15:25] = (200, 30, 30, 255)  # opaque red bar, rest transparent
    path = tmp_path / "t.png"
    Image.fromarray(rgba, "RGBA").save(path)
    pixels = preprocess_image(path).reshape(28, 28)
    assert pixels[0, 0] == 0 and pixels[14, 14] > 100
    floats = np.zeros((10, 10))
    floats[2:8, 2:8] = 1.0
    assert preprocess_image(floats).max() > 200


def test_bad_images_raise(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    with pytest.raises(ValueError, match="notes.txt: not a readable image"):
        preprocess_image(text)
    with pytest.raises(ValueError, match="not a readable image"):
        preprocess_image(tmp_path / "missing.png")
    with pytest.raises(TypeError, match="file path, a PIL image or a NumPy array"):
        preprocess_image(42)
    with pytest.raises(ValueError, match="2-D"):
        preprocess_image(np.zeros((2, 2, 2, 2)))
    with pytest.raises(TypeError, match="sequence of pictures"):
        ImagePreprocessor().transform(str(text))


@pytest.fixture(scope="module")
def trained(fashion_train, tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict")
    pipe = make_pipeline(
        PixelScaler(), FashionMLP(max_epochs=2, lr=1e-3, random_state=0)
    )
    pipe.fit(fashion_train.data[:3000], fashion_train.target[:3000])
    import joblib

    joblib.dump(pipe, folder / "model.pkl")
    return pipe, folder


def test_predict_cli_on_png_test_images(trained, fashion_test, capsys):
    pipe, folder = trained
    paths = []
    for i in range(20):
        path = folder / f"img{i}.png"
        Image.fromarray(fashion_test.images[i]).save(path)
        paths.append(str(path))
    bad = folder / "readme.txt"
    bad.write_text("hello")
    code = main(
        [
            "predict",
            "--allow-pickle",
            "--model",
            str(folder / "model.pkl"),
            "--json",
            str(bad),
            *paths,
        ]
    )
    assert code == 1  # one file failed; the others were classified
    captured = capsys.readouterr()
    assert "readme.txt: not a readable image" in captured.err
    # one line for the bad image, one saying that a pickle runs code
    assert captured.err.count("\n") == 2
    assert "model.pkl is a pickle, and loading a pickle runs code" in captured.err
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["image"] for r in lines] == paths
    names = np.array(pipe.classes_)
    from skfashion import CLASS_NAMES

    predicted = [r["predictions"][0]["label"] for r in lines]
    truth = [CLASS_NAMES[t] for t in fashion_test.target[:20]]
    direct = [
        CLASS_NAMES[names[i]]
        for i in pipe.predict_proba(fashion_test.data[:20]).argmax(1)
    ]
    assert np.mean(np.array(predicted) == np.array(truth)) >= 0.7
    assert np.mean(np.array(predicted) == np.array(direct)) >= 0.85
    for r in lines:
        probs = [p["probability"] for p in r["predictions"]]
        assert len(probs) == 3 and probs == sorted(probs, reverse=True)


def test_predict_cli_text_output_and_bad_model(trained, tmp_path, capsys):
    _, folder = trained
    img = tmp_path / "x.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(img)
    pickle = ["predict", "--allow-pickle", "--model"]
    assert main([*pickle, str(folder / "model.pkl"), str(img)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{img}: ") and out.count("%") == 3
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"garbage")
    assert main([*pickle, str(junk), str(img)]) == 2
    assert "junk.pkl: not a readable model file" in capsys.readouterr().err
    assert main([*pickle, str(tmp_path / "none.pkl"), str(img)]) == 2


def test_predict_refuses_pickles_unless_allowed(trained, tmp_path, capsys, monkeypatch):
    """A pickle -- named, or the only model of a folder -- is refused
    unread without --allow-pickle, in one line that names the option."""
    import shutil

    import joblib

    _, folder = trained
    img = tmp_path / "x.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(img)
    only_pickle = tmp_path / "report-model"
    only_pickle.mkdir()
    shutil.copy(folder / "model.pkl", only_pickle / "model.pkl")

    def no_unpickling(*args, **kwargs):
        raise AssertionError("unpickled without --allow-pickle")

    monkeypatch.setattr(joblib, "load", no_unpickling)
    for model in (folder / "model.pkl", only_pickle):
        assert main(["predict", "--model", str(model), str(img)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--allow-pickle" in err
        assert "model.pkl is a pickle, and loading a pickle runs code" in err


def test_image_preprocessor_in_a_pipeline(trained, fashion_test):
    pipe, _ = trained
    full = make_pipeline(ImagePreprocessor(), *[step for _, step in pipe.steps])
    images = list(fashion_test.images[:10])
    assert full.predict(images).shape == (10,)


def test_predict_cli_loads_only_model_files(trained, tmp_path, capsys, monkeypatch):
    from skfashion import save_model

    pipe, folder = trained
    img = tmp_path / "x.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(img)
    save_model(pipe, tmp_path / "model.safetensors")
    assert (
        main(["predict", "--model", str(tmp_path / "model.safetensors"), str(img)]) == 0
    )
    assert "pickle" not in capsys.readouterr().err  # safe: no warning
    import joblib

    def no_unpickling(*args, **kwargs):
        raise AssertionError("unpickled a file that is not a .pkl/.joblib")

    monkeypatch.setattr(joblib, "load", no_unpickling)
    notes = tmp_path / "notes.txt"
    notes.write_bytes((folder / "model.pkl").read_bytes())  # a pickle in disguise
    assert main(["predict", "--model", str(notes), str(img)]) == 2
    err = capsys.readouterr().err
    assert "notes.txt: not a model file (expected a .safetensors" in err
    assert err.count("\n") == 1


def test_predict_says_when_a_picture_is_not_a_garment(
    mlp_folder, fashion_train, fashion_test, tmp_path, capsys
):
    """A model folder with a novelty detector: a garment is answered as
    ever, scikit-learn's sample photo of a temple as "not a garment?"."""
    from sklearn.datasets import load_sample_image

    from skfashion import save_model
    from skfashion.novelty import NoveltyDetector

    pipe, _ = mlp_folder
    # the tiny model's logits do not tell the temple apart; its features do
    detector = NoveltyDetector(pipe, method="mahalanobis", random_state=0)
    detector.fit(fashion_train.data[:5000])
    save_model(pipe, tmp_path / "model.safetensors", detector=detector)
    scores = detector.score_samples(fashion_test.data[:20])
    garment = tmp_path / "garment.png"
    Image.fromarray(fashion_test.images[int(scores.argmax())]).save(garment)
    temple = tmp_path / "temple.jpg"
    Image.fromarray(load_sample_image("china.jpg")).save(temple)
    assert main(["predict", "--model", str(tmp_path), str(garment), str(temple)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert "not a garment" not in lines[0]
    assert "not a garment? (score" in lines[1] and "below the threshold" in lines[1]
    assert main(["predict", "--json", "--model", str(tmp_path), str(temple)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["garment"] is False
    assert answer["garment_score"] < answer["garment_threshold"]
    # a folder without a detector answers as before
    assert main(["predict", "--json", "--model", str(mlp_folder[1]), str(temple)]) == 0
    assert "garment" not in json.loads(capsys.readouterr().out)
