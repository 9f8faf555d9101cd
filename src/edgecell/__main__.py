from edgecell.cli.main import main

main()
