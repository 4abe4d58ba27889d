"""GridLedger: a second, realistic example registry, tested through a mapping file alone.

Unlike the toy registry (in process, with a Python adapter), this one is
shaped the way deployed registries are, so that the adapter guide's HTTP
chapter (``docs/adapters-http.md``) can show the mapping language on
something real:

* an HTTP service of its own (starlette) with its own storage (sqlite3);
* IDs it generates itself (integers) for users, accounts, devices and
  bundles; the suite's names survive only as unique *references*;
* certificates numbered **per device** (each device's counter starts at 1);
* actions on **lists** of bundle IDs; answers that do not name the bundles a
  split produced; query parameters in the query string;
* errors as free text (``{"error": "..."}``), no machine-readable code;
* no reset, no state export, no reserve/lock/release, and the wall clock.

Start it with ``python -m examples.real_registry --port 0`` (from the
repository root; it prints ``serving URL``) and test it with::

    GC_HTTP_TOKEN=$ADMIN_KEY gc-conformance run \\
        --adapter 'http://127.0.0.1:PORT?mapping=examples/real_registry/mapping.json'

It imports nothing of ``gc_conformance``.
"""
