"""Golden vectors: versioned, schema-checked cases generated from the reference model (issue 6)."""
