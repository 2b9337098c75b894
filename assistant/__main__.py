"""`python -m assistant` runs the `conflict-qa` command line."""

from assistant.cli import main

main()
