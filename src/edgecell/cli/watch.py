import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from edgecell.cli.user_errors import user_errors


def watch(
    url: Annotated[
        str, typer.Argument(help="The broker and prefix the boards publish under: mqtt://host[:port]/PREFIX.")
    ],
    mqtt_ca: Annotated[
        Optional[Path], typer.Option("--mqtt-ca", exists=True, dir_okay=False, help="CA certificate for mqtts://.")
    ] = None,
    json_file: Annotated[
        Optional[Path],
        typer.Option(
            "--json", metavar="FILE", dir_okay=False, help="The table as JSON to FILE at every refresh ('-': stdout)."
        ),
    ] = None,
    every: Annotated[float, typer.Option(min=0.1, help="Seconds between refreshes.")] = 1.0,
    duration: Annotated[
        Optional[float], typer.Option(min=0.1, help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
    forget: Annotated[
        float, typer.Option(min=1, metavar="SECONDS", help="Drop a board from the table after this long silent.")
    ] = 86400.0,
):
    """A live table of every board publishing under PREFIX: online, images/s, latency, last label."""
    from edgecell.core import atomic
    from edgecell.device.connect import broker, watch_table

    def show(current):
        if json_file is not None and str(json_file) == "-":
            typer.echo(json.dumps(current.snapshot()))
            return
        if json_file is not None:
            atomic.write_json(json_file, current.snapshot())
        table = current.table()
        if sys.stdout.isatty():
            typer.echo("\x1b[H\x1b[2J" + table)  # redraw in place
        else:
            typer.echo(table + "\n")

    with user_errors():
        target = broker.parse_url(url, "URL")
        watch_table.watch(
            target,
            ca=mqtt_ca,
            every=every,
            duration=duration,
            on_update=show,
            log=lambda m: typer.echo(m, err=True),
            forget_s=forget,
        )
