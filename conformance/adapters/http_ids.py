"""ID tables: the suite's names for accounts, devices and bundles, and a registry's own IDs.

Checks name everything themselves (``ACC-ALICE``, ``DEV-WIND``); a real registry generates
its own IDs, often integers. The adapter learns each pair as the registry answers and
translates in both directions, and it must never let an untranslatable value reach the
registry in a form that could name one of the registry's own objects (a wrong-type probe
``7`` would otherwise act on the registry's account 7 and turn a refusal into an acceptance).
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from typing import Any

#: The mark of a value an ID table could not translate (see :meth:`IdTables.translate`).
UNTRANSLATED = "untranslated:"
_SEEN_LIMIT = 20_000  # bundles remembered (ID -> last record seen) to scope inferred results


class IdTables:
    """Both directions of every ID table of a mapping, and the bundles seen most recently."""

    def __init__(self, tables: Iterable[str], bundle_ids: Mapping[str, str]) -> None:
        self._ids: dict[str, dict[str, Any]] = {t: {} for t in tables}
        self._names: dict[str, dict[str, str]] = {t: {} for t in self._ids}
        self._bundle_ids = bundle_ids
        self._seen: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()

    def knows(self, table: str, name: Any) -> bool:
        """Whether the suite's ``name`` has been learnt in ``table``."""
        return name in self._ids[table]

    def translate(self, table: str, name: Any) -> Any:
        """The registry's ID for the suite's ``name`` in ID table ``table``.

        A value the table cannot translate names nothing of the suite's, and
        must never name one of the registry's own objects either:

        * a name never learnt that cannot be a registry ID (``"ACC-NOBODY"``),
          and a value no registry uses as an ID (null, a boolean, a fraction,
          a list, an object), go through unchanged — the registry then
          refuses an unknown object, or a field of the wrong type, itself;
        * a value that could be one of the registry's IDs (an integer, a
          string of digits, or the text of an ID the table has learnt) is sent
          as :data:`UNTRANSLATED` + its text: a string that is a wrong type
          for integer IDs and names no object for string IDs.
        """
        if isinstance(name, str):
            found = self._ids.get(table, {}).get(name)
            if found is not None:
                return found
        if self._could_be_registry_id(table, name):
            return UNTRANSLATED + str(name)
        return name

    def _could_be_registry_id(self, table: str, value: Any) -> bool:
        """Whether ``value``, untranslated, might name an object the registry has."""
        if isinstance(value, bool) or not isinstance(value, int | str):
            return False
        text = str(value)
        return (
            isinstance(value, int)
            or text.strip().lstrip("+-").isdigit()
            or text in self._names.get(table, {})
        )

    def learn(self, table: str, name: str, registry_id: Any) -> None:
        """Remember that the suite's ``name`` is ``registry_id`` in table ``table``."""
        self._ids.setdefault(table, {})[name] = registry_id
        self._names.setdefault(table, {})[str(registry_id)] = name

    def name_of(self, table: str, registry_id: Any) -> Any:
        """The suite's name for a registry ID (the ID itself when it is none of ours)."""
        if registry_id is None or isinstance(registry_id, bool):
            return registry_id
        return self._names.get(table, {}).get(str(registry_id), registry_id)

    def names_in(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Decoded data with the bundles' registry IDs turned back into the suite's names."""
        out = dict(data)
        listed = out.get("bundles")
        if isinstance(listed, list):
            out["bundles"] = [self._bundle_names(b) for b in listed]
        return out

    def _bundle_names(self, bundle: object) -> object:
        if not isinstance(bundle, Mapping):
            return bundle
        named = dict(bundle)
        for field, table in self._bundle_ids.items():
            if field in named:
                named[field] = self.name_of(table, named[field])
        key = named.get("bundle_id")
        if key is not None and not isinstance(key, dict | list):
            self._seen[str(key)] = named
            self._seen.move_to_end(str(key))
            while len(self._seen) > _SEEN_LIMIT:
                self._seen.popitem(last=False)
        return named

    def last_seen(self, bundle_id: Any) -> dict[str, Any] | None:
        """The last record seen of a bundle (by the suite's name), None if never seen."""
        return self._seen.get(str(bundle_id)) if bundle_id is not None else None
