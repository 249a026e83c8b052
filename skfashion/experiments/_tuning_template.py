"""The Markdown of the tuning report: one template, filled by ``_outputs.py``."""

from string import Template

__all__ = ["REPORT"]

REPORT = Template("""# Tuning $model

$cv-fold cross-validation on ${subset}\
the training set, up to $epochs epochs per trial, searched by Optuna \
(TPE sampler, seed $seed) and pruned by successive halving over epochs \
($pruner); search space: $space_source. Study `$study` in \
`$storage` (paths relative to this report's folder).

## Result

| | |
|---|---|
| cross-validated accuracy of the best parameters | $cv_score$spread |
| its folds | $splits |
| test accuracy of the refit model (scored once) | **$test_accuracy** |
| trials | $complete complete, $pruned \
pruned, $failed failed |
| fold-epochs trained | $fold_epochs |
| time | search $search_time, refit \
$refit_time, total $total_time |
$caveat
Best parameters (trial $best_trial), refit on the whole training set for \
$epochs epochs and saved to `model.safetensors` beside this report \
(`skfashion predict --model model.safetensors IMAGE` in this folder):

| parameter | value |
|---|---|
$params

## Figures

$images

Every trial is in `trials.csv`; the numbers above are in `tuning.json`.

## Machine

$cpu, $cpu_cores cores ($torch_threads PyTorch threads), device \
$device$gpu, precision $precision; \
skfashion $skfashion, PyTorch $torch, Optuna $optuna, Python \
$python.
""")
