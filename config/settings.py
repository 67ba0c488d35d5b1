"""The typed configuration: one YAML file, validated into these models.

`config.loader.load_settings` reads the file, expands `${VAR}`, applies `LEADSYNC_*` environment
variables and the secrets directory (pydantic-settings), validates into `Settings` and resolves
relative paths against the file's folder. Every model forbids unknown keys so a typo is reported
with the keys that would be valid. Secrets are `SecretStr` and never printed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from config.kinds import unscored_reason
from scoring.types import OUTPUT_NAMES


class At(ValueError):
    """A validation error about a key below the validated model; `path` is relative to it."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> timedelta:
    """`90`, `"30s"`, `"5m"`, `"1h30m"`, `"2d"` -> timedelta (plain numbers are seconds)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 5m, 1h or 1d")
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    text = str(value).strip().replace(" ", "")
    parts = _DURATION.findall(text)
    if not parts or "".join(f"{n}{u}" for n, u in parts).lower() != text.lower():
        raise ValueError(f"{text!r} is not a duration; write e.g. 30s, 5m, 1h30m or 1d")
    return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in parts))


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def clean_secret(value: object) -> object:
    """A secret's text without the whitespace around it (the line end an env file or
    `$(cat token.txt)` leaves, a CRLF file's carriage return), as secret files are read;
    a ValueError naming, never showing, a control character inside it."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        return value
    text = value.strip()
    inner = next((c for c in text if unicodedata.category(c) == "Cc"), None)
    if inner is not None:
        raise ValueError(
            f"holds a control character (U+{ord(inner):04X}) inside the value; whitespace "
            "around a secret is removed, but none may appear within it: check the variable "
            "or file it comes from"
        )
    return text


#: A secret setting: never printed, whitespace around it removed (`clean_secret`).
Secret = Annotated[SecretStr, BeforeValidator(clean_secret)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSpotSettings(_Section):
    """How to reach one HubSpot account: a private-app token or OAuth (client + refresh token).

    A key left out (None) takes the connector's default, stated once in
    `connectors.hubspot.HubSpotOptions` (`sync.connections.hubspot_options` maps the keys).
    """

    base_url: str | None = None
    access_token: Secret | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    refresh_token: Secret | None = None
    tier: Literal["free", "starter", "professional", "enterprise"] | None = None
    ca_bundle: Path | None = None
    timeout: float | None = Field(default=None, gt=0)
    daily_budget: int | None = Field(default=None, gt=0)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL; e.g. https://api.hubapi.com")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _credentials(self) -> HubSpotSettings:
        oauth = (self.client_id, self.client_secret, self.refresh_token)
        # An empty value (a variable or secrets file holding nothing, or only whitespace) is
        # no credential: SecretStr("") is falsy, and the connector would refuse it at the
        # first call with an unlocated error.
        if self.access_token or all(oauth):
            return self
        keys = ("access_token", "client_id", "client_secret", "refresh_token")
        values = (self.access_token, *oauth)
        empty = [k for k, v in zip(keys, values, strict=True) if v is not None and not v]
        wanted = (
            "set access_token (a private-app token) or all of client_id, client_secret and "
            "refresh_token (OAuth)"
        )
        if not empty:
            raise ValueError(f"no credentials: {wanted}")
        raise At(
            (empty[0],),
            f"{', '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty (check the "
            f"variable or secrets file the value comes from): {wanted}",
        )


class SalesforceSettings(_Section):
    """How to reach one Salesforce org: client credentials, JWT bearer, or an existing session.

    A key left out (None) takes the connector's default, stated once in
    `connectors.salesforce.SalesforceOptions` (`sync.connections.salesforce_options` maps the
    keys).
    """

    login_url: str
    client_id: str | None = None
    client_secret: Secret | None = None
    username: str | None = None
    private_key_file: Path | None = None
    session_id: Secret | None = None
    instance_url: str | None = None
    api_version: str | None = None
    ca_bundle: Path | None = None
    timeout: float | None = Field(default=None, gt=0)
    daily_share: float | None = Field(default=None, gt=0, le=1)
    bulk_threshold: int | None = Field(default=None, gt=0)
    sales_permission_set: str | None = None

    @field_validator("login_url", "instance_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an https URL; e.g. https://acme.my.salesforce.com")
        if value is not None and urlsplit(value).path.strip("/"):
            # leadsync appends /services/...; a pasted Lightning or API address would reach
            # the wrong resource
            raise ValueError(
                f"{value!r} has a path; write the org's address alone, "
                "e.g. https://acme.my.salesforce.com"
            )
        return None if value is None else value.rstrip("/")

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{2,3}\.0", value):
            raise ValueError(f"{value!r} is not a Salesforce API version; write it like '62.0'")
        return value

    @model_validator(mode="after")
    def _credentials(self) -> SalesforceSettings:
        client_credentials = self.client_id and self.client_secret
        jwt = self.client_id and self.username and self.private_key_file
        session = self.session_id and self.instance_url
        if not (client_credentials or jwt or session):
            raise ValueError(
                "no credentials: set client_id + client_secret (client credentials flow), "
                "client_id + username + private_key_file (JWT bearer), or session_id + instance_url"
            )
        return self


#: Output property prefixes: leadsync's own, optionally followed by a model's part.
DEFAULT_OUTPUT_PREFIX = "leadsync_"


def output_properties(namespace: str) -> frozenset[str]:
    """The CRM names of the outputs a model with this namespace writes."""
    return frozenset(DEFAULT_OUTPUT_PREFIX + namespace + name for name in OUTPUT_NAMES)


#: Salesforce custom field names (before `__c`): at most 40 letters, digits and underscores,
#: beginning with a letter, neither ending with an underscore nor holding two in a row.
SALESFORCE_NAME_LENGTH = 40
#: HubSpot property internal names: at most 100 characters (lower-case letters, digits and
#: underscores, beginning with a letter, which the prefix pattern already ensures).
HUBSPOT_NAME_LENGTH = 100


def _longest_output() -> str:
    return max(OUTPUT_NAMES, key=len)


def salesforce_prefix_problem(prefix: str) -> str | None:
    """Why `prefix` cannot name a model's Salesforce output fields (`leadsync_pl_a_` names
    `Leadsync_Pl_A_Model_Version__c`), or None. The prefix pattern already keeps the names to
    letters, digits and underscores beginning with a letter, and an output name ends them."""
    longest = _longest_output()
    field = "_".join(p.capitalize() for p in (prefix + longest).split("_"))
    if "__" in prefix:
        return (
            f"{prefix} would name Salesforce fields like {field}__c, and Salesforce field "
            "names may not hold two underscores in a row"
        )
    if len(field) > SALESFORCE_NAME_LENGTH:
        most = SALESFORCE_NAME_LENGTH - len(longest)
        return (
            f"{prefix} would name the Salesforce field {field}__c, {len(field)} characters "
            f"before __c where Salesforce allows {SALESFORCE_NAME_LENGTH}: keep the prefix to "
            f"{most} characters"
        )
    return None


def hubspot_prefix_problem(prefix: str) -> str | None:
    """Why `prefix` cannot name a model's HubSpot output properties (`leadsync_pl_a_` names
    `leadsync_pl_a_model_version`), or None: HubSpot caps internal names at 100 characters."""
    longest = _longest_output()
    name = prefix + longest
    if len(name) > HUBSPOT_NAME_LENGTH:
        most = HUBSPOT_NAME_LENGTH - len(longest)
        return (
            f"{prefix} would name the HubSpot property {name}, {len(name)} characters where "
            f"HubSpot allows {HUBSPOT_NAME_LENGTH}: keep the prefix to {most} characters"
        )
    return None


#: Why a prefix cannot name a model's outputs, per CRM.
PREFIX_PROBLEMS = {"hubspot": hubspot_prefix_problem, "salesforce": salesforce_prefix_problem}


class ObjectSettings(_Section):
    """One record kind of a connection and a scoring model that scores it; with
    `output_prefix` (several models of one kind) the model writes its own output properties
    (HubSpot `leadsync_pl_a_score`, Salesforce `Leadsync_Pl_A_Score__c`). `account_model`
    names the account model (its name or prefix part) whose results a people model's
    `account.` rules read, when the account kind has several."""

    kind: Literal["contact", "lead", "company", "account"]
    model: Path
    output_prefix: str | None = Field(default=None, pattern=r"^leadsync_[a-z0-9_]*_$")
    account_model: str | None = Field(default=None, min_length=1)

    @property
    def namespace(self) -> str:
        """The part of the output names after `leadsync_` (`pl_a_`; empty by default)."""
        return (self.output_prefix or DEFAULT_OUTPUT_PREFIX)[len(DEFAULT_OUTPUT_PREFIX) :]


class ScheduleSettings(_Section):
    """When the daemon runs this connection."""

    incremental_every: Duration = timedelta(minutes=5)
    full_cron: str = "0 2 * * *"
    timezone: str = "UTC"

    @field_validator("incremental_every")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=10):
            raise ValueError("must be at least 10s")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone; e.g. UTC, Europe/Berlin, America/New_York"
            ) from None
        return value

    @field_validator("full_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(
                f"{value!r} is not a 5-field crontab (minute hour day month weekday), "
                f'e.g. "0 2 * * *": {exc}'
            ) from None
        return value


#: The state tables' name prefix when `state_table_prefix` is not configured.
TABLE_PREFIX = "leadsync_"
#: The largest `write.chunk_size`.
MAX_CHUNK_SIZE = 10_000


class WriteSettings(_Section):
    """Which changes are worth an API call, and how many planned writes go to the connector at
    once (it sends them in the CRM's largest batches, several at a time)."""

    min_points_change: float = Field(default=3.0, ge=0)
    chunk_size: int = Field(default=1000, ge=1, le=MAX_CHUNK_SIZE)


class ReadSettings(_Section):
    """Incremental reads start `overlap` before the saved watermark (late index updates)."""

    overlap: Duration = timedelta(minutes=2)


class OutageSettings(_Section):
    """How long a run pauses through a CRM outage (after the connector's own retries)."""

    max_pause: Duration = timedelta(minutes=10)
    first_pause: Duration = timedelta(seconds=5)


class ConnectionSettings(_Section):
    """One CRM account with the record kinds leadsync scores there."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    crm: Literal["hubspot", "salesforce"]
    hubspot: HubSpotSettings | None = None
    salesforce: SalesforceSettings | None = None
    objects: list[ObjectSettings] = Field(min_length=1)
    schedule: ScheduleSettings = ScheduleSettings()
    write: WriteSettings = WriteSettings()
    read: ReadSettings = ReadSettings()
    outage: OutageSettings = OutageSettings()

    @model_validator(mode="after")
    def _crm_block(self) -> ConnectionSettings:
        blocks = {"hubspot": self.hubspot, "salesforce": self.salesforce}
        if blocks[self.crm] is None:
            raise At(("crm",), f"crm is {self.crm}: add a `{self.crm}:` block with its credentials")
        other = "salesforce" if self.crm == "hubspot" else "hubspot"
        if blocks[other] is not None:
            raise At((other,), f"crm is {self.crm}: remove the `{other}:` block or change crm")
        seen: dict[str, int] = {}
        for index, obj in enumerate(self.objects):
            problem = unscored_reason(obj.kind, self.crm)
            if problem:
                raise At(("objects", index, "kind"), problem)
            repeat = self._repeat_problem(index, obj, seen.get(obj.kind))
            if repeat:
                raise At(("objects", index, *repeat[0]), repeat[1])
            seen.setdefault(obj.kind, index)
        return self

    def _repeat_problem(
        self, index: int, obj: ObjectSettings, first: int | None
    ) -> tuple[tuple[str, ...], str] | None:
        """Why `obj` cannot be one more model of its kind (key path under it, message)."""
        if obj.output_prefix is not None:
            problem = PREFIX_PROBLEMS[self.crm](obj.output_prefix)
            if problem:
                return ("output_prefix",), problem
        if first is None:
            return None
        mine = output_properties(obj.namespace)
        for other in self.objects[:index]:
            shared = sorted(mine & output_properties(other.namespace))
            if other.kind == obj.kind and shared:
                return ("output_prefix",), (
                    f"two {obj.kind} models would write {', '.join(shared[:3])}"
                    f"{' ...' if len(shared) > 3 else ''}: give each model of a kind its own "
                    "output_prefix, e.g. leadsync_pl_a_"
                )
        return None

    @property
    def kinds(self) -> list[str]:
        """The record kinds scored, each once, in the order of `objects`."""
        return list(dict.fromkeys(o.kind for o in self.objects))

    def models_of(self, kind: str) -> list[ObjectSettings]:
        """The entries (models) of `kind`, in order; the first one's results are the kind's
        main state (cursor, outbox, ledger)."""
        return [o for o in self.objects if o.kind == kind]


class DaemonSettings(_Section):
    """The health and metrics endpoint of `leadsync run`."""

    host: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65535)
    stale_after: Duration | None = None
    shutdown_grace: Duration = timedelta(seconds=30)
    heartbeat: Duration = timedelta(seconds=2)

    @field_validator("heartbeat")
    @classmethod
    def _heartbeat_range(cls, value: timedelta) -> timedelta:
        if not timedelta(milliseconds=100) <= value <= timedelta(minutes=1):
            raise ValueError("must be between 100ms and 1m")
        return value


class LoggingSettings(_Section):
    """Log level and format (JSON lines for machines, text for people)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "text"] = "json"
    personal_data: bool = False

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class RetentionSettings(_Section):
    """How long history is kept; latest scores, cursors and open dead letters are never pruned."""

    runs_days: int = Field(default=90, ge=1)
    ledger_days: int = Field(default=365, ge=1)
    dead_letters_days: int = Field(default=90, ge=1)


class EnvironSource(EnvSettingsSource):
    """`LEADSYNC_*` variables read from a given mapping instead of the process environment."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # The hook pydantic-settings' own DotEnvSettingsSource overrides; names are matched
        # case-insensitively, as `Settings` asks
        return {name.lower(): value for name, value in self._environ.items()}


#: The environment `Settings.validated` reads `LEADSYNC_*` overrides from (None: os.environ).
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("leadsync_environ", default=None)
#: The `.env` file's variables `Settings.validated` reads `LEADSYNC_*` overrides from (None: no
#: file). Read like the environment, so its other variables (the `${VAR}` values a config names)
#: are no unknown settings.
_DOTENV: ContextVar[Mapping[str, str] | None] = ContextVar("leadsync_dotenv", default=None)


class WebhookSettings(_Section):
    """One alert destination: an HTTPS endpoint that receives a POST per alert state change."""

    url: Secret
    format: Literal["json", "slack"] = "json"

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: SecretStr) -> SecretStr:
        if not re.match(r"^https?://[^\s/]+", value.get_secret_value()):
            raise ValueError("must be an http:// or https:// URL")
        return value


class DriftSettings(_Section):
    """Newly qualified records per day against their trailing average (a broken model or a CRM
    import shows as a jump or a collapse)."""

    factor: float = Field(default=3.0, gt=1.0)
    trailing_days: int = Field(default=14, ge=3, le=90)
    min_average: float = Field(default=5.0, ge=0)


class AlertSettings(_Section):
    """Webhooks called when an alert starts firing and when it resolves."""

    webhooks: list[WebhookSettings] = []
    failing_runs: int = Field(default=3, ge=1)
    dead_letters_growth: int = Field(default=50, ge=1)
    budget_share: float = Field(default=0.9, gt=0, le=1)
    drift: DriftSettings | None = DriftSettings()
    timeout: Duration = timedelta(seconds=10)


class Settings(BaseSettings):
    """The whole configuration; environment `LEADSYNC_*` and the secrets directory override it.

    Nested keys use `__`: `LEADSYNC_DAEMON__PORT=9100`. Secret files are named like the variables
    (`leadsync_state_url`).
    """

    model_config = SettingsConfigDict(
        env_prefix="LEADSYNC_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    state_url: Secret = SecretStr("sqlite:///leadsync.db")
    state_table_prefix: str = Field(default=TABLE_PREFIX, pattern=r"^[a-z][a-z0-9_]{0,30}$")
    connections: list[ConnectionSettings] = Field(min_length=1)
    daemon: DaemonSettings = DaemonSettings()
    logging: LoggingSettings = LoggingSettings()
    retention: RetentionSettings = RetentionSettings()
    alerts: AlertSettings = AlertSettings()

    @field_validator("state_url")
    @classmethod
    def _state_url(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if not re.match(r"^(sqlite(\+\w+)?://|postgresql(\+\w+)?://)", url):
            raise ValueError(
                "must be sqlite:///path/to/file.db or postgresql+psycopg://user@host/db"
            )
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        seen: set[str] = set()
        for index, conn in enumerate(self.connections):
            if conn.name in seen:
                raise At(
                    ("connections", index, "name"),
                    f"connection names must be unique; {conn.name!r} is used twice",
                )
            seen.add(conn.name)
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment beats the secrets directory, which beats `.env`, which beats the file."""
        environ = _ENVIRON.get()
        if environ is not None:
            env_settings = EnvironSource(settings_cls, environ)
        dotenv = _DOTENV.get()
        if dotenv is not None:
            dotenv_settings = EnvironSource(settings_cls, dotenv)
        # secret files name nested keys like the variables (`leadsync_daemon__port`), which the
        # plain secrets source does not split
        secrets = NestedSecretsSettingsSource(file_secret_settings)
        return env_settings, secrets, dotenv_settings, init_settings

    @classmethod
    def validated(
        cls,
        data: Mapping[str, Any],
        *,
        environ: Mapping[str, str],
        secrets_dir: Path | None,
        dotenv: Mapping[str, str] | None,
    ) -> Settings:
        """`data` (the file's values) validated under the overrides of the `LEADSYNC_*`
        variables of `environ`, the files of `secrets_dir` and `dotenv` (a `.env` file's
        variables; its other names are ignored, as the environment's are)."""
        environ_token = _ENVIRON.set(environ)
        dotenv_token = _DOTENV.set(dotenv)
        try:
            return cls(_secrets_dir=secrets_dir, _env_file=None, **data)  # type: ignore[call-arg]
        finally:
            _DOTENV.reset(dotenv_token)
            _ENVIRON.reset(environ_token)

    def connection(self, name: str) -> ConnectionSettings:
        """The connection called `name`; a UserError listing the names when there is none."""
        from config.errors import UserError

        for conn in self.connections:
            if conn.name == name:
                return conn
        names = ", ".join(c.name for c in self.connections)
        raise UserError(f"no connection named {name!r}; configured: {names}")
