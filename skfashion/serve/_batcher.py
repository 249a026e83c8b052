"""Dynamic batching: concurrent requests share one call of the model."""

import asyncio
import collections
import concurrent.futures
import time

import numpy as np

__all__ = ["CANCELS", "GONE", "DynamicBatcher", "NotRunning", "Overloaded"]

#: a request's ASGI scope keys: the callables that drop its queued work,
#: and whether its client left (set by the server's connection guard)
CANCELS = "skfashion.cancels"
GONE = "skfashion.client_gone"

#: the clock of the queue's deadlines
_now = time.monotonic


class Overloaded(RuntimeError):
    """More images are waiting than the batcher's ``max_queue``."""


class NotRunning(RuntimeError):
    """The batcher was not started, or is stopping."""


class DynamicBatcher:
    """Run a model on batches gathered from concurrent requests.

    Each request hands its rows to :meth:`predict` and awaits its own rows
    of the result. One worker takes the rows that are waiting (up to
    ``max_batch``), waits up to ``max_delay`` seconds for more while the
    batch is not full, and runs ``predict_proba`` on them in a thread of
    its own, so that the event loop goes on receiving requests meanwhile;
    a model that answers faster than ``inline_below`` seconds (on average)
    is called in the event loop itself, as handing work to a thread and
    back would cost more than the model.
    Under load the requests that arrive while the model runs form the next
    batch (as in Triton's dynamic batcher), and the model's cost per image
    approaches its batch speed; a lone request waits at most ``max_delay``.

    Parameters
    ----------
    predict_proba : callable
        Takes an array of shape (n_images, n_pixels) and returns one row
        per image: the probabilities, shape (n_images, n_classes) (or more
        columns, such as :meth:`skfashion.io.Predictor.answer`'s). Called
        from one thread at a time.
    max_batch : int, default=64
        Most images in one call (one request's images always go together).
    max_delay : float, default=0.0
        Seconds to wait for more images once a batch has started and is
        not full. 0: take what is waiting, no more.
    max_queue : int, default=4096
        Most images waiting; beyond it :meth:`predict` raises
        :class:`Overloaded` at once instead of queueing (memory stays
        bounded under any load).
    timeout : float, default=None
        Seconds a request may wait for its batch: one that waited longer
        raises :class:`Overloaded` without being computed. None: no limit.
        A request whose caller stopped waiting (its task cancelled: a
        client that left) is dropped from the queue uncomputed too.
    inline_below : float, default=0.0005
        Seconds: a model whose calls take less (a moving average) runs in
        the event loop, not in a thread. 0: always in a thread.

    Attributes
    ----------
    batch_sizes : collections.deque of int
        The sizes of the last calls (up to 1,000), for tests and metrics.

    Examples
    --------
    >>> import asyncio
    >>> import numpy as np
    >>> from skfashion.serve import DynamicBatcher
    >>> async def main():
    ...     batcher = DynamicBatcher(lambda X: X / X.sum(axis=1, keepdims=True))
    ...     async with batcher:
    ...         rows = [np.array([[1.0, 3.0]]), np.array([[2.0, 2.0]])]
    ...         return await asyncio.gather(*(batcher.predict(r) for r in rows))
    >>> [r.tolist() for r in asyncio.run(main())]
    [[[0.25, 0.75]], [[0.5, 0.5]]]
    """

    def __init__(
        self,
        predict_proba,
        *,
        max_batch=64,
        max_delay=0.0,
        max_queue=4096,
        timeout=None,
        inline_below=0.0005,
    ):
        self.predict_proba = predict_proba
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.max_queue = max_queue
        self.timeout = timeout
        self.inline_below = inline_below
        self.batch_sizes = collections.deque(maxlen=1000)
        self.on_batch = None  # called with each batch's size (metrics)
        self._worker = None

    async def __aenter__(self):
        self.start()
        return self

    async def __aexit__(self, *exc_info):
        await self.stop()

    def start(self):
        """Start the worker (in the running event loop)."""
        if self.max_batch < 1 or self.max_queue < self.max_batch:
            raise ValueError(
                f"max_batch must be at least 1 and at most max_queue, got "
                f"max_batch={self.max_batch}, max_queue={self.max_queue}"
            )
        self._pending = collections.deque()
        self._waiting = 0
        self._closing = False
        self._arrived = asyncio.Event()
        self._call_s = None  # moving average of a call's seconds
        self._executor = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="skfashion-model"
        )
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self):
        """Answer every request already queued, then stop the worker."""
        self._closing = True
        self._arrived.set()
        try:
            await self._worker
        finally:
            self._executor.shutdown(wait=True)

    async def predict(self, X, *, cancels=None):
        """The rows ``predict_proba`` gives for ``X``, computed in a shared
        batch.

        ``cancels``, a list, is given the callable that drops the request
        from the queue uncomputed (its caller then sees
        ``asyncio.CancelledError``): the server calls it when the request's
        client leaves."""
        if self._worker is None or self._closing:
            raise NotRunning("the batcher is not running")
        if len(X) > self.max_batch:
            raise ValueError(
                f"{len(X)} images in one request; the limit is {self.max_batch}"
            )
        if self._waiting + len(X) > self.max_queue:
            raise Overloaded(
                f"{self._waiting} images are waiting; try again in a moment"
            )
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if cancels is not None:
            cancels.append(future.cancel)
        self._waiting += len(X)
        self._pending.append((X, future, _now()))
        self._arrived.set()
        return await future

    def _live(self):
        """Drop the requests at the head of the queue that nobody awaits
        any more, or that waited past the timeout; True if one is left."""
        pending, now = self._pending, None
        while pending:
            X, future, queued = pending[0]
            if not future.done():
                if self.timeout is None:
                    return True
                now = _now() if now is None else now
                if now - queued <= self.timeout:
                    return True
                future.set_exception(
                    Overloaded(
                        f"the request waited over {self.timeout:g} s for the "
                        "model; try again in a moment"
                    )
                )
            pending.popleft()
            self._waiting -= len(X)
        return False

    async def _next(self, timeout=None):
        """Wait until a request is queued (or the batcher stops); False if
        ``timeout`` seconds passed first."""
        while not self._live() and not self._closing:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout)
            except asyncio.TimeoutError:
                return False
        return bool(self._pending)

    async def _gather(self):
        """The next batch: the first request, then the ones waiting behind
        it, and those arriving within ``max_delay``, up to ``max_batch``."""
        if not await self._next():
            return []  # stopping, nothing left
        items = [self._pending.popleft()]
        size = len(items[0][0])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_delay
        while size < self.max_batch:
            left = deadline - loop.time()
            if not self._live() and (left <= 0 or not await self._next(left)):
                break
            if not self._live() or size + len(self._pending[0][0]) > self.max_batch:
                break
            items.append(self._pending.popleft())
            size += len(items[-1][0])
        return items

    def _timed(self, X):
        start = time.perf_counter()
        proba = self.predict_proba(X)
        seconds = time.perf_counter() - start
        average = self._call_s
        self._call_s = seconds if average is None else 0.9 * average + 0.1 * seconds
        return proba

    async def _call(self, X):
        if self._call_s is not None and self._call_s < self.inline_below:
            return self._timed(X)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._timed, X)

    async def _run(self):
        while items := await self._gather():
            error = proba = None
            try:
                proba = await self._call(np.concatenate([x for x, _, _ in items]))
            except Exception as exc:  # each request of the batch gets the error
                error = exc
            else:
                self._record(len(proba))
            start = 0
            for x, future, _ in items:
                if not future.done():  # a client that left cancels its future
                    if error is not None:
                        future.set_exception(error)
                    else:
                        future.set_result(proba[start : start + len(x)])
                start += len(x)
                self._waiting -= len(x)

    def _record(self, size):
        self.batch_sizes.append(size)
        if self.on_batch is not None:
            self.on_batch(size)
