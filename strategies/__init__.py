"""Trading strategies: decisions only, each on the ``CatalystStrategy`` hook."""
