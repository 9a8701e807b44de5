"""``python -m backtests`` runs the ``catalyst-bt`` command line."""

from backtests.cli import main

main()
