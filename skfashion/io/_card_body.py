"""The parts of a model card: its numbers (``model-index``), its body, the
graphs it names, and the claims it refuses; and a model file saved with its
card. :mod:`._card` builds one from a file."""

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..datasets import class_name

__all__ = ["build_card", "graph_lines", "read_graph", "save_with_card"]

#: the ONNX graph metadata's precisions (``export_onnx``, ``quantize_onnx``)
GRAPH_PRECISIONS = ("float32", "int8")


def _need_hub():
    try:
        import huggingface_hub
    except ImportError as exc:
        raise ImportError(
            'model_card needs huggingface_hub: pip install "skfashion[cards]"'
        ) from exc
    return huggingface_hub


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_claims(evaluation, detector, path, graphs):
    """Refuse numbers the model file (and its graphs) cannot back."""
    if evaluation.get("int8") is not None and not any(
        g["precision"] == "int8" for g in graphs
    ):
        raise ValueError(
            "The evaluation gives an int8 graph's numbers, but no int8 graph "
            f"of {path} is given ({', '.join(g['name'] for g in graphs) or 'none'}"
            "): pass graphs=[...] with the graph quantize_onnx wrote, or leave "
            "'int8' out."
        )
    shift = evaluation.get("shift") or {}
    if shift.get("detectors") and detector is None:
        raise ValueError(
            f"The evaluation gives novelty detectors' numbers, but {path} holds "
            "no detector: save the model with save_model(..., detector=...) or "
            "leave the detectors out."
        )
    claimed = shift.get("default_detector")
    if detector is not None and claimed is not None and claimed != detector.method:
        raise ValueError(
            f"The evaluation's detector is {claimed!r}, but {path} holds a "
            f"{detector.method!r} one."
        )


def _labels(classes):
    return [c.item() if hasattr(c, "item") else c for c in classes]


def read_graph(path, final=None):
    """What an exported graph is, from its metadata: its name, SHA-256,
    precision and detector; refused if ``export_onnx`` (or
    ``quantize_onnx``) did not write it, or, given the model ``final``, if
    it was not exported from a model of that kind and those classes."""
    import onnx

    try:
        graph = onnx.load_model(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError, OSError, ...
        raise ValueError(f"{path} is not an ONNX graph: {exc}") from None
    props = {p.key: p.value for p in graph.metadata_props}
    if (
        graph.producer_name != "skfashion"
        or props.get("precision") not in GRAPH_PRECISIONS
    ):
        raise ValueError(f"{path} is not a graph written by skfashion's export_onnx.")
    if final is not None and (
        props.get("estimator") != type(final).__name__
        or json.loads(props.get("classes") or "null") != _labels(final.classes_)
    ):
        raise ValueError(
            f"{path} was not exported from this model: it is a "
            f"{props.get('estimator')} of classes {props.get('classes')}."
        )
    return {
        "name": Path(path).name,
        "sha256": _sha256(path),
        "precision": props["precision"],
        "calibration_images": props.get("calibration_images") or None,
        "detector": props.get("novelty_method") or None,
    }


def graph_lines(graphs, evaluation=None, heading="Exported graphs"):
    """The card's section on the model's exported ONNX graphs."""
    if not graphs:
        return []
    lines = ["", f"## {heading}", ""]
    int8 = (evaluation or {}).get("int8") or {}
    own = _own(evaluation or {}, "test_accuracy")
    for g in graphs:
        kind = "float32"
        if g["precision"] == "int8":
            kind = (
                "int8 (static quantization of the convolutions and matrix "
                f"products, calibrated on {g['calibration_images']} images)"
            )
        line = f"- `{g['name']}`: ONNX, {kind}, SHA-256 `{g['sha256']}`"
        if g["detector"]:
            line += f"; it computes the {g['detector']} detector's garment score too"
        if g["precision"] == "int8" and "test_accuracy" in int8:
            line += f". Test accuracy {_percent(int8['test_accuracy'])}"
            if own is not None:
                change = 100 * (int8["test_accuracy"] - own)
                line += f" ({change:+.2f} points from the float model's)"
        lines.append(line + ".")
    return lines


def _percent(value):
    return f"{100 * value:.2f} %"


def _own(evaluation, key):
    """The saved model's own number: its run's (the report's first) where
    the evaluation has runs, else the evaluation's."""
    runs = evaluation.get("runs") or [{}]
    return runs[0].get(key, evaluation.get(key))


def _result(hub, dataset, name, value, metric="accuracy", metric_name=None):
    return hub.EvalResult(
        task_type="image-classification",
        dataset_type=dataset,
        dataset_name=name,
        dataset_split=None if dataset == "digits" else "test",
        metric_type=metric,
        metric_name=metric_name,
        metric_value=float(value),
    )


def _eval_results(hub, evaluation, detector):
    """The card's ``model-index``: what was measured of the saved model."""
    results = []
    if _own(evaluation, "test_accuracy") is not None:
        accuracy = _own(evaluation, "test_accuracy")
        results.append(_result(hub, "fashion_mnist", "Fashion-MNIST", accuracy))
    shift = evaluation.get("shift") or {}
    if "mixed_accuracy" in shift:
        name = "Fashion-MNIST-C (mixed, regenerated by skfashion)"
        results.append(_result(hub, "fashion_mnist_c", name, shift["mixed_accuracy"]))
    int8 = evaluation.get("int8") or {}
    if "test_accuracy" in int8:
        name, value = "Fashion-MNIST, by the int8 ONNX graph", int8["test_accuracy"]
        metric_name = "int8 graph accuracy"
        results.append(
            _result(hub, "fashion_mnist", name, value, metric_name=metric_name)
        )
    rows = (shift.get("detectors") or {}).get(getattr(detector, "method", None), {})
    if detector is not None and rows.get("digits") is not None:
        results.append(
            _result(
                hub,
                "digits",
                "digits as MNIST (not garments)",
                rows["digits"]["auroc"],
                metric="roc_auc",
                metric_name=f"{detector.method} detector AUROC",
            )
        )
    return results


def _details(title, final, path, sha):
    import torch

    from .._version import __version__

    n_params = sum(p.numel() for p in final.module_.parameters())
    return [
        f"# {title}",
        "",
        "## Model details",
        "",
        f"- Architecture: `{type(final).__name__}` (skfashion {__version__}, "
        f"PyTorch {torch.__version__}), {n_params:,} parameters, trained in "
        f"{getattr(final, 'precision_', final.precision)}.",
        f"- Classes: {', '.join(class_name(c) for c in final.classes_.tolist())}.",
        f"- Weights: `{Path(path).name}`, SHA-256 `{sha}`.",
        "",
        "## Training",
        "",
        f"- Epochs: {final.max_epochs}; batch size {final.batch_size}; "
        f"learning rate {final.lr:g}; random state {final.random_state}.",
    ]


def _evaluation(evaluation):
    lines = ["", "## Evaluation", ""]
    accuracy = _own(evaluation, "test_accuracy")
    if accuracy is not None:
        lines.append(f"- Test accuracy on Fashion-MNIST: {_percent(accuracy)}.")
    interval = evaluation.get("test_accuracy_ci95")
    if evaluation.get("runs") and interval and all(v == v for v in interval):
        lines.append(
            f"- Over {len(evaluation['runs'])} fits of these settings (seeds): "
            f"mean {_percent(evaluation['test_accuracy'])}, 95 % interval "
            f"{_percent(interval[0])} to {_percent(interval[1])}."
        )
    if "recall" in evaluation:
        worst = sorted(evaluation["recall"].items(), key=lambda kv: kv[1])[:3]
        lines.append(
            "- Lowest recall: "
            + ", ".join(f"{name} {_percent(r)}" for name, r in worst)
            + "."
        )
    ece, after = _own(evaluation, "ece"), _own(evaluation, "ece_temperature")
    if ece is not None:
        lines.append(
            f"- Calibration error (ECE): {_percent(ece)}"
            + (f", {_percent(after)} after temperature scaling." if after else ".")
        )
    return lines


def _trust(evaluation, detector):
    shift = evaluation.get("shift") or {}
    lines = ["", "## Trust", ""]
    if "mixed_accuracy" in shift:
        lines.append(
            "- Accuracy on mixed Fashion-MNIST-C (one corruption per image): "
            f"{_percent(shift['mixed_accuracy'])}."
        )
    if "selective_accuracy_90" in shift:
        lines.append(
            "- Accuracy of the 90 % of answers it is surest of: "
            f"{_percent(shift['selective_accuracy_90'])}."
        )
    if detector is None:
        lines.append(
            "- No novelty detector: every picture gets a garment class, "
            "whatever it shows."
        )
        return lines
    lines.append(
        f"- Novelty detector: `{detector.method}`, threshold "
        f"{float(detector.offset_):.4g}."
    )
    rows = (shift.get("detectors") or {}).get(detector.method, {})
    for kind, row in rows.items():
        if isinstance(row, dict) and "auroc" in row:
            lines.append(f"  - AUROC against {kind}: {row['auroc']:.3f}.")
    return lines


#: below these, a card says what not to use the model for
WEAK_RECALL, WEAK_AUROC, SHIFT_DROP = 0.8, 0.9, 0.1


def _limits(evaluation, detector):
    """What the numbers say the model should not be used for."""
    lines = []
    weak = [n for n, r in (evaluation.get("recall") or {}).items() if r < WEAK_RECALL]
    if weak:
        lines.append(
            f"- Not to be relied on for {', '.join(weak)}: its recall there is "
            f"below {100 * WEAK_RECALL:.0f} %."
        )
    shift, own = evaluation.get("shift") or {}, _own(evaluation, "test_accuracy")
    mixed = shift.get("mixed_accuracy")
    if mixed is not None and own is not None and mixed < own - SHIFT_DROP:
        lines.append(
            "- Not for blurred, noisy, turned, sheared or low-contrast pictures: "
            f"it is right on {_percent(mixed)} of them (mixed Fashion-MNIST-C), "
            f"against {_percent(own)} of clean ones."
        )
    rows = (shift.get("detectors") or {}).get(getattr(detector, "method", None), {})
    blind = [
        kind.replace("_", " ")
        for kind, row in rows.items()
        if isinstance(row, dict) and row.get("auroc", 1) < WEAK_AUROC
    ]
    if detector is not None and blind:
        lines.append(
            f"- Its detector does not tell {', '.join(blind)} from garments "
            f"(AUROC below {WEAK_AUROC}): do not count on it to refuse those."
        )
    return lines


def _use(path, evaluation=None, detector=None):
    name = Path(path).name
    return [
        "",
        "## Intended use and limitations",
        "",
        "- Made for 28 x 28 gray Fashion-MNIST-like pictures of single "
        "garments, light on black; other pictures go through "
        "`skfashion.preprocess_image` first.",
        "- It knows ten classes only; a garment of another kind is given one "
        "of them. Do not use it for decisions about people.",
        *_limits(evaluation or {}, detector),
        "",
        "## How to load it safely",
        "",
        "```python",
        "from skfashion import load_model",
        f'model = load_model("{name}")  # runs no code from the file',
        "```",
        "",
        f"Serve it: `skfashion serve --model {name}`.",
        "",
    ]


def _body(title, final, path, sha, evaluation, detector, graphs):
    return "\n".join(
        _details(title, final, path, sha)
        + _evaluation(evaluation)
        + _trust(evaluation, detector)
        + graph_lines(graphs, evaluation)
        + _use(path, evaluation, detector)
    )


def build_card(final, detector, path, evaluation=None, *, title=None, graphs=()):
    """The card of the model file ``path`` that holds ``final`` (the
    classifier) and ``detector``: :func:`~skfashion.io.model_card` once the
    file is loaded."""
    hub = _need_hub()
    evaluation = dict(evaluation or {})
    graphs = [read_graph(g, final) for g in graphs]
    _check_claims(evaluation, detector, path, graphs)
    sha = _sha256(path)
    title = title or type(final).__name__
    data = hub.ModelCardData(
        model_name=title,
        library_name="skfashion",
        datasets=["fashion_mnist"],
        metrics=["accuracy", "roc_auc"],
        tags=["image-classification", "fashion-mnist", "skorch", "pytorch"],
        eval_results=_eval_results(hub, evaluation, detector) or None,
    )
    body = _body(title, final, path, sha, evaluation, detector, graphs)
    return hub.ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}")


def _check_readme(path):
    """README.md beside ``path`` may be replaced: missing, or a skfashion
    card of a file of that name (an older save of it)."""
    hub = _need_hub()
    readme = Path(path).parent / "README.md"
    if not readme.exists():
        return readme
    try:
        card = hub.ModelCard.load(readme)
        ours = card.data.library_name == "skfashion"
    except Exception:  # not a card at all
        ours = False
    if not ours or f"`{Path(path).name}`" not in card.text:
        raise ValueError(
            f"{readme} exists and is not a model card of {Path(path).name}: "
            "save the model in another folder, or move that file away."
        )
    return readme


def save_with_card(path, card, write, final, detector):
    """Write a model file with ``write(tmp_path)`` and its model card
    (``card``: True, or the evaluation dict of
    :func:`~skfashion.io.model_card`; the file holds ``final`` and
    ``detector``) as README.md beside it: both, or neither (the card is
    built before either is moved into place)."""
    from ..utils import atomic_write

    readme = _check_readme(path)
    evaluation = None if card is True else card
    if evaluation is not None and not isinstance(evaluation, dict):
        raise TypeError(f"card must be True or a dict of numbers, got {card!r}.")
    path = Path(path)
    work = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        new = work / path.name  # the card names the file as it will be
        write(new)
        text = str(build_card(final, detector, new, evaluation))
        with atomic_write(readme) as tmp:
            tmp.write_text(text, encoding="utf-8")
        os.replace(new, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
