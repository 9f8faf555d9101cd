"""`edgecell deploy`: from the laptop to one board or a fleet over SSH, proven on the board.

Runs on the laptop and drives boards: it may import `edgecell.core` and `edgecell.device` (the
local reference run classifies through the same `Classifier` the board uses), never the CLI.
hosts.py (who), ssh.py (how to reach them), board.py (what is done there), verify.py (is the
board's answer ours), fleet.py (one board after another, or several at once), report.py (the table).
"""
