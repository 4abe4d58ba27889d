"""A toy certificate registry and its conformance adapter: the worked example of docs/adapters.md.

``registry`` is the "vendor's product": a small, independent, in-memory
registry with its own vocabulary (units, lots, parcels, serials), its own
numbered errors and its own identifiers. It knows nothing of the suite.

``adapter`` is what a vendor writes to put it under test: ``ToyAdapter``
translates the suite's plain requests into calls of the toy's API and the
toy's answers and errors back into the contract's shapes and canonical codes.

Run the suite against it from the repository root::

    gc-conformance run --adapter examples.toy_registry.adapter:ToyAdapter
"""
