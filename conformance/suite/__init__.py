"""The conformance suite as a pytest package: ``pytest --pyargs gc_conformance.suite --gc-adapter SPEC``."""
