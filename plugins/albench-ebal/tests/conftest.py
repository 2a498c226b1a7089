import torch

# Tiny models train faster on one thread, and tests stay quick when cores are busy.
torch.set_num_threads(1)
