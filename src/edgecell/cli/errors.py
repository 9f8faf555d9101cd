"""Turn the errors a user can cause into one sentence and an exit code."""

import contextlib
import errno

import typer

from edgecell.errors import EdgecellError


@contextlib.contextmanager
def user_errors():
    try:
        yield
    except EdgecellError as error:
        typer.secho(f"Error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(error.exit_code) from None
    except OSError as error:
        if error.errno == errno.ENOSPC:
            typer.secho(f"Error: no space left on the device while writing {error.filename or 'output'}; "
                        "free some space and run again.", err=True, fg=typer.colors.RED)
            raise typer.Exit(1) from None
        raise
    except KeyboardInterrupt:
        typer.secho("Interrupted.", err=True)
        raise typer.Exit(130) from None
