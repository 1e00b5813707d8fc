"""Reading account files: CSV decoding, column mappings, rows turned into accounts, contacts and scores."""
