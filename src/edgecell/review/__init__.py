"""`edgecell review`: label the frames `edgecell collect` brought home, in a local page."""
