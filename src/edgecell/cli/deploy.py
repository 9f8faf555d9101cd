from pathlib import Path
from typing import Annotated, Optional

import typer

from edgecell.cli.options import JsonFile, Quiet, write_json
from edgecell.cli.user_errors import user_errors
from edgecell.core.errors import EdgecellError

Targets = Annotated[
    Optional[list[str]],
    typer.Argument(
        metavar="MODEL HOST...",
        show_default=False,
        help="The .tflite to deploy, then the boards as user@host[:port] (with --rollback: boards only).",
    ),
]
Inventory = Annotated[
    Optional[Path],
    typer.Option(exists=True, dir_okay=False, help="A file of boards, one user@host[:port] a line (# comments)."),
]
Prefix = Annotated[
    str, typer.Option(help="Where edgecell lives on the board, relative to the SSH user's home or absolute.")
]
Name = Annotated[
    Optional[str], typer.Option(help="The model's name on the board: PREFIX/models/NAME (default: MODEL's stem).")
]
Images = Annotated[
    Optional[Path],
    typer.Option(
        exists=True,
        file_okay=False,
        help="Held-out images to prove the model on each board (default: the model folder's test split).",
    ),
]
Service = Annotated[
    bool, typer.Option("--service", help="Restart the board's edgecell-infer service and wait until healthy.")
]
Rollback = Annotated[bool, typer.Option("--rollback", help="Switch each board back to its previous model; no MODEL.")]
Parallel = Annotated[int, typer.Option(min=1, max=64, help="Boards deployed at once.")]
SshConfig = Annotated[
    Optional[Path],
    typer.Option(exists=True, dir_okay=False, help="An ssh config file instead of ~/.ssh/config (ssh -F)."),
]
SshOption = Annotated[
    Optional[list[str]], typer.Option(help="An ssh -o option, e.g. ProxyJump=gateway; repeat for more.")
]
Wheel = Annotated[
    Optional[Path],
    typer.Option(exists=True, dir_okay=False, help="The edgecell wheel boards install (default: built here)."),
]


def deploy(
    targets: Targets = None,
    inventory: Inventory = None,
    prefix: Prefix = "edgecell",
    name: Name = None,
    images: Images = None,
    service: Service = False,
    rollback: Rollback = False,
    parallel: Parallel = 4,
    ssh_config: SshConfig = None,
    ssh_option: SshOption = None,
    wheel: Wheel = None,
    json_file: JsonFile = None,
    quiet: Quiet = False,
):
    """Deploy a .tflite to boards over SSH: install edgecell there, prove the model on each board
    against this machine's answers, switch to it, restart the service; or --rollback."""
    from edgecell.deploy import fleet, hosts, report
    from edgecell.deploy.ssh import Ssh

    with user_errors():
        words = list(targets or [])
        if rollback:
            model = None
        else:
            if not words:
                raise EdgecellError("Give the MODEL.tflite to deploy, then one or more HOSTs (or --rollback HOST...).")
            model = Path(words.pop(0))
            if model.suffix != ".tflite" or not model.is_file():
                raise EdgecellError(f"{model} is not a .tflite file; give the model first, then the HOSTs.")
        boards = hosts.collect(words, inventory)
        settings = fleet.Settings(prefix, name, images, service, parallel, wheel)
        ssh = Ssh(ssh_config, ssh_option or ())

        def finished(board):
            if not quiet:
                typer.echo(f"{board.board}: {board.status}", err=True)

        if rollback:
            reports = fleet.rollback(boards, ssh, settings, on_board=finished)
        else:
            reports = fleet.deploy(model, boards, ssh, settings, on_board=finished)
        text = "\n".join(report.table(reports))
        document = report.as_json(reports, "rollback" if rollback else "deploy", settings)
        if json_file is None or str(json_file) != "-":
            typer.echo(text)
        if json_file is not None:
            write_json(json_file, document)
    raise typer.Exit(fleet.exit_code(reports))
