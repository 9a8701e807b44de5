"""The engine (the only Cerebro), costs, money, results, metrics, studies and the CLI."""
