"""SEC EDGAR: the client, the parsers of companyfacts, submissions and XBRL, and their assets."""
