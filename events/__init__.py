"""Catalysts: the model, calendar files, the market-aware schedule and article extraction."""
