"""``skfashion data``: find, verify and (optionally) download the data."""

import sys

import numpy as np

from ..datasets import fetch_fashion_mnist, locate_fashion_mnist

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
            data = fetch_fashion_mnist(
                subset=subset,
                data_home=args.data_home,
                download_if_missing=args.download,
            )
            counts = np.bincount(data.target, minlength=len(data.target_names))
            print(
                f"{subset}: {data.data.shape[0]} images of "
                f"{data.images.shape[1]}x{data.images.shape[2]}, "
                f"{len(data.target_names)} classes "
                f"({counts.min()}-{counts.max()} per class), "
                "checksums verified"
            )
    except (OSError, ValueError) as exc:
        print(f"skfashion data: error: {exc}", file=sys.stderr)
        return 1
    return 0
