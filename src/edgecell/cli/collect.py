from pathlib import Path
from typing import Annotated, Optional

import typer

from edgecell.cli.deploy import Inventory, Parallel, SshConfig, SshOption
from edgecell.cli.options import JsonFile, Quiet, write_json
from edgecell.cli.user_errors import user_errors
from edgecell.core.errors import EdgecellError

Boards = Annotated[
    Optional[list[str]],
    typer.Argument(metavar="HOST...", show_default=False, help="The boards, as user@host[:port] or ssh aliases."),
]
Into = Annotated[
    Optional[Path],
    typer.Option(file_okay=False, help="The inbox: each board's frames go to INBOX/<board>/.", metavar="INBOX"),
]
From = Annotated[
    str,
    typer.Option(
        "--from", help="The board's --collect folder, relative to the SSH user's home or absolute.", metavar="DIR"
    ),
]
Remove = Annotated[
    bool, typer.Option("--remove", help="Remove each frame from the board once its copy here is verified.")
]


def collect(
    boards: Boards = None,
    into: Into = None,
    inventory: Inventory = None,
    source: From = "edgecell/collected",
    remove: Remove = False,
    parallel: Parallel = 4,
    ssh_config: SshConfig = None,
    ssh_option: SshOption = None,
    json_file: JsonFile = None,
    quiet: Quiet = False,
):
    """Fetch the frames `edgecell infer --collect` kept on boards over SSH: only new ones, each copy
    checked by its sha256, removed from the board only with --remove."""
    from edgecell.deploy import fetch, hosts
    from edgecell.deploy.ssh import Ssh

    with user_errors():
        if into is None:
            raise EdgecellError("Say where the frames go: --into INBOX (each board gets a folder there).")
        found = hosts.collect(list(boards or []), inventory)

        def finished(report):
            if not quiet:
                typer.echo(f"{report.board}: {'done' if report.ok else 'failed'}", err=True)

        ssh = Ssh(ssh_config, ssh_option or ())
        reports = fetch.collect(found, into, ssh, source, remove, parallel=parallel, on_board=finished)
        if json_file is None or str(json_file) != "-":
            typer.echo("\n".join(fetch.lines(reports)))
        if json_file is not None:
            write_json(json_file, {"boards": [r._asdict() for r in reports], "ok": all(r.ok for r in reports)})
    raise typer.Exit(0 if all(r.ok for r in reports) else 1)
