"""The Markdown of ``report.md``: one template, filled by ``_markdown.py``."""

from string import Template

__all__ = ["HELD_OUT_SECTION", "MODEL_SECTION", "REPORT", "SHIFT_SECTION"]

REPORT = Template("""\
# Fashion-MNIST: the original report, reproduced with skfashion

Re-runs the experiment of *Neural Networks for Image Recognition: Fashioning
the Right Architecture* (2020) with skfashion's `FashionMLP` and `FashionCNN`,
whose defaults are the original's Keras models$fast_sentence.

Protocol: the first $n_valid training images validate, the other $n_train
train; pixels / 255; $epochs; the $n_test test images are scored once at the
end.$quick

## Accuracy

$accuracy_header
$accuracy_rows

Test accuracy is the mean over the seeds $seeds ± the sample standard
deviation; the 95 % interval is Student's t interval of that mean (it needs
two seeds or more). The figures are of the first seed's model.

## Is the difference real?

$comparisons

![recall of each class]($recall_png)

## Is the confidence right?

A model is calibrated when its 90 %-confident answers are right 90 % of the
time. The expected calibration error (ECE) is the gap between confidence
and accuracy, averaged over 15 confidence bins of the test images (mean
over the seeds) of `predict_proba`, which maps the softmax of a model
trained with label smoothing back through the smoothing. Temperature
scaling divides the logits by one number,
fitted on the validation images (scikit-learn's
`CalibratedClassifierCV(FrozenEstimator(model), method="temperature")`):
it changes no prediction, only the confidence.

$calibration

$model_sections
## Discussion

$discussion

The original's CNN confusion matrix has row totals 980, 1135, 1032, … — those
of the MNIST *digits* test set, not Fashion-MNIST's 1,000 per class — so only
its accuracy (91.93 %) is comparable; the matrices here are the real
Fashion-MNIST ones.

## Time

Estimated before training, from the first batches of each model: $estimated;
actual: $actual.

## Environment

| | |
|---|---|
$environment

Made by `skfashion report` — files: `metrics.json`, `recall.png`, and per
model `history.csv`, `curves.png`, `confusion_matrix.csv`/`.png`,
`reliability.png`, `mistakes.png`, `classification_report.txt`/`.json`,
`shift.csv`/`.png`, `novelty.png`, `model.pkl` and `model.safetensors` (the
same model without pickle, with its novelty detector: `skfashion.load_model`).
""")

MODEL_SECTION = Template("""\
## $title

![training curves]($name/curves.png)

![confusion matrix]($name/confusion_matrix.png)

![reliability diagram]($name/reliability.png)

Most confused classes (true → predicted, of $n_test test images):

$confused

Some of those mistakes, with the model's confidence in its wrong answer:

![mistakes]($name/mistakes.png)

Per-class precision and recall:
[$name/classification_report.txt]($name/classification_report.txt).

$shift

""")

SHIFT_SECTION = Template("""\
### Under shift

On regenerated Fashion-MNIST-C (`skfashion.datasets.corrupt_images`, seed 0),
mixed as the published set -- one random corruption at a random severity per
test image -- the model is right on **$mixed** of the test images (clean:
$clean). Its calibration error there is $mixed_ece, $mixed_ece_t after
temperature scaling. Per corruption and severity, on the first $n_cell test
images (`inverse` and the flips and turns have one strength; the last column
is the mixed set's images of that corruption;
[$name/shift.csv]($name/shift.csv)):

$severity_table

![accuracy under shift]($name/shift.png)

Selective accuracy: of the answers the model is surest of, $sel90 are right
at 90 % coverage and $sel80 at 80 % (the curve, right).

Is it a garment at all? Each novelty score (`skfashion.novelty.NoveltyDetector`,
fitted on the validation images, its threshold accepting 95 % of them) tells
the first $n_in test images from $n_out images of each kind: AUROC / false
positive rate at 95 % true positive rate. `model.safetensors` keeps the
$default detector: `skfashion predict` says "not a garment?" of the pictures
it rejects.

$detector_table

![novelty scores]($name/novelty.png)
$held_out""")

HELD_OUT_SECTION = Template("""
Classes it never learned: for each split, the same model trained again
(random state $seed) on the images of the other classes, each novelty score
fitted on their validation images, tells their test images from the test
images of the held-out classes (a shop's garment of a kind it was never
taught; `skfashion.evaluation.held_out_class_detection`): AUROC / false
positive rate at 95 % true positive rate.

$table
""")
