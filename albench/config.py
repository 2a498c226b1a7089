"""How models are trained, as a run's spec states it: plain data, no torch."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator


class TrainingConfig(BaseModel):
    """How every model is trained; part of each run's spec."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    late_fields: ClassVar[frozenset[str]] = frozenset({"checkpoint", "l2_kernels",
                                                       "min_steps"})
    """Fields added after records existed (see :func:`albench.spec.identity`)."""

    epochs: int = Field(50, ge=1)
    batch_size: int = Field(32, ge=1)
    optimizer: Literal["adam", "sgd"] = "adam"
    lr: float = Field(1e-3, gt=0, allow_inf_nan=False)
    weight_decay: float = Field(0.0, ge=0, allow_inf_nan=False)
    val_fraction: float = Field(0.2, ge=0, lt=1, allow_inf_nan=False)
    patience: int | None = Field(None, ge=1)
    """Stop after this many epochs without a better validation accuracy (None: all epochs)."""
    checkpoint: Literal["best", "study"] = "best"
    """Which epoch's weights are kept: ``best``, the first with the highest validation
    accuracy (ties to the lower loss); ``study``, the DAL study's rule: the last epoch whose
    accuracy is at least every earlier kept one's, counting only epochs after the 51st
    (the last epoch's weights if training is shorter)."""
    l2_kernels: float = Field(0.0, ge=0)
    """Keras-style L2 penalty ``l2_kernels * sum(w**2)`` on every convolution and linear
    weight except the model's ``head`` (gradient ``2 * l2_kernels * w``, before Adam),
    as the study's ``kernel_regularizer=l2(...)``; biases and batch norm are left alone."""

    @model_validator(mode="after")
    def _study_checkpoint_without_patience(self):
        if self.checkpoint == "study" and self.patience is not None:
            raise ValueError("checkpoint 'study' keeps no epoch before the 52nd, so patience "
                             "would stop training first; set patience to None")
        return self

    # Convergence on small labelled sets (issue 24).
    min_steps: int = Field(0, ge=0)
    """Train at least this many optimizer steps: epochs are added beyond ``epochs`` until
    they are reached, and early stopping waits for them (0: ``epochs`` alone decides)."""

    # Optimizer and learning-rate schedule options of published protocols (issue 27). While
    # at their defaults they are left out of the JSON form, so every stored record keeps its
    # canonical text and its run id.
    omitted_at_default: ClassVar[tuple[str, ...]] = ("momentum", "nesterov", "lr_schedule",
                                                     "lr_step_epochs", "lr_gamma")
    momentum: float = Field(0.9, ge=0, lt=1, allow_inf_nan=False)
    """SGD's momentum (DeepAL's Fashion-MNIST setting uses 0.5); only with ``sgd``."""
    nesterov: bool = False
    """Nesterov momentum for SGD."""
    lr_schedule: Literal["constant", "step", "cosine"] = "constant"
    """``step``: multiply ``lr`` by ``lr_gamma`` every ``lr_step_epochs`` epochs; ``cosine``:
    anneal it to 0 over the epochs trained at most (stepped once per epoch)."""
    lr_step_epochs: int = Field(30, ge=1)
    lr_gamma: float = Field(0.1, gt=0, le=1, allow_inf_nan=False)

    @model_validator(mode="after")
    def _optimizer_options_fit_the_optimizer(self):
        if self.optimizer != "sgd" and (self.momentum != 0.9 or self.nesterov):
            raise ValueError("momentum and nesterov apply to optimizer 'sgd' only; set "
                             "optimizer = \"sgd\" or remove them")
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov needs a momentum above 0")
        if self.lr_schedule != "step" and (self.lr_step_epochs != 30 or self.lr_gamma != 0.1):
            raise ValueError("lr_step_epochs and lr_gamma apply to lr_schedule 'step' only; "
                             "set lr_schedule = \"step\" or remove them")
        return self

    @model_serializer(mode="wrap")
    def _omit_defaults(self, handler):
        data = handler(self)
        for name in self.omitted_at_default:
            if getattr(self, name) == type(self).model_fields[name].default:
                data.pop(name, None)
        return data
