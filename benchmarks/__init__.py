"""The benchmark suite: `python benchmarks/run.py` prints edgecell against its floor and its alternatives, as ratios."""
