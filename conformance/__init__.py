"""gc-conformance: conformance suite and reference model for EnergyTag GC registries.

The installed import package. Its subpackages come from the repository's
top-level folders (see ARCHITECTURE.md): ``gc_conformance.reference`` is the
executable reference model; the harness modules live directly here.
"""

__version__ = "0.1.0"
STANDARD_REVISION = "EnergyTag GC Scheme Standard v2"
