"""The project's exception types.

Every error a user can cause is an ``RnncliError``; the CLI turns it into one line
``error: ...`` on stderr and exit status 1. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class RnncliError(Exception):
    """A user-facing error: bad input, bad file, impossible request."""

    exit_code = 1


class InputError(RnncliError):
    """An input file or stream that cannot be read as asked."""


class FormatError(RnncliError):
    """A file rnncli should have written that is foreign, corrupt or of an unknown version."""


class ConfigError(RnncliError):
    """Options that cannot work together, or values out of range: a usage error."""

    exit_code = 2


class TrainingError(RnncliError):
    """Training cannot go on (a numerical failure, a locked run directory, ...)."""


class StopRequested(Exception):
    """Raised out of the training loop after a clean save when a signal asked to stop (not an
    error: the CLI says where the run is saved and how to resume it)."""

    def __init__(self, signum: int, step: int, path: str = "") -> None:
        super().__init__(f"stopped by signal {signum} at step {step}")
        self.signum, self.step, self.path = signum, step, path
