"""The one error type a user sees: a sentence and an exit code, never a traceback."""

USAGE = 2  # bad input: missing folder, wrong model, missing dependency
BUDGET = 3  # a model was written but is over its accuracy budget


class EdgecellError(Exception):
    """A problem the user can fix; `str(error)` is the whole message."""

    def __init__(self, message: str, exit_code: int = USAGE):
        super().__init__(message)
        self.exit_code = exit_code
