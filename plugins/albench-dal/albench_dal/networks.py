"""The discriminator and the autoencoder, built and trained from an explicit torch.Generator."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import torch
from torch import nn
from torch.nn.utils import skip_init


def linear(fan_in: int, fan_out: int, generator: torch.Generator) -> nn.Linear:
    """An ``nn.Linear`` with PyTorch's default initialisation, drawn from ``generator``."""
    layer = skip_init(nn.Linear, fan_in, fan_out)
    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    bound = 1 / math.sqrt(fan_in)
    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return layer


def mlp(widths: list[int], generator: torch.Generator) -> nn.Sequential:
    """Linear layers of the given widths with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for fan_in, fan_out in pairwise(widths):
        layers += [linear(fan_in, fan_out, generator), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


@dataclass(frozen=True)
class DiscriminatorConfig:
    """The seed's recipe: an unregularised MLP, Adam, large batches, stop at 98% accuracy."""

    hidden: int = 256
    depth: int = 3
    lr: float = 3e-4
    batch_size: int = 1024
    max_epochs: int = 200
    stop_accuracy: float = 0.98

    def __post_init__(self):
        if min(self.hidden, self.depth, self.batch_size, self.max_epochs) < 1:
            raise ValueError(f"discriminator: hidden, depth, batch_size and max_epochs must be "
                             f"positive, got {self}")
        if not 0 < self.stop_accuracy <= 1 or self.lr <= 0:
            raise ValueError(f"discriminator: need 0 < stop_accuracy <= 1 and lr > 0, "
                             f"got {self}")


def train_discriminator(labeled: torch.Tensor, unlabeled: torch.Tensor,
                        config: DiscriminatorConfig, generator: torch.Generator) -> nn.Module:
    """An MLP telling ``labeled`` (class 0) from ``unlabeled`` (class 1) feature rows.

    Classes are weighted inversely to their size; training stops once an epoch's running
    accuracy passes ``stop_accuracy`` (before the net is sure of everything), or after
    ``max_epochs``.
    """
    device = labeled.device
    x = torch.cat([labeled, unlabeled])
    y = torch.cat([torch.zeros(len(labeled), dtype=torch.long),
                   torch.ones(len(unlabeled), dtype=torch.long)]).to(device)
    counts = torch.tensor([len(labeled), len(unlabeled)], dtype=torch.float32)
    weights = (len(x) / counts.clamp(min=1)).to(device)
    net = mlp([x.shape[1]] + [config.hidden] * config.depth + [2], generator).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    for _ in range(config.max_epochs):
        correct = torch.zeros((), dtype=torch.long, device=device)  # read once per epoch
        order = torch.randperm(len(x), generator=generator).to(device)
        for batch in order.split(config.batch_size):
            logits = net(x[batch])
            loss = nn.functional.cross_entropy(logits, y[batch], weight=weights)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            correct += (logits.argmax(1) == y[batch]).sum()
        if int(correct) / len(x) > config.stop_accuracy:
            break
    return net.eval()


def unlabeled_probability(net: nn.Module, x: torch.Tensor, batch: int = 8192) -> torch.Tensor:
    """P(unlabelled) for each row of ``x``, as a CPU float tensor."""
    with torch.inference_mode():
        return torch.cat([torch.softmax(net(part), 1)[:, 1].float().cpu()
                          for part in x.split(batch)])


def autoencoder_features(x: torch.Tensor, generator: torch.Generator, code: int = 64,
                         hidden: int = 256, epochs: int = 10, batch_size: int = 256,
                         lr: float = 1e-3) -> torch.Tensor:
    """Train an MLP autoencoder on the rows of ``x`` (squared error) and return their codes."""
    encoder = mlp([x.shape[1], hidden, code], generator).to(x.device)
    decoder = mlp([code, hidden, x.shape[1]], generator).to(x.device)
    parameters = list(encoder.parameters()) + list(decoder.parameters())
    optimizer = torch.optim.Adam(parameters, lr=lr)
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(batch_size):
            rows = x[batch.to(x.device)]
            loss = nn.functional.mse_loss(decoder(encoder(rows)), rows)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        return torch.cat([encoder(part) for part in x.split(8192)])
