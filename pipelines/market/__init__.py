"""Market data: prices, share counts and splits, the ECB's exchange rates, and their assets."""
