"""``python -m vigile``: the same as the ``vigile`` command."""

from vigile.cli.app import main

main()
