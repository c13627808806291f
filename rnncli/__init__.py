"""rnncli: sequence learning with recurrent networks, from the command line and from Python.

The Python API (``rnncli.build_vocab``, ``rnncli.train``, ``rnncli.load`` and the ``Run`` they
return) is imported on first use, so that importing the package, as ``rnncli encode`` does, stays
free of torch.
"""

from typing import Any

from rnncli.version import __version__

__all__ = ["Run", "TrainArgs", "__version__", "build_vocab", "describe", "load", "train"]


def __getattr__(name: str) -> Any:
    if name == "TrainArgs":
        from rnncli.args import TrainArgs

        return TrainArgs
    if name in ("Run", "build_vocab", "describe", "load", "train"):
        from rnncli import api

        return getattr(api, name)
    raise AttributeError(f"module 'rnncli' has no attribute {name!r}")
