"""Turn the errors a user can cause into one sentence and an exit code."""

import contextlib
import errno

import typer

from edgecell.core.errors import EdgecellError


@contextlib.contextmanager
def user_errors():
    try:
        yield
    except EdgecellError as error:
        typer.secho(f"Error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(error.exit_code) from None
    except OSError as error:
        message = _file_problem(error)
        if message is None:
            raise
        typer.secho(f"Error: {message}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.secho("Interrupted.", err=True)
        raise typer.Exit(130) from None


def _file_problem(error: OSError):
    """One sentence for a file the system would not write (or read), or None for anything else."""
    where = error.filename or "output"
    if error.errno == errno.ENOSPC:
        return f"no space left on the device while writing {where}; free some space and run again."
    if error.errno == errno.EDQUOT:
        return f"disk quota exceeded while writing {where}; free some space and run again."
    if error.errno == errno.EROFS:
        return (
            f"{where} is on a read-only file system (a read-only mount, or an SD card the kernel remounted "
            "read-only after errors); write it elsewhere or remount the file system read-write."
        )
    if error.filename:
        return f"{error.filename}: {error.strerror or error}."
    return None
