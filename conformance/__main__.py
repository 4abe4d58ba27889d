"""``python -m gc_conformance`` is the ``gc-conformance`` command, for venvs whose scripts are not on PATH."""

from gc_conformance.cli import main

raise SystemExit(main())
