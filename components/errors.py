"""Errors whose message alone tells the user what went wrong and what to do next."""


class UserError(RuntimeError):
    """Bad input or settings, reported by the CLI as one clear line instead of a traceback."""


class RunStopped(UserError):
    """A check stopped the run on purpose before training (anomalies, label drift): not a failure of the code."""
