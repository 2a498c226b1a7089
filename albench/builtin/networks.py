"""The built-in models: an MLP, the DAL study's LeNet and VGG-16, and a CIFAR ResNet-18
(registered, without importing torch, by :mod:`albench.builtin.models`)."""

from __future__ import annotations

import math

from torch import nn

VARIANTS = ("default", "study")


def _check_variant(model: str, variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"{model}: variant must be 'default' or 'study', got {variant!r}")


def keras_init(model: nn.Module) -> nn.Module:
    """Keras's default initialisation: glorot-uniform kernels, zero biases (batch norms
    keep scale 1 and shift 0, as in both libraries)."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


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
    """The DAL study's MNIST net: conv32-pool-conv64-pool-dense128-dropout0.5.

    ``variant="default"`` pads its 3x3 convolutions (flatten 3,136 on 28x28, 422k
    parameters) and keeps PyTorch's initialisation; ``"study"`` is the study's Keras model
    (``models.py`` ``get_LeNet_model``): valid convolutions (flatten 1,600, 225k parameters)
    and Keras's glorot-uniform kernels with zero biases.
    """

    def __init__(self, input_shape, num_classes, dropout: float = 0.5,
                 variant: str = "default"):
        super().__init__()
        _check_variant("lenet", variant)
        if len(input_shape) != 3:
            raise ValueError(f"lenet needs image inputs (channels, height, width), "
                             f"got shape {tuple(input_shape)}")
        channels, height, width = input_shape
        pad = 1 if variant == "default" else 0
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=pad), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        )
        def side(size: int) -> int:  # two (conv, 2x2 pool) stages
            return ((size + 2 * pad - 2) // 2 + 2 * pad - 2) // 2

        flat = 64 * side(height) * side(width)
        self.dense = nn.Sequential(nn.Linear(flat, 128), nn.ReLU(), nn.Dropout(dropout))
        self.head = nn.Linear(128, num_classes)
        if variant == "study":
            keras_init(self)

    def embed(self, x):
        return self.dense(self.features(x))

    def forward(self, x):
        return self.head(self.embed(x))


# The DAL study's VGG-16 for CIFAR: channel counts, "M" for 2x2 max pooling.
_VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
          512, 512, 512, "M")


class VGG16(nn.Module):
    """The DAL study's CIFAR VGG-16: conv-ReLU-batch norm blocks with dropout, dense 512,
    dropout.

    Dropout is 0.3 after the first convolution and 0.4 after every other convolution not
    followed by pooling, 0.5 after the last pooling and after the dense layer. Images must be
    at least 32x32 (five poolings). ``variant="study"`` takes Keras's batch-norm settings
    (momentum 0.99, i.e. PyTorch's 0.01; epsilon 1e-3) and initialisation (glorot-uniform
    kernels, zero biases); ``"default"`` keeps PyTorch's. The study's L2 penalty is the
    training config's ``l2_kernels = 5e-4`` (on every kernel but the head's).
    """

    def __init__(self, input_shape, num_classes, width: int = 512, variant: str = "default"):
        super().__init__()
        _check_variant("vgg16", variant)
        norm = {"momentum": 0.01, "eps": 1e-3} if variant == "study" else {}
        if len(input_shape) != 3 or min(input_shape[1:]) < 32:
            raise ValueError(f"vgg16 needs images (channels, height, width) of at least "
                             f"32x32, got shape {tuple(input_shape)}")
        channels, height, width_px = input_shape
        layers: list[nn.Module] = []
        for i, item in enumerate(_VGG16):
            if item == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(),
                       nn.BatchNorm2d(item, **norm)]
            if _VGG16[i + 1] != "M":
                layers.append(nn.Dropout(0.3 if i == 0 else 0.4))
            channels = item
        layers += [nn.Dropout(0.5), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        flat = channels * (height // 32) * (width_px // 32)
        self.dense = nn.Sequential(nn.Linear(flat, width), nn.ReLU(),
                                   nn.BatchNorm1d(width, **norm), nn.Dropout(0.5))
        self.head = nn.Linear(width, num_classes)
        if variant == "study":
            keras_init(self)

    def embed(self, x):
        return self.dense(self.features(x))

    def forward(self, x):
        return self.head(self.embed(x))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a (projected when needed) shortcut."""

    def __init__(self, in_channels: int, channels: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, stride, padding=1, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, 1, padding=1, bias=False), nn.BatchNorm2d(channels),
        )
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride, bias=False), nn.BatchNorm2d(channels))
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.body(x) + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 for small images: a 3x3 stem without max pooling, four stages of two blocks.

    It has no dropout, so MC-dropout strategies refuse it.
    """

    def __init__(self, input_shape, num_classes):
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"resnet18 needs image inputs (channels, height, width), "
                             f"got shape {tuple(input_shape)}")
        layers: list[nn.Module] = [nn.Conv2d(input_shape[0], 64, 3, padding=1, bias=False),
                                   nn.BatchNorm2d(64), nn.ReLU()]
        in_channels = 64
        for channels, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [BasicBlock(in_channels, channels, stride),
                       BasicBlock(channels, channels, 1)]
            in_channels = channels
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(512, num_classes)

    def embed(self, x):
        return self.features(x)

    def forward(self, x):
        return self.head(self.embed(x))
