"""Rule tables for the classifier: status codes, reply codes and diagnostic phrasings."""
