"""Distributed data parallel training on PyTorch's own engine (torchrun + DDP).

``torchrun --standalone --nproc-per-node N -m rnncli train ...`` starts N processes; each reads
its rank from the environment and joins a process group (gloo on CPU, nccl on CUDA). Language
models split the batch columns of the contiguous token stream between ranks, so each rank keeps
its own hidden state continuous and all take the same number of steps; classifiers deal the
length-bucketed batches of each epoch round-robin. Gradients are averaged by DDP; metrics and
stopping decisions are reduced so every rank agrees; only rank 0 prints and writes files.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum over ranks (float64)."""
        if not self.enabled:
            return values
        tensor = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on any: stopping decisions stay in step."""
        if not self.enabled:
            return flag
        return self.sum([1.0 if flag else 0.0])[0] > 0

    def gather_tensor(self, tensor: torch.Tensor, dim: int) -> torch.Tensor:
        """Concatenate each rank's tensor along ``dim`` (same shape on every rank)."""
        if not self.enabled:
            return tensor
        parts = [torch.empty_like(tensor) for _ in range(self.world)]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts, dim=dim)


_CURRENT = Dist()
_JOINED = False


def current() -> Dist:
    return _CURRENT


def init_from_environment(device_type: str = "cpu") -> Dist:
    """Join the process group torchrun describes in the environment (once); a plain run is rank 0 of 1."""
    global _CURRENT
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        _CURRENT = Dist()
        return _CURRENT
    global _JOINED
    _JOINED = True
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        dist.init_process_group(backend)
    _CURRENT = Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    return _CURRENT


def shutdown(clean: bool = True) -> None:
    """Leave the process group; after a clean run, only once every rank is done with it."""
    global _CURRENT
    if dist.is_available() and dist.is_initialized():
        if clean:
            dist.barrier()
        gc.collect()  # DDP reducers hold the group: release them while the interpreter is whole
        dist.destroy_process_group()
    _CURRENT = Dist()


def joined_a_group() -> bool:
    """Whether this process was one of several ranks.

    Such a process should leave with ``os._exit`` once its files are written: gloo's worker
    threads can abort ("terminate called without an active exception") when the interpreter's
    finaliser destroys them, turning a finished run into a failed one.
    """
    return _JOINED
