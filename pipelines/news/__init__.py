"""News: the crawler, article extraction, numbers and claims, the claim checks, and their assets."""
