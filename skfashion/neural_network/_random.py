"""A net's own random stream: the draws of its fits, apart from torch's
global state."""

import contextlib

import torch
from sklearn.utils import check_random_state

__all__ = ["own_random_stream"]


@contextlib.contextmanager
def own_random_stream(net, *, reset):
    """Run torch's random draws of a fit on the net's own stream,
    without touching the global state.

    A fit from scratch (``reset``) seeds the stream from ``random_state``
    and draws the validation split's seed first; a continued fit
    (``partial_fit``, warm start) picks the stream up where the previous
    call left it, so that E one-epoch calls draw what one E-epoch fit
    draws (shuffles, dropout, augmentation).
    """
    device = torch.device(net.device_)
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        state = None if reset else getattr(net, "_rng_state_", None)
        if state is None:
            rng = check_random_state(net.random_state)
            seed = int(rng.randint(2**31 - 1))
            if reset or not hasattr(net, "split_seed_"):
                torch.manual_seed(seed)
                net.split_seed_ = int(torch.randint(2**31 - 1, ()).item())
            else:  # a loaded model: no saved stream, a fresh one per epoch
                torch.manual_seed(seed + len(net.history))
        else:
            torch.set_rng_state(state["cpu"])
            if cuda and state.get("cuda") is not None:
                torch.cuda.set_rng_state(state["cuda"], device=cuda[0])
        try:
            yield
        finally:
            net._rng_state_ = {
                "cpu": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state(cuda[0]) if cuda else None,
            }
