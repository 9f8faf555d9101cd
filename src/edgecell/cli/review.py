from pathlib import Path
from typing import Annotated

import typer

from edgecell.cli.user_errors import user_errors

Inbox = Annotated[Path, typer.Argument(help="The inbox edgecell collect --into filled.", show_default=False)]
Data = Annotated[
    Path,
    typer.Option(
        file_okay=False,
        help="The class-folder dataset a labelled frame moves into (DATA/<class>/).",
        show_default=False,
    ),
]
Port = Annotated[int, typer.Option(min=0, max=65535, help="The port on 127.0.0.1 (0: any free one).")]


def review(inbox: Inbox, data: Data, port: Port = 0):
    """Label collected frames in a local page: one button and key per class, skip, none of these and
    undo; a labelled frame moves into DATA/<class>/, ready for edgecell train DATA."""
    from edgecell.review import review_server
    from edgecell.review.session import Session

    with user_errors():
        session = Session(inbox, data)
        httpd, url = review_server.server(session, port)
    typer.echo(f"Review {len(session.left())} frames at {url} (Ctrl-C to stop).", err=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    typer.echo(f"Labelled {session.labelled} frames into {data}.")
