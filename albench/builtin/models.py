"""The built-in models: an MLP and the seed's LeNet."""

from __future__ import annotations

import math

from torch import nn

from albench import hookimpl


class MLP(nn.Module):
    """Two hidden ReLU layers with dropout; works on any input shape (flattened)."""

    def __init__(self, input_shape, num_classes, hidden: int = 256, dropout: float = 0.3):
        super().__init__()
        self.body = nn.Sequential(
            nn.Flatten(), nn.Linear(math.prod(input_shape), hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
        )
        self.head = nn.Linear(hidden, num_classes)

    def embed(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.embed(x))


class LeNet(nn.Module):
    """The seed's MNIST net: conv32-pool-conv64-pool-dense128-dropout0.5."""

    def __init__(self, input_shape, num_classes, dropout: float = 0.5):
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"lenet needs image inputs (channels, height, width), "
                             f"got shape {tuple(input_shape)}")
        channels, height, width = input_shape
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        )
        flat = 64 * (height // 4) * (width // 4)
        self.dense = nn.Sequential(nn.Linear(flat, 128), nn.ReLU(), nn.Dropout(dropout))
        self.head = nn.Linear(128, num_classes)

    def embed(self, x):
        return self.dense(self.features(x))

    def forward(self, x):
        return self.head(self.embed(x))


@hookimpl
def albench_register_models(register):
    register("mlp", MLP, "two hidden layers of 256 with dropout 0.3 (any input)")
    register("lenet", LeNet, "the DAL paper's MNIST LeNet (images)")
