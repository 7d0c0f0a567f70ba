"""JSON and YAML source bodies decoded into data: one SourceError line for what cannot be read
(with the line, where YAML tells it), and text that can be stored and sent (no lone surrogates)."""

from __future__ import annotations

import json
import re

import yaml

from digest.errors import SourceError
from digest.sources.curated import CURATED_KEYS

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def decode_json(content: bytes, location: str) -> object:
    """Decoded JSON, or one SourceError line naming the location and the problem."""
    try:
        return _valid_unicode(json.loads(content))
    except UnicodeDecodeError:
        raise SourceError(f"{location}: not valid JSON: not UTF-8 text") from None
    except RecursionError:
        raise SourceError(f"{location}: JSON nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{location}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:  # Python reads no integer of more than 4,300 digits
        raise SourceError(f"{location}: not valid JSON: {_value_problem(exc)}") from None


def decode_yaml(content: bytes, location: str, *, strict: bool) -> object:
    """Decoded YAML; unless the name says YAML, text that is not YAML is left to feedparser."""
    try:
        return _valid_unicode(yaml.safe_load(content))
    except RecursionError:
        raise SourceError(f"{location}: YAML nested too deeply to read") from None
    except yaml.YAMLError as exc:
        if not strict:
            return None
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourceError(f"{location}: not valid YAML: {problem}{where}") from None
    except (ValueError, KeyError, AttributeError, TypeError, OverflowError) as exc:
        # How PyYAML fails to build a value its syntax allows: `2026-02-30`, `!!int abc`,
        # `!!bool maybe`, an integer of more than 4,300 digits.
        root = _yaml_structure(content)
        if not (strict or _has_curated_keys(root)):
            return None
        problem = _value_problem(exc) if type(exc) is ValueError else "a value its tag cannot hold"
        line = _unbuildable_line(root)
        where = f" (line {line})" if line else ""
        raise SourceError(f"{location}: not valid YAML: {problem}{where}") from None


def _value_problem(error: ValueError) -> str:
    """A ValueError from building a value as one line, without advice meant for programmers."""
    if "integer string conversion" in str(error):
        return "a number too long to read"
    return " ".join(str(error).split())


def _yaml_structure(content: bytes) -> yaml.Node | None:
    """YAML read as far as its structure, without building any value."""
    try:
        return yaml.compose(content, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None


def _has_curated_keys(root: yaml.Node | None) -> bool:
    return isinstance(root, yaml.MappingNode) and any(
        isinstance(key, yaml.ScalarNode) and key.value in CURATED_KEYS for key, _ in root.value
    )


def _unbuildable_line(root: yaml.Node | None) -> int | None:
    """The line of the first value in the YAML structure that PyYAML cannot build."""
    pending = [root] if root is not None else []
    seen: set[int] = set()
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.constructor.SafeConstructor().construct_object(node)
            except Exception:
                return node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            pending.extend(child for pair in reversed(node.value) for child in reversed(pair))
    return None


def _valid_unicode(data: object) -> object:
    """Decoded JSON or YAML with every lone surrogate (a `\\ud800` escape that pairs with nothing)
    made U+FFFD, as a UTF-8 decoder does: text holding one can be neither stored nor sent. The
    containers are fixed in place, each once (YAML aliases share them, even with themselves),
    without recursion, since they may be nested 1,000 deep."""
    if isinstance(data, str):
        return _LONE_SURROGATE.sub("\ufffd", data)
    pending = [data]
    seen: set[int] = set()
    while pending:
        container = pending.pop()
        if id(container) in seen:
            continue
        seen.add(id(container))
        if isinstance(container, list):
            for index, value in enumerate(container):
                if isinstance(value, str):
                    container[index] = _LONE_SURROGATE.sub("\ufffd", value)
                elif isinstance(value, list | dict):
                    pending.append(value)
        elif isinstance(container, dict):
            for key, value in list(container.items()):
                if isinstance(value, str):
                    value = _LONE_SURROGATE.sub("\ufffd", value)
                elif isinstance(value, list | dict):
                    pending.append(value)
                if isinstance(key, str) and _LONE_SURROGATE.search(key):
                    del container[key]
                    key = _LONE_SURROGATE.sub("\ufffd", key)
                container[key] = value
    return data
