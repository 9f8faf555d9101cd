"""`edgecell review INBOX --data DATA` in a subprocess for the tests: started, its URL found, stopped."""

from support.serving import started, stop

__all__ = ["start_review", "stop"]


def start_review(inbox, data, tmp_path):
    """The running command and the page's URL (from its stderr)."""
    return started(["review", inbox, "--data", data], tmp_path, r"http://127\.0\.0\.1:\d+/[A-Za-z0-9_-]+/", "review-")
