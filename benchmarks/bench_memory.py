"""Peak memory of predicting 70,000 images with the report's CNN (batched).

Runs in a fresh subprocess and reads its peak RSS (``ru_maxrss``) before and
after ``predict_proba`` on train + test. The full fit's peak RSS is measured
with ``/usr/bin/time -v skfashion report`` (goal: < 4 GB). ``--quick``
predicts 10,000 images.
"""

import json
import subprocess
import sys

SCRIPT = """
import json, resource, sys, time
import numpy as np
from skfashion import FashionCNN, PixelScaler, fetch_fashion_mnist
n = int(sys.argv[1])
X = PixelScaler().fit_transform(fetch_fashion_mnist(subset="all").data[:n])
clf = FashionCNN(max_epochs=0, random_state=0).fit(X[:20], np.arange(20) % 10)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
proba = clf.predict_proba(X)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"images": n, "rss_before_mb": before / 1024,
                  "peak_rss_mb": after / 1024, "predict_s": seconds,
                  "proba_mb": proba.nbytes / 2**20}))
"""


def run(quick):
    n = 10000 if quick else 70000
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result = {k: round(v, 1) if isinstance(v, float) else v for k, v in result.items()}
    result["growth_mb"] = round(result["peak_rss_mb"] - result["rss_before_mb"], 1)
    return [result]
