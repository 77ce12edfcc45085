"""The base of config sections, and reading a config file's YAML: one-line errors naming the file for
everything a user can get wrong before validation (missing file, a directory, a binary file,
invalid YAML, a key given twice)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class Section(BaseModel):
    """Base of every config section."""

    # An unknown key is a typo until proven otherwise: refuse it.
    model_config = ConfigDict(extra="forbid")


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConfigError(f"duplicate key '{key}' (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> object:
    """The YAML document of a config file; :class:`ConfigError` (one line, naming the file) when it
    is missing, a directory, binary, not YAML, or gives a key twice."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (not UTF-8): is it the right file?") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config file: {e.strerror or e}") from None
    if "\x00" in text:
        raise ConfigError(f"{path}: not a text file (binary content): is it the right file?")
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(e).split())}") from None


def format_validation_error(path: Path, err: ValidationError) -> str:
    """One line naming the file and every bad key (a moved key names its new place)."""
    parts = []
    for e in err.errors():
        key = ".".join(str(x) for x in e["loc"]) or "<root>"
        if e["type"] == "extra_forbidden":
            parts.append(f"unknown key '{key}'")
        elif e["type"] == "value_error" and str(e["msg"]).startswith("Value error, '"):
            parts.append(str(e["msg"]).removeprefix("Value error, "))
        else:
            parts.append(f"'{key}': {e['msg']}")
    return f"{path}: invalid config: " + "; ".join(parts)
