"""The SQL models in sql/, the seed tables, the mart checks and the publish step."""
