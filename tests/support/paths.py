"""Where the tests find the repository and the shared peer models, wherever a test file sits."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PEER = REPO.parent / "shared" / "peer-models"  # ../shared: real models from elsewhere, not copied in
