"""Where a training stands in its ``max_epochs`` cycle: what the schedules
and lookahead count their steps by."""

from ..utils import n_batches

__all__ = ["epochs_into_cycle", "training_steps"]


def training_steps(net, X, y):
    """The number of training batches of one epoch of ``net`` on ``X, y``."""
    train, _ = net.get_split_datasets(X, y)
    return n_batches(net, train, training=True)


def epochs_into_cycle(net, epochs_done):
    """How many epochs of the current ``max_epochs`` cycle are done when the
    net has done ``epochs_done`` epochs in all (across ``fit`` and
    ``partial_fit`` calls): a new cycle starts every ``max_epochs`` epochs."""
    return epochs_done % net.max_epochs
