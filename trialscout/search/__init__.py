"""Trial search: full-text relevance, filters, facets, distance and browsing by condition."""
