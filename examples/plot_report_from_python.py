"""
============================
Run the report from Python
============================

``skfashion report`` is a thin shell over
:func:`~skfashion.experiments.run_report`: the same protocol -- every model
and seed trained, the test set scored once, the models compared and
measured under shift -- from a :class:`~skfashion.experiments.ReportConfig`,
returning a :class:`~skfashion.experiments.Report`. Here the quick mode (a
few hundred images, one epoch: a smoke test, not a result) of the dense
network, with two seeds.
"""

# %%
# Run it
# ------
# Nothing is printed; progress comes through callbacks
# (:class:`~skfashion.experiments.ReportCallback`). Give ``checkpoints=`` a
# folder to resume an interrupted run.
from skfashion.experiments import ReportCallback, ReportConfig, run_report


class Fits(ReportCallback):
    def on_fit_end(self, job, fit):
        print(f"{job.name} seed {job.seed}: {fit.numbers['test_accuracy']:.1%}")


config = ReportConfig(models="mlp", seeds=2, quick=True)
report = run_report(config, callbacks=[Fits()])

# %%
# Its numbers
# -----------
# One row per model (in a notebook, ``report`` itself shows this table and
# the recall of each class); every number of ``metrics.json`` is in
# ``report.metrics``.
report.summary()

# %%
report.metrics["mlp"]["shift"]["mixed_accuracy"]

# %%
# A figure from it
# ----------------
# Each model's first fit under shift is a
# :class:`~skfashion.evaluation.ShiftEvaluation`, which the plots of
# :mod:`skfashion.evaluation` draw.
import matplotlib.pyplot as plt

from skfashion.evaluation import plot_selective_curve, plot_shift_accuracy

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
plot_shift_accuracy(report.shifts["mlp"], ax=left)
plot_selective_curve(report.shifts["mlp"], ax=right)
plt.show()

# %%
# Write it
# --------
# ``report.write("report")`` writes exactly what ``skfashion report`` writes:
# ``report.md``, ``metrics.json``, the figures and the model files.
import tempfile
from pathlib import Path

folder = report.write(Path(tempfile.mkdtemp()) / "report")
sorted(p.name for p in folder.iterdir())
