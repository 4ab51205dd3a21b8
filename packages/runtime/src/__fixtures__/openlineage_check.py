"""Checks OpenLineage events against the model of OpenLineage's own Python client.

openlineage-python (pinned in tools/services/requirements.in) ships
`openlineage.client.generated`: attrs classes generated from the spec's JSON Schema
(spec/OpenLineage.json 2-0-2 and spec/facets/*.json), with the schema's required
properties, types, enums and format checks (uuid, date-time). This reads each event the
way that schema does:

- every property the schema requires is present (`producer`, `schemaURL`, `_producer`
  and `_schemaURL` too, which the client fills in itself but the schema requires);
- every value has the schema's type; enums hold one of their values; the client's
  validators (run ids are UUIDs, event times are date-times) pass;
- `schemaURL` and each facet's `_schemaURL` name exactly the version the client was
  generated from, and a facet sits where its kind belongs (a run facet under run.facets);
- facets may carry more properties (the schema lets them), other objects may not.

Protocol: one JSON event per stdin line; one stdout line per event,
`{"errors": [...], "facets": ["<key> <schema id>", ...]}`.
"""

from __future__ import annotations

import enum
import importlib
import json
import pkgutil
import sys
import types
import typing

import attr
import openlineage.client.generated as generated
from openlineage.client.generated.base import BaseFacet, RunEvent

# Properties the schema requires that the client's classes default.
SCHEMA_REQUIRED = {"producer", "schemaURL", "_producer", "_schemaURL"}


def facet_classes() -> dict[str, type]:
    """Every facet class the client knows, by the schema URL it was generated from."""
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(generated.__path__):
        module = importlib.import_module(f"{generated.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseFacet) and attr.has(value):
                found[value._get_schema()] = value
    return found


FACETS = facet_classes()
FACET_NAMES = {url.rsplit("/", 1)[-1]: url for url in FACETS}


class Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.facets: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{where or '/'} {message}")

    def value(self, value: typing.Any, hint: typing.Any, where: str) -> None:
        origin = typing.get_origin(hint)
        if origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(hint) if a is not type(None)]
            if len(options) != 1:
                raise TypeError(f"unexpected union {hint} at {where}")
            return self.value(value, options[0], where)
        if hint is typing.Any:
            return None
        if origin is list:
            if not isinstance(value, list):
                return self.fail(where, "must be array")
            for i, item in enumerate(value):
                self.value(item, typing.get_args(hint)[0], f"{where}/{i}")
            return None
        if origin is dict:
            if not isinstance(value, dict):
                return self.fail(where, "must be object")
            item_hint = typing.get_args(hint)[1]
            facet_group = isinstance(item_hint, type) and issubclass(item_hint, BaseFacet)
            for key, item in value.items():
                if facet_group:
                    self.facet(key, item, item_hint, f"{where}/{key}")
                else:
                    self.value(item, item_hint, f"{where}/{key}")
            return None
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            allowed = [m.value for m in hint]
            if value not in allowed:
                self.fail(where, f"must be one of {allowed}")
            return None
        if isinstance(hint, type) and attr.has(hint):
            return self.object(value, hint, where)
        if hint is bool:
            ok = isinstance(value, bool)
        elif hint is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif hint is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif hint is str:
            ok = isinstance(value, str)
        else:
            raise TypeError(f"unexpected type {hint} at {where}")
        if not ok:
            self.fail(where, f"must be {hint.__name__}")
        return None

    def facet(self, key: str, value: typing.Any, kind: type, where: str) -> None:
        if not isinstance(value, dict):
            return self.fail(where, "must be object")
        url = value.get("_schemaURL")
        cls = FACETS.get(url) if isinstance(url, str) else None
        if cls is None and isinstance(url, str) and url.rsplit("/", 1)[-1] in FACET_NAMES:
            return self.fail(f"{where}/_schemaURL", f"names {url}; the spec's is {FACET_NAMES[url.rsplit('/', 1)[-1]]}")
        if cls is None:
            # A custom facet: the schema asks only for the base facet's properties.
            return self.object(value, kind, where, own_schema=False)
        if not issubclass(cls, kind):
            return self.fail(where, f"{cls.__name__} is not a {kind.__name__}")
        self.facets.append(f"{key} {url.split('#')[0]}")
        return self.object(value, cls, where)

    def object(self, value: typing.Any, cls: type, where: str, own_schema: bool = True) -> None:
        if not isinstance(value, dict):
            return self.fail(where, "must be object")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in attr.fields(cls)}
        for name, field in fields.items():
            here = f"{where}/{name}"
            if name not in value:
                if field.default is attr.NOTHING or name in SCHEMA_REQUIRED:
                    self.fail(where, f"must have required property '{name}'")
                continue
            before = len(self.errors)
            self.value(value[name], hints[name], here)
            if own_schema and name in ("schemaURL", "_schemaURL") and value[name] != cls._get_schema():
                self.fail(here, f"must be {cls._get_schema()}")
            if field.validator is not None and len(self.errors) == before:
                try:
                    field.validator(None, field, value[name])
                except Exception as e:  # noqa: BLE001 - the client's validators raise what they raise
                    self.fail(here, f"is invalid: {e}")
        if not issubclass(cls, BaseFacet):
            for name in value.keys() - fields.keys():
                self.fail(where, f"must NOT have additional property '{name}'")
        return None


def check(event: typing.Any) -> dict[str, list[str]]:
    checker = Checker()
    checker.object(event, RunEvent, "")
    return {"errors": checker.errors, "facets": checker.facets}


def main() -> None:
    for line in sys.stdin:
        try:
            result = check(json.loads(line))
        except ValueError as e:
            result = {"errors": [f"/ not JSON: {e}"], "facets": []}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
