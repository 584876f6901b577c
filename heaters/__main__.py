"""``python -m heaters`` is the ``heaters`` command."""

from heaters.cli import main

main()
