"""``skfashion data``: find, verify and (optionally) download the data."""

import math
import sys

import numpy as np

from skfashion.datasets import CLASS_NAMES, fetch_fashion_mnist, locate_fashion_mnist

HELP = "find, verify and download the Fashion-MNIST files"


def add_parser(sub):
    p = sub.add_parser("data", help=HELP, description=HELP + ".")
    p.add_argument(
        "--data-home",
        metavar="DIR",
        help="folder searched first, and where downloads go",
    )
    p.add_argument(
        "--download",
        action="store_true",
        help="download the files that are found nowhere",
    )
    p.set_defaults(run=run)
    return p


def run(args, parser):
    for name, path, source in locate_fashion_mnist(args.data_home):
        where = (
            f"not found (would download to {path})"
            if source == "missing"
            else (f"{path} [{source}]")
        )
        print(f"{name:28s} {where}")
    try:
        for subset in ("train", "test"):
            X, y = fetch_fashion_mnist(
                subset=subset,
                data_home=args.data_home,
                download_if_missing=args.download,
                return_X_y=True,  # no Bunch: scikit-learn is not imported
            )
            counts = np.bincount(y, minlength=len(CLASS_NAMES))
            side = math.isqrt(X.shape[1])
            print(
                f"{subset}: {X.shape[0]} images of {side}x{side}, "
                f"{len(CLASS_NAMES)} classes "
                f"({counts.min()}-{counts.max()} per class), "
                "checksums verified"
            )
    except (OSError, ValueError) as exc:
        print(f"skfashion data: error: {exc}", file=sys.stderr)
        return 1
    return 0
