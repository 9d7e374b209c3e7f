"""`[tool.alttext]` in pyproject.toml: what to scan, which rules, and settings for later steps.

The nearest pyproject.toml that has a `[tool.alttext]` table wins, searching
upwards from the first path on the command line (or the current folder);
`--config FILE` names one instead. Command-line flags override it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from alttext.rules import RULES

DEFAULT_MAX_ALT_LENGTH = 125

# Keys that `check` does not use but other commands (caption, fix, integrations) read.
PASS_THROUGH_KEYS = frozenset(
    {
        "model",
        "backend",
        "device",
        "dtype",
        "quantize",
        "batch-size",
        "num-beams",
        "max-length",
        "no-repeat-ngram-size",
        "cache",
        "cache-dir",
        "final-period",
        "fetch-remote",
        "caption-max-length",
        "ocr",
        "max-alt-length",  # check's limit, and the length of the alt text the captioner composes
        "language",
        "non-english",
        "prompt-template",  # the prompted back ends' prompt, and the openai back end's server
        "api-base",
        "api-key-env",
        "request-timeout",
        "concurrency",
        "max-retries",
    }
)
_LIST_KEYS = ("include", "exclude", "select", "ignore", "decorative")
KNOWN_KEYS = frozenset({*_LIST_KEYS, "max-alt-length", "site-root"}) | PASS_THROUGH_KEYS

_RULE_BY_NAME = {rule.name: rule.id for rule in RULES.values()}


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file or the flag."""


@dataclass(frozen=True)
class Config:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    select: frozenset[str] = frozenset(RULES)
    ignore: frozenset[str] = frozenset()
    max_alt_length: int = DEFAULT_MAX_ALT_LENGTH
    site_root: str | None = None
    decorative: tuple[str, ...] = ()  # globs of images meant to have no description
    root: str = "."  # folder of the config file; relative globs and site-root start here
    source: str | None = None  # the pyproject.toml it came from
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def rules(self) -> frozenset[str]:
        """The rule ids that are reported."""
        return self.select - self.ignore


def resolve_rules(selectors: Iterable[str], where: str) -> frozenset[str]:
    """Rule ids for selectors that are ids (`ALT001`), names (`alt-is-filename`),
    id prefixes (`ALT3` = ALT301..ALT304) or `ALL`."""
    selected: set[str] = set()
    for selector in selectors:
        token = selector.strip()
        if not token:
            continue
        matches = _rules_for(token)
        if not matches:
            known = ", ".join(sorted(RULES))
            raise ConfigError(f"{where}: unknown rule {token!r} (known rules: {known}, or their names)")
        selected |= matches
    return frozenset(selected)


def _rules_for(token: str) -> set[str]:
    if token.upper() == "ALL":
        return set(RULES)
    if token in _RULE_BY_NAME:
        return {_RULE_BY_NAME[token]}
    prefix = token.upper()
    if prefix.startswith("ALT"):
        return {rule_id for rule_id in RULES if rule_id.startswith(prefix)}
    return set()


def find_pyproject(start: str) -> str | None:
    """The nearest pyproject.toml with a [tool.alttext] table, in `start` or above."""
    folder = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate) and _has_alttext_table(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _has_alttext_table(path: str) -> bool:
    # A cheap look before parsing: most pyproject.toml files never mention alttext.
    try:
        with open(path, "rb") as file:
            if b"alttext" not in file.read():
                return False
    except OSError:
        return False
    try:
        tool = _parse(path).get("tool")
        return isinstance(tool, dict) and "alttext" in tool
    except ConfigError:
        return True  # broken: load_config says why


def load_config(path: str) -> Config:
    """The `[tool.alttext]` table of `path` (an empty table gives the defaults)."""
    return build_config(read_table(path), root=os.path.dirname(os.path.abspath(path)), source=path)


def build_config(table: dict[str, object], *, root: str, source: str | None, where: str | None = None) -> Config:
    """A Config from the values of a `[tool.alttext]` table; relative paths start at `root`."""
    where = where or f"{source}: [tool.alttext]"
    unknown = sorted(key for key in table if canonical(key) not in KNOWN_KEYS)
    if unknown:
        known = ", ".join(sorted(KNOWN_KEYS))
        raise ConfigError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (known keys: {known})")
    values = {canonical(key): value for key, value in table.items()}
    return _build(values, where, root=root, source=source)


def read_table(path: str) -> dict[str, object]:
    """The raw `[tool.alttext]` table of `path`."""
    tool = _parse(path).get("tool", {})
    table = tool.get("alttext", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.alttext] must be a table")
    return table


def _parse(path: str) -> dict:  # type: ignore[type-arg]
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as file:
            document = tomllib.load(file)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return document


def canonical(key: str) -> str:
    """`max_alt_length` and `max-alt-length` are one key."""
    return key.replace("_", "-")


def _build(values: dict[str, object], where: str, *, root: str, source: str | None) -> Config:
    lists = {key: _string_list(values.get(key, []), f"{where} {key}") for key in _LIST_KEYS}
    config = Config(
        include=tuple(lists["include"]),
        exclude=tuple(lists["exclude"]),
        ignore=resolve_rules(lists["ignore"], f"{where} ignore"),
        max_alt_length=_positive_int(values.get("max-alt-length", DEFAULT_MAX_ALT_LENGTH), f"{where} max-alt-length"),
        site_root=_site_root(values.get("site-root"), root, where),
        decorative=tuple(lists["decorative"]),
        root=root,
        source=source,
        extra={key: value for key, value in values.items() if key in PASS_THROUGH_KEYS},
    )
    if "select" in values:
        config = replace(config, select=resolve_rules(lists["select"], f"{where} select"))
    return config


def _string_list(value: object, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise ConfigError(f"{where}: expected a list of strings, got {value!r}")


def _positive_int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: expected a positive whole number, got {value!r}")
    return value


def _site_root(value: object, root: str, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} site-root: expected a folder path, got {value!r}")
    return os.path.normpath(os.path.join(root, value))


def with_overrides(
    config: Config,
    *,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    exclude: list[str] | None = None,
    max_alt_length: int | None = None,
) -> Config:
    """`config` with command-line flags applied: --select replaces, --ignore and --exclude add."""
    changes: dict[str, object] = {}
    if select:
        changes["select"] = resolve_rules(_split(select), "--select")
    if ignore:
        changes["ignore"] = config.ignore | resolve_rules(_split(ignore), "--ignore")
    if exclude:
        changes["exclude"] = (*config.exclude, *exclude)
    if max_alt_length is not None:
        changes["max_alt_length"] = _positive_int(max_alt_length, "--max-alt-length")
    return replace(config, **changes)  # type: ignore[arg-type]


def _split(values: list[str]) -> list[str]:
    """`--select A,B --select C` -> [A, B, C]."""
    return [part for value in values for part in value.split(",")]
