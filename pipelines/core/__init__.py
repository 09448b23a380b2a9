"""Shared machinery with no domain knowledge: settings, HTTP, raw/, the warehouse, the universe."""
