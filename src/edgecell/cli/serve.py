from functools import partial
from typing import Annotated

import typer

from edgecell.cli.options import (
    SERVING,
    AllowHost,
    FullDecode,
    Labels,
    Locale,
    MaxBodyMb,
    Mean,
    ModelFile,
    RuntimeChoice,
    Std,
    Threads,
    Threshold,
    Token,
    TopK,
    open_classifier,
)
from edgecell.cli.user_errors import user_errors
from edgecell.device.model.runtime import Runtime


def serve(
    model: ModelFile = None,
    labels: Labels = None,
    locale: Locale = "en",
    mean: Mean = None,
    std: Std = None,
    top_k: TopK = 1,
    threshold: Threshold = 0.0,
    threads: Threads = None,
    runtime: RuntimeChoice = Runtime.auto,
    full_decode: FullDecode = False,
    address: Annotated[
        str,
        typer.Option(
            "--serve",
            metavar="[HOST:]PORT",
            envvar="EDGECELL_SERVE",
            show_envvar=True,
            help="Where to listen; HOST defaults to 127.0.0.1, any other needs --token.",
            rich_help_panel=SERVING,
        ),
    ] = "127.0.0.1:8080",
    token: Token = None,
    max_body_mb: MaxBodyMb = 10.0,
    allow_host: AllowHost = None,
):
    """Classify images POSTed to /classify (and show the last one on a live page) until Ctrl-C."""
    from edgecell.device.http import server
    from edgecell.device.loop import runner

    stop = runner.Stop()
    with user_errors():
        classifier = open_classifier(model, labels, mean, std, threads, runtime, full_decode, locale)
        serving = server.Serving(address, token, max_body_mb, top_k, threshold, allow_hosts=tuple(allow_host or ()))
        status = server.run(
            classifier,
            serving,
            stop=stop,
            on_signals=True,
            log=partial(typer.echo, err=True),
        )
    images = status["images"]
    typer.echo(f"Classified {images['done']} images ({images['failed']} failed) in {status['uptime_seconds']:.0f} s.")
    raise typer.Exit(130 if stop.reason == "SIGINT" else 0)
