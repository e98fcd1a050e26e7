"""Whether a new JSON Schema of an event can replace a committed one within the same version.

Within a version only additive, optional changes are allowed: a producer on the new schema must not
break a consumer on the old one, nor the other way round. So, for every property reached from the
root (through ``$ref``, ``anyOf``/``oneOf``, ``items`` and ``additionalProperties``), these are
breaking: a property removed; a property newly required, or no longer required; a changed
``type``, ``format`` or ``const``; an enum value removed or added (consumers validate enums, so an
old one would refuse the new value); a changed validation constraint (length, bounds, pattern); a
union option removed or added. ``$ref`` targets are compared by their content, not by their name, so
renaming a model is not a change. Titles, descriptions, examples and defaults are documentation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Schema = Mapping[str, Any]

_COMPARED = (
    "type",
    "format",
    "const",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
)


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every change from `old` to `new` that is not additive-optional, as readable lines."""
    return _Comparison(old, new).node(old, new, "$", frozenset())


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root

    def node(
        self, old: Schema, new: Schema, path: str, seen: frozenset[tuple[str, str]]
    ) -> list[str]:
        pair = (old.get("$ref", ""), new.get("$ref", ""))
        if pair != ("", "") and pair in seen:
            return []  # a recursive model: this pair is being compared further up
        seen |= {pair}
        old, new = _resolve(self.old_root, old), _resolve(self.new_root, new)
        old_options, new_options = _options(old), _options(new)
        if old_options is not None or new_options is not None:
            return self.union(old_options or [old], new_options or [new], path, seen)
        return [
            *_keywords(old, new, path),
            *_enum(old, new, path),
            *self.properties(old, new, path, seen),
            *self.children(old, new, path, seen),
        ]

    def union(
        self, old: list[Schema], new: list[Schema], path: str, seen: frozenset[tuple[str, str]]
    ) -> list[str]:
        def same(old_option: Schema, new_option: Schema) -> bool:
            return not self.node(old_option, new_option, path, seen)

        removed = [o for o in old if not any(same(o, n) for n in new)]
        added = [n for n in new if not any(same(o, n) for o in old)]
        return [f"{path}: type option {_describe(o)} removed or changed" for o in removed] + [
            f"{path}: type option {_describe(n)} added" for n in added
        ]

    def properties(
        self, old: Schema, new: Schema, path: str, seen: frozenset[tuple[str, str]]
    ) -> list[str]:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        problems = []
        for name, old_prop in old_props.items():
            if name not in new_props:
                problems.append(f"{path}.{name}: property removed")
            else:
                problems += self.node(old_prop, new_props[name], f"{path}.{name}", seen)
        for name in sorted(new_required - old_required):
            problems.append(f"{path}.{name}: newly required")
        for name in sorted((old_required - new_required) & set(new_props)):
            problems.append(f"{path}.{name}: no longer required")
        return problems

    def children(
        self, old: Schema, new: Schema, path: str, seen: frozenset[tuple[str, str]]
    ) -> list[str]:
        problems = []
        for key, suffix in (("items", "[]"), ("additionalProperties", "{}")):
            old_child, new_child = old.get(key), new.get(key)
            if isinstance(old_child, Mapping) and isinstance(new_child, Mapping):
                problems += self.node(old_child, new_child, path + suffix, seen)
            elif old_child != new_child:
                problems.append(f"{path}: {key} changed from {old_child!r} to {new_child!r}")
        return problems


def _resolve(root: Schema, schema: Schema) -> Schema:
    """The schema a ``$ref`` points to (local ``#/...`` references), merged with its siblings."""
    while "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{key: value for key, value in schema.items() if key != "$ref"}}
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1:  # how older generators wrap a lone $ref
        rest = {key: value for key, value in schema.items() if key != "allOf"}
        return {**_resolve(root, all_of[0]), **rest}
    return schema


def _options(schema: Schema) -> list[Schema] | None:
    options = schema.get("anyOf", schema.get("oneOf"))
    return list(options) if isinstance(options, list) else None


def _keywords(old: Schema, new: Schema, path: str) -> list[str]:
    def normal(value: Any) -> Any:
        return sorted(value) if isinstance(value, list) else value

    return [
        f"{path}: {key} changed from {old.get(key)!r} to {new.get(key)!r}"
        for key in _COMPARED
        if normal(old.get(key)) != normal(new.get(key))
    ]


def _enum(old: Schema, new: Schema, path: str) -> list[str]:
    if "enum" not in old and "enum" not in new:
        return []
    if "enum" not in old or "enum" not in new:
        return [f"{path}: enum {'added' if 'enum' in new else 'dropped'}"]
    old_values, new_values = list(old["enum"]), list(new["enum"])
    return [
        f"{path}: enum value {value!r} removed" for value in old_values if value not in new_values
    ] + [f"{path}: enum value {value!r} added" for value in new_values if value not in old_values]


def _describe(schema: Schema) -> str:
    shown = {key: schema[key] for key in ("type", "format", "const", "title") if key in schema}
    return repr(shown or dict(schema))
