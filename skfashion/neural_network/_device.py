"""Where a net runs: the ``device`` and ``precision`` parameters, resolved.

skorch reads its ``device`` parameter wherever it moves a module, a
criterion, a batch or loaded tensors, and accepts only a concrete device
there. skfashion keeps the user's parameter as given (``"auto"`` is never
rewritten) and resolves it once per fit, in :meth:`DeviceMixin.resolve_placement`,
into the fitted attributes ``device_`` and ``precision_`` (:mod:`skfashion.utils`
decides); this
mixin is all the plumbing that puts skorch's components, batches and loaded
or unpickled tensors there. ``tests/neural_network/test_common.py`` pins it against the
skorch version we support (the private methods it overrides must exist).
"""

from collections.abc import Mapping

import torch
from skorch.utils import to_tensor
from torch import nn

from ..utils import resolve_device, resolve_precision

__all__ = ["DeviceMixin"]

#: skorch's private methods overridden here (a test checks they still exist).
SKORCH_PRIVATE = ("_initialize_module", "_initialize_criterion")


class DeviceMixin:
    """``device_`` and ``precision_`` for a skorch net; see the module."""

    def resolve_placement(self, *, cpu_fallback=False):
        """Set ``device_`` and ``precision_`` from the ``device`` and
        ``precision`` parameters: the one place they are resolved.

        ``fit`` calls it once, before anything is drawn or built; a loaded
        model with ``cpu_fallback=True``, so that a model saved on a GPU runs
        on the CPU of a machine without one.

        Parameters
        ----------
        cpu_fallback : bool, default=False
            Whether a device this machine lacks means the CPU (else a
            ``ValueError`` names it).

        Returns
        -------
        self : object
        """
        try:
            self.device_ = resolve_device(self.device)
        except ValueError:
            if not cpu_fallback:
                raise
            self.device_ = "cpu"
        self.precision_ = resolve_precision(self.precision, self.device_)
        return self

    def initialize(self):
        """Resolve the device and precision, then build every component."""
        self.resolve_placement()
        return self.initialize_placed()

    def initialize_placed(self):
        """Build every component on the ``device_`` already resolved
        (skorch's ``initialize``)."""
        return super().initialize()

    def load_params(self, *args, **kwargs):
        """skorch's ``load_params`` (used by its ``LoadInitState`` and
        ``Checkpoint``), with the tensors mapped to ``device_``: skorch maps
        them to the ``device`` parameter, which may be ``"auto"``."""
        if not self.initialized_:
            self.initialize()
        device = self.device
        self.device = self.device_  # for skorch's map_location, restored below
        try:
            return super().load_params(*args, **kwargs)
        finally:
            self.device = device

    # Private overrides: skorch moves modules and criteria to ``self.device``,
    # the user's parameter, which may be "auto", and has no public hook for
    # the device they go to (skorch 1.4; upstream work on device="auto",
    # skorch PR #1141, would remove these). They go to ``device_``.
    def _initialize_module(self, reason=None):
        with self._current_init_context("module"):
            self.initialize_module()
            self._place(self._modules)
        return self

    def _initialize_criterion(self, reason=None):
        with self._current_init_context("criterion"):
            self.initialize_criterion()
            self._place(self._criteria)
        return self

    def _place(self, names):
        for name in names:
            component = getattr(self, name + "_")
            if isinstance(component, nn.Module):
                component = self.torch_compile(component.to(self.device_), name=name)
                setattr(self, name + "_", component)

    def infer(self, x, **fit_params):
        """The module's logits, on ``device_``, under bfloat16 autocast when
        ``precision_`` says so; float32 out."""
        if isinstance(x, Mapping):  # the samples and their weights
            x = x["X"]
        x = to_tensor(x, device=self.device_)
        bf16 = self.precision_ == "bfloat16"
        device_type = torch.device(self.device_).type
        fit_params = {**self._forward_kwargs(), **fit_params}
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            out = self.module_(x, **fit_params)
        return out.float()

    def _forward_kwargs(self):
        """Keyword arguments of every call of the module's ``forward``, read
        from the estimator's parameters at each call (none here)."""
        return {}

    # skorch maps pickled tensors to ``state["device"]``: give it the device
    # they were on, and keep the user's parameter.
    def __getstate__(self):
        state = super().__getstate__()
        state["device_param_"] = self.device
        state["device"] = getattr(self, "device_", "cpu")  # where tensors are
        return state

    def __setstate__(self, state):
        param = state.pop("device_param_", state["device"])
        super().__setstate__(state)  # maps CUDA tensors to the CPU if needed
        if hasattr(self, "device_"):
            self.device_ = str(self.device)  # where the tensors are now
        self.device = param
