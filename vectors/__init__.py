"""Golden vectors: versioned, schema-checked cases generated from the reference model (issue 6).

The JSON files beside this module are the vectors (format: ``vectors/README.md``);
the modules generate (:mod:`.generate`), read (:mod:`.files`), replay
(:mod:`.verify`) and compare (:mod:`.diff`) them. This package's import runs
no code, so the harness can locate its ``index.json`` without importing it.
"""
