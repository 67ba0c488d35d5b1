"""Read the leadsync YAML configuration into `Settings`, with every problem located.

Steps: parse with ruamel.yaml (keeping line and column of every key), expand `${VAR}` and
`${VAR:-default}` from the environment, the secrets directory or a `.env` file beside the config,
let pydantic-settings apply `LEADSYNC_*` variables, secret files and `.env` lines over the file's
values, validate, then resolve relative
paths (models, CA bundles, key files, a SQLite database) against the config file's folder.

Problems are collected, not raised one at a time: a file with three mistakes reports three
`file:line:col key.path: what is wrong; what would be valid` lines in one `ProblemsError`.
Values that came from the environment are reported against the variable's name instead of a line.
Secret values never appear in messages.
"""

from __future__ import annotations

import difflib
import os
import re
import ssl
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_settings import SettingsError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from config.account_links import ACCOUNT_LINKS
from config.account_models import Entry, choose_accounts, member_score_sources
from config.crm_events import unprovided_event_problems
from config.errors import Problem, ProblemsError, UserError
from config.key_files import private_key_problem
from config.model_group import ModelGroup, Slot, state_kind
from config.redaction import remember_secrets, secret_values
from config.settings import At, ConnectionSettings, Settings
from config.yaml_depth import MAX_DEPTH, refuse_too_deep
from scoring.model import ScoringModel

DEFAULT_SECRETS_DIR = Path("/run/secrets")
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_ECHO_INPUT = {"literal_error", "int_parsing", "float_parsing", "bool_parsing", "enum"}

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceMap:
    """Positions of keys in the parsed file, to turn a key path into `file:line:col`."""

    file: str
    root: Any
    from_env: Mapping[PathKey, str] = field(default_factory=dict)

    def problem(self, path: PathKey, message: str, *, at_key: bool = False) -> Problem:
        """A problem located at `path` (the deepest part of it that exists in the file)."""
        dotted = render_path(path)
        for prefix_len in range(len(path), 0, -1):
            origin = self.from_env.get(path[:prefix_len])
            if origin:
                return Problem(origin, None, None, dotted, message)
        line, column = self.position(path, at_key=at_key)
        return Problem(self.file, line, column, dotted, message)

    def position(self, path: PathKey, *, at_key: bool = False) -> tuple[int | None, int | None]:
        """1-based line and column of `path`'s value (or key), else of its deepest parent."""
        node = self.root
        line, column = (1, 1) if node is not None else (None, None)
        for index, key in enumerate(path):
            last = index == len(path) - 1
            if isinstance(node, CommentedMap) and key in node:
                row, col = node.lc.key(key) if (last and at_key) else node.lc.value(key)
                if not last and not isinstance(node[key], CommentedMap | CommentedSeq):
                    row, col = node.lc.key(key)
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
                row, col = node.lc.item(key)
                node = node[key]
            else:
                break
            line, column = row + 1, col + 1
        return line, column


@dataclass(frozen=True)
class LoadedConfig:
    """A validated configuration with where it came from (for located follow-up checks)."""

    settings: Settings
    path: Path
    source: SourceMap

    def problem(self, path: PathKey, message: str) -> Problem:
        """A problem located in the config file."""
        return self.source.problem(path, message)


def render_path(path: PathKey) -> str:
    """`("connections", 0, "hubspot")` -> `connections[0].hubspot`."""
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def load_config(
    path: str | Path,
    *,
    environ: Mapping[str, str] | None = None,
    secrets_dir: str | Path | None = None,
) -> LoadedConfig:
    """Read, expand, override, validate and resolve the config file at `path`.

    Raises `UserError` when the file cannot be read and `ProblemsError` listing every problem.
    `environ` is the environment for both `${VAR}` and the `LEADSYNC_*` overrides (default:
    `os.environ`).
    """
    env = os.environ if environ is None else environ
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{file}: config file not found; pass --config PATH") from None
    except OSError as exc:
        raise UserError(f"{file}: cannot read config file: {exc.strerror}") from None
    secrets = _secrets_dir(secrets_dir, env)
    root = _parse(text, str(file))
    env_file: Path | None = file.parent / ".env"
    if env_file is not None and not env_file.is_file():
        env_file = None
    dotenv = _dotenv(env_file)
    source = SourceMap(str(file), root, _env_origins(env, secrets, env_file))
    if not isinstance(root, CommentedMap):
        raise ProblemsError(
            [Problem(str(file), 1, 1, "", "the config must be a mapping of keys (state_url, ...)")]
        )
    problems: list[Problem] = []
    data = _Expander(env, secrets, env_file, dotenv or {}, source, problems).expand(root, ())
    # a key whose ${VAR} is unset holds "": what validation says of it repeats that problem
    unset = {p.path for p in problems}
    found: list[Problem] = []
    settings = _validate(
        lambda: Settings.validated(data, environ=env, secrets_dir=secrets, dotenv=dotenv),
        source,
        found,
    )
    problems += [p for p in found if p.path not in unset]
    if settings is not None:
        settings = _resolve_paths(settings, file.parent.resolve())
        remember_secrets(secret_values(settings))
        problems.extend(_check_files(settings, source))
    if problems or settings is None:
        raise ProblemsError(sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0)))
    return LoadedConfig(settings, file, source)


def _parse(text: str, file: str) -> Any:
    yaml = YAML(typ="rt")
    try:
        refuse_too_deep(text, file, f"invalid YAML: nested more than {MAX_DEPTH} levels deep")
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise ProblemsError([Problem(file, line, column, "", f"invalid YAML: {what}")]) from None
    except YAMLError as exc:
        raise ProblemsError([Problem(file, None, None, "", f"invalid YAML: {exc}")]) from None


def _secrets_dir(explicit: str | Path | None, env: Mapping[str, str]) -> Path | None:
    chosen = explicit or env.get("LEADSYNC_SECRETS_DIR")
    if chosen:
        path = Path(chosen)
        if not path.is_dir():
            raise UserError(f"{path}: secrets directory does not exist")
        return path
    return DEFAULT_SECRETS_DIR if DEFAULT_SECRETS_DIR.is_dir() else None


def _dotenv(env_file: Path | None) -> dict[str, str] | None:
    """The variables of the `.env` file next to the config (None without one); a name without
    `=` sets nothing."""
    if env_file is None:
        return None
    return {k: v for k, v in dotenv_values(env_file).items() if v is not None}


@dataclass(frozen=True)
class _Expander:
    """Substitutes `${VAR}` from the environment, the secrets directory or the `.env` file next
    to the config (in that order); problems collected."""

    env: Mapping[str, str]
    secrets: Path | None
    env_file: Path | None
    dotenv: Mapping[str, str]
    source: SourceMap
    problems: list[Problem]

    def expand(self, node: Any, path: PathKey) -> Any:
        """A plain copy of `node` with `${VAR}` substituted in every string."""
        if isinstance(node, CommentedMap):
            return {str(k): self.expand(v, (*path, str(k))) for k, v in node.items()}
        if isinstance(node, CommentedSeq):
            return [self.expand(v, (*path, i)) for i, v in enumerate(node)]
        if not isinstance(node, str) or "$" not in node:
            return node
        return _VAR.sub(lambda match: self._value(match, path), node)

    def _value(self, match: re.Match[str], path: PathKey) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        env, secrets = self.env, self.secrets
        if name in env:
            return env[name]
        if secrets is not None and (secrets / name).is_file():
            return (secrets / name).read_text(encoding="utf-8").rstrip("\r\n")
        if name in self.dotenv:
            return self.dotenv[name]
        if default is not None:
            return default
        where = f" nor a file {name} in {secrets}" if secrets else ""
        if self.env_file is not None:
            where += f" nor in {self.env_file}"
        self.problems.append(
            self.source.problem(
                path,
                f"${{{name}}}: environment variable {name} is not set{where}; "
                f"export it, or write ${{{name}:-default}}",
            )
        )
        return ""


def _env_origins(
    env: Mapping[str, str], secrets: Path | None, env_file: Path | None
) -> dict[PathKey, str]:
    """Which top-level or nested keys `LEADSYNC_*` variables, secret files or `.env` override
    (in that order of precedence)."""
    origins: dict[PathKey, str] = {}
    names = {k.upper(): f"environment variable {k}" for k in env}
    if secrets is not None:
        for item in secrets.iterdir():
            if item.name.upper().startswith("LEADSYNC_"):
                names.setdefault(item.name.upper(), f"secret file {item}")
    if env_file is not None:
        for name in dotenv_values(env_file):
            names.setdefault(name.upper(), f"{env_file} {name}")
    for name, origin in names.items():
        if name.startswith("LEADSYNC_") and name != "LEADSYNC_SECRETS_DIR":
            key = tuple(part.lower() for part in name[len("LEADSYNC_") :].split("__"))
            if key[0] in Settings.model_fields:
                origins[key] = origin
    return origins


def _validate(
    build: Callable[[], Settings], source: SourceMap, problems: list[Problem]
) -> Settings | None:
    try:
        return build()
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            problems.append(_problem(error, source))
        return None
    except SettingsError as exc:  # a whole section overridden with text that is not JSON
        found = re.search(r'field "(\w+)"', str(exc))
        name = found.group(1) if found else ""
        problems.append(
            source.problem(
                (name,),
                "not valid JSON; write the whole section as JSON, or set its keys one by one "
                f"(LEADSYNC_{name.upper()}__<KEY>)",
            )
        )
        return None


def _problem(error: Any, source: SourceMap) -> Problem:
    loc: PathKey = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    message = str(error["msg"])
    if isinstance(ctx.get("error"), At):
        loc = (*loc, *ctx["error"].path)
        message = str(ctx["error"])
    elif message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    elif message.startswith("Input should be"):
        message = "should be" + message[len("Input should be") :]
    if kind == "missing":
        return source.problem(loc, f"required key `{loc[-1]}` is missing", at_key=True)
    if kind == "extra_forbidden":
        valid = _valid_keys(loc[:-1])
        guess = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f" (did you mean `{guess[0]}`?)" if guess else ""
        return source.problem(
            loc, f"unknown key{hint}; valid keys here: {', '.join(valid)}", at_key=True
        )
    if kind in _ECHO_INPUT and not _is_secret(loc):
        message += f" (got {error.get('input')!r})"
    return source.problem(loc, message)


def _model_at(path: PathKey) -> Any:
    """The type declared at `path` of `Settings` (unwrapping lists and optionals)."""
    current: Any = Settings
    for key in path:
        current = _unwrap(current)
        if isinstance(key, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(key)
        if info is None:
            return None
        current = info.annotation
    return _unwrap(current)


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated or origin is list:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _valid_keys(path: PathKey) -> list[str]:
    model = _model_at(path)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _is_secret(path: PathKey) -> bool:
    return _model_at(path) is SecretStr


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    def absolute(value: Path | None) -> Path | None:
        if value is None:
            return None
        value = value.expanduser()
        return value if value.is_absolute() else base / value

    connections: list[ConnectionSettings] = []
    for conn in settings.connections:
        update: dict[str, Any] = {
            "objects": [o.model_copy(update={"model": absolute(o.model)}) for o in conn.objects]
        }
        if conn.hubspot is not None:
            update["hubspot"] = conn.hubspot.model_copy(
                update={"ca_bundle": absolute(conn.hubspot.ca_bundle)}
            )
        if conn.salesforce is not None:
            update["salesforce"] = conn.salesforce.model_copy(
                update={
                    "ca_bundle": absolute(conn.salesforce.ca_bundle),
                    "private_key_file": absolute(conn.salesforce.private_key_file),
                }
            )
        connections.append(conn.model_copy(update=update))
    url = settings.state_url.get_secret_value()
    match = re.match(r"^(sqlite(?:\+\w+)?:///)(.+)$", url)
    if match and match.group(2) != ":memory:" and not match.group(2).startswith("/"):
        url = f"{match.group(1)}{absolute(Path(match.group(2)))}"
    return settings.model_copy(update={"connections": connections, "state_url": SecretStr(url)})


def _check_files(settings: Settings, source: SourceMap) -> list[Problem]:
    problems: list[Problem] = []
    for i, conn in enumerate(settings.connections):
        for j, obj in enumerate(conn.objects):
            if not obj.model.is_file():
                problems.append(
                    source.problem(
                        ("connections", i, "objects", j, "model"),
                        f"model file {obj.model} not found (relative paths are read from the "
                        "config file's folder)",
                    )
                )
        block_name = conn.crm
        block = conn.hubspot if conn.crm == "hubspot" else conn.salesforce
        for key in ("ca_bundle", "private_key_file"):
            value = getattr(block, key, None)
            if value is None:
                continue
            problem = _file_problem(Path(value), key)
            if problem is not None:
                problems.append(source.problem(("connections", i, block_name, key), problem))
    return problems


def _file_problem(path: Path, key: str) -> str | None:
    """Why `path` cannot serve as the `key` file (`ca_bundle`, `private_key_file`), or None."""
    if not path.exists():
        return f"file {path} not found"
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        return f"file {path} cannot be read: {exc.strerror or exc}"
    if key == "private_key_file":
        return private_key_problem(path)
    if key == "ca_bundle":
        try:
            ssl.create_default_context(cafile=str(path))
        except (ssl.SSLError, ValueError) as exc:
            return (
                f"file {path} is not a CA bundle (PEM certificates expected): "
                f"{getattr(exc, 'reason', None) or exc}"
            )
    return None


def _unread_account_parts(model: ScoringModel, crm: str) -> str | None:
    """What of the model's account language runs on `crm` cannot feed yet, or None."""
    if model.account_fields and (crm, model.object) not in ACCOUNT_LINKS:
        return "'account.' fields"
    return None


def load_models(loaded: LoadedConfig) -> dict[tuple[str, str], ScoringModel]:
    """Every connection's models keyed by (connection name, kind) (the first model of a kind
    that has several), all problems at once; see `load_configured`."""
    return load_configured(loaded)[0]


def load_configured(
    loaded: LoadedConfig,
) -> tuple[dict[tuple[str, str], ScoringModel], dict[tuple[str, str], ModelGroup]]:
    """Every connection's models keyed by (connection name, kind), all problems at once,
    and the `ModelGroup` of each kind with several models (or an output prefix).

    A model that scores another kind than the one it is configured for is reported at the
    config's `objects[i].kind`; problems inside a model file are reported in that file.
    """
    from config.model_loader import load_model

    models: dict[tuple[str, str], ScoringModel] = {}
    groups: dict[tuple[str, str], ModelGroup] = {}
    slots: dict[tuple[str, str], list[Slot]] = {}
    entries: list[Entry] = []
    problems: list[Problem] = []
    cache: dict[Path, ScoringModel] = {}
    for i, conn in enumerate(loaded.settings.connections):
        for j, obj in enumerate(conn.objects):
            try:
                model = cache.get(obj.model) or load_model(obj.model)
            except ProblemsError as exc:
                problems.extend(exc.problems)
                continue
            except UserError as exc:
                problems.append(loaded.problem(("connections", i, "objects", j, "model"), str(exc)))
                continue
            cache[obj.model] = model
            if model.object != obj.kind:
                problems.append(
                    loaded.problem(
                        ("connections", i, "objects", j, "kind"),
                        f"model {model.name!r} ({obj.model.name}) scores {model.object} records, "
                        f"not {obj.kind}; use kind: {model.object} or another model",
                    )
                )
                continue
            unread = _unread_account_parts(model, conn.crm)
            if unread:
                problems.append(
                    loaded.problem(
                        ("connections", i, "objects", j, "model"),
                        f"model {model.name!r} ({obj.model.name}) uses {unread}, which "
                        f"{conn.crm} runs do not read yet; remove them to sync this model",
                    )
                )
                continue
            first = (conn.name, obj.kind) not in slots
            slot = Slot(model, obj.namespace, state_kind(obj.kind, obj.namespace, first=first))
            slots.setdefault((conn.name, obj.kind), []).append(slot)
            entries.append(Entry(i, j, conn, obj, slot))
            problems += _tier_problems(loaded, i, conn, obj.model, model)
            problems += unprovided_event_problems(conn.crm, obj.model, model)
    problems += choose_accounts(entries, slots, loaded.problem)
    problems += member_score_sources(entries, slots, loaded.problem)
    if problems:
        raise ProblemsError(problems)
    for key, found in slots.items():
        models[key] = found[0].model
        # one model reading another account model than the first runs as a group of one,
        # which carries where its account results are stored
        if len(found) > 1 or found[0].namespace or found[0].accounts:
            groups[key] = ModelGroup(tuple(found))
    return models, groups


def _tier_problems(
    loaded: LoadedConfig, index: int, conn: ConnectionSettings, path: Path, model: ScoringModel
) -> list[Problem]:
    """A model's Enterprise-only rules on a HubSpot connection below Enterprise: one problem
    at the connection's `tier` and one at each rule."""
    from config.tiers import enterprise_rules, rule_problems

    hub = conn.hubspot
    if hub is None or hub.tier == "enterprise":
        return []
    rules = enterprise_rules(model)
    if not rules:
        return []
    events = sorted({event for _, event in rules})
    names = ", ".join(repr(name) for name, _ in rules)
    # No tier set is below Enterprise too: the connector then sizes its budget for a
    # Professional account (`HubSpotOptions.tier`).
    where = f"tier {hub.tier}" if hub.tier else "a connection with no tier set"
    at_tier = loaded.problem(
        ("connections", index, "hubspot", "tier"),
        f"{where} has no Events API, which model {model.name!r} ({path.name}) needs for "
        f"its {' and '.join(events)} rules ({names}): HubSpot serves event-level web activity "
        "to Enterprise hubs only. Use tier: enterprise if the account has it, or score the "
        "rollup properties (hs_analytics_num_page_views, num_conversion_events) instead",
    )
    return [at_tier, *rule_problems(path, rules, where)]
