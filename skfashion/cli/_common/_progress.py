"""What the commands' progress callbacks share."""

__all__ = ["ClosesBar"]


class ClosesBar:
    """A progress callback used as a context manager: its tqdm bar, once
    opened, is closed on the way out, however the run ends."""

    bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
