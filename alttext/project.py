"""One project, one answer: what the integrations read.

The MkDocs plugin, the Sphinx extension and the GitHub Action read the same
`[tool.alttext]` table as the command line (the nearest pyproject.toml that
has one); an option the host sets replaces that key of the table, key by key,
and an option it leaves unset leaves the table's value. Paths and globs a host
gives start at the host's own folder (MkDocs: docs_dir, Sphinx: the source
folder), as its users expect, and are turned into the table's terms here.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping
from typing import Any

from alttext.commands.caption_options import CONFIG_TYPES
from alttext.config import (
    KNOWN_KEYS,
    Config,
    ConfigError,
    build_config,
    canonical,
    find_pyproject,
    read_table,
)

# The type each key must have; keys another part adds later are offered with any plain type.
_TYPES: dict[str, tuple[type, ...]] = {
    "include": (list, str), "exclude": (list, str), "select": (list, str), "ignore": (list, str),
    "decorative": (list, str), "site-root": (str,), "fetch-remote": (bool,),
    "language": (str,), "non-english": (str,),
    **CONFIG_TYPES,  # the captioning keys, max-alt-length among them
}
_ANY: tuple[type, ...] = (str, int, bool, list)
# Where a host stands in for the table: MkDocs' docs_dir, Sphinx's source folder.
HOST_FACTS = frozenset({"site-root"})
_PATH_KEYS = frozenset({"cache", "cache-dir", "prompt-template"})
_GLOB_KEYS = frozenset({"include", "exclude", "decorative"})


def host_keys() -> dict[str, tuple[type, ...]]:
    """Every `[tool.alttext]` key a host offers as its own option, with the types it takes."""
    return {key: _TYPES.get(key, _ANY) for key in sorted(KNOWN_KEYS - HOST_FACTS)}


def option_name(key: str, prefix: str = "") -> str:
    """The host's spelling of a key: `max-alt-length` is MkDocs' `max_alt_length`, Sphinx's
    `alttext_max_alt_length`."""
    return prefix + key.replace("-", "_")


def project_config(
    start: str, options: Mapping[str, object], *, host_root: str, host: str, prefix: str = "",
    glob_root: str | None = None,
) -> Config:
    """`[tool.alttext]` found from `start` upwards, with the host's `options` (None = unset) on top.

    `options` are keyed by table key (either spelling); their paths start at `host_root`, their
    globs at `glob_root` (default: `host_root`). `host` and `prefix` name the host and its
    options in messages (`alttext_` for Sphinx).
    """
    source = find_pyproject(start)
    table = {canonical(key): value for key, value in (read_table(source) if source else {}).items()}
    root = os.path.dirname(os.path.abspath(source)) if source else os.path.abspath(host_root)
    given = {canonical(key): value for key, value in options.items() if value is not None}
    for key, value in given.items():
        _check_type(key, value, f"{host} option {option_name(key, prefix)}")
        table[key] = _in_table_terms(key, value, os.path.abspath(host_root), os.path.abspath(glob_root or host_root), root)
    where = f"{source}: [tool.alttext]" if source else "[tool.alttext]"
    if given:
        where += f" with the {host} options"
    return build_config(table, root=root, source=source, where=where)


def from_text(key: str, value: object) -> object:
    """A value a host could only give as text (Sphinx's -D), read as the key's type when it is one."""
    allowed = _TYPES.get(key, _ANY)
    if not isinstance(value, str) or str in allowed:
        return value
    if int in allowed and value.strip().lstrip("-").isdigit():
        return int(value)
    if bool in allowed and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    if float in allowed and re.fullmatch(r"\s*-?\d+(\.\d*)?\s*", value):
        return float(value)
    return value


def _check_type(key: str, value: object, where: str) -> None:
    allowed = _TYPES.get(key, _ANY)
    if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        names = " or ".join("list" if kind is list else kind.__name__ for kind in allowed)
        raise ConfigError(f"{where}: expected {names}, got {value!r}")


def _in_table_terms(key: str, value: object, host_root: str, glob_root: str, root: str) -> object:
    """A host's value as the table would hold it: paths made absolute, globs made relative to `root`."""
    if key in _PATH_KEYS and isinstance(value, str):
        return os.path.join(host_root, value)
    if key == "model" and isinstance(value, str) and os.path.isdir(os.path.join(host_root, value)):
        return os.path.join(host_root, value)
    if key in _GLOB_KEYS and isinstance(value, (list, str)):
        return [_glob_from(pattern, glob_root, root) for pattern in ([value] if isinstance(value, str) else value)]
    return value


def _glob_from(pattern: str, host_root: str, root: str) -> str:
    """A glob relative to `host_root` as one relative to `root`; a glob without `/` matches any part."""
    if not isinstance(pattern, str) or "/" not in pattern.rstrip("/"):
        return pattern
    prefix = os.path.relpath(host_root, root).replace(os.sep, "/")
    return pattern.removeprefix("./") if prefix == "." else f"{prefix}/{pattern.removeprefix('./')}"


def fix_settings(config: Config, sources: list[str], *, root: str, site_root: str | None) -> Any:
    """The writers' Settings for `sources`, exactly as `alttext fix` makes them from `config`."""
    from alttext.commands.fix import settings_from_args

    args = argparse.Namespace(paths=list(sources), root=root, site_root=site_root, fetch_remote=None, config=None,
                              write_decorative=False)
    return settings_from_args(args, config=config)
