"""Collection for the whole repository: the doctests of ``skfashion.serve``
need its extra (``pip install "skfashion[serve]"``)."""

import importlib.util

collect_ignore_glob = []
if importlib.util.find_spec("fastapi") is None:
    collect_ignore_glob.append("skfashion/serve/*")
