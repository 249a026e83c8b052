"""Collection for the whole repository: the doctests of ``skfashion.serve``
need its extra (``pip install "skfashion[serve]"``). The KServe model's
module is never imported here: kserve registers the v2 protocol's protobuf
messages under the names Triton's client (``tritonclient.grpc``, which the
tests use) registers them, and one process cannot hold both; its tests
start the server in a process of its own."""

import importlib.util

collect_ignore_glob = []
if importlib.util.find_spec("fastapi") is None:
    collect_ignore_glob.append("skfashion/serve/*")
collect_ignore_glob.append("skfashion/serve/_kserve.py")
