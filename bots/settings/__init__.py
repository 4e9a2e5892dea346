"""Settings: config.yaml plus the environment, validated once into a frozen object.

Use :func:`load_settings`; every mistake raises one :class:`~bots.errors.ConfigError`
that names the file, the key path and what is valid.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, PrivateAttr, ValidationError

from ..errors import ConfigError
from ._base import Section
from .channels import ChannelsSettings, TelegramSettings, TwilioSettings, WebchatSettings
from .checks import semantic_problems
from .dialogue import DialogueSettings
from .feedback import FeedbackSettings
from .handoff import ConsoleSettings, HandoffSettings
from .links import LinksSettings
from .nlu import NLUSettings
from .notifications import NotificationsSettings
from .pipeline import PipelineSettings
from .privacy import PrivacySettings
from .server import BrandSettings, ServerSettings
from .stores import StoresSettings

__all__ = [
    "Settings",
    "load_settings",
    "resolve_config_path",
    "BrandSettings",
    "ServerSettings",
    "StoresSettings",
    "NLUSettings",
    "DialogueSettings",
    "ChannelsSettings",
    "TelegramSettings",
    "TwilioSettings",
    "WebchatSettings",
    "PipelineSettings",
    "HandoffSettings",
    "ConsoleSettings",
    "PrivacySettings",
    "FeedbackSettings",
]

DEFAULT_CONFIG = "config.yaml"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class Settings(Section):
    """The whole configuration of one brand bot."""

    brand: BrandSettings
    server: ServerSettings = Field(default_factory=ServerSettings)
    stores: StoresSettings = Field(default_factory=StoresSettings)
    nlu: NLUSettings = Field(default_factory=NLUSettings)
    dialogue: DialogueSettings = Field(default_factory=DialogueSettings)
    channels: ChannelsSettings = Field(default_factory=ChannelsSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    handoff: HandoffSettings = Field(default_factory=HandoffSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)
    links: LinksSettings = Field(default_factory=LinksSettings)
    notifications: NotificationsSettings = Field(default_factory=NotificationsSettings)

    _source: str = PrivateAttr(default="<memory>")
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @property
    def source(self) -> str:
        """The file these settings were read from."""
        return self._source

    def path(self, relative: str) -> Path:
        """Resolve a path from the config file against its folder."""
        p = Path(relative)
        return p if p.is_absolute() else (self._base_dir / p)

    @property
    def database_url(self) -> str:
        """The SQL URL with a relative SQLite path made absolute."""
        url = self.stores.database_url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.path(url[len(prefix) :]))
        return url

    def enabled_channels(self) -> list[str]:
        """Names of the channels switched on, in config order."""
        return [name for name, ch in self.channels if getattr(ch, "enabled", False)]


def resolve_config_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The config file to read: the argument, else $BRANDBOT_CONFIG, else ./config.yaml."""
    chosen = path or os.environ.get("BRANDBOT_CONFIG") or DEFAULT_CONFIG
    return Path(chosen).expanduser().resolve()


def _interpolate(
    node: Any, env: dict[str, str], at: str, missing: list[tuple[str, str]], origins: dict[str, str]
) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string, noting unset variables.

    ``origins`` gets key path -> ``$VAR`` for every value an environment variable
    supplied, so an error can name the variable as well as the key.
    """
    if isinstance(node, dict):
        return {k: _interpolate(v, env, f"{at}.{k}" if at else str(k), missing, origins) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, env, f"{at}[{i}]", missing, origins) for i, v in enumerate(node)]
    if not isinstance(node, str) or "${" not in node:
        return node
    used: list[str] = []

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env and env[name] != "":
            used.append(f"${name}")
            return env[name]
        if default is not None:
            return default
        missing.append((at, name))
        return ""

    value = _VAR.sub(sub, node)
    if used:
        origins[at] = ", ".join(used)
    return value


#: environment variables that set a key directly, whatever config.yaml says.
ENV_OVERRIDES = {"BRANDBOT_HOST": "server.host", "BRANDBOT_PORT": "server.port"}


def _secret_needed(data: dict[str, Any], key_path: str) -> bool:
    """A secret under a disabled channel may be unset; anywhere else it must be set."""
    parts = key_path.split(".")
    if len(parts) >= 3 and parts[0] == "channels":
        channel = (data.get("channels") or {}).get(parts[1]) or {}
        enabled = channel.get("enabled", False)
        return enabled is True or str(enabled).strip().lower() in {"true", "yes", "on", "1"}
    return True


def _with_origin(key: str, problem: str, origins: dict[str, str]) -> str:
    """``key: problem``, plus where the value came from when not from the file itself."""
    origin = origins.get(key)
    return f"{key}: {problem} (from {origin})" if origin else f"{key}: {problem}"


def _format_pydantic(err: ValidationError, origins: dict[str, str]) -> list[str]:
    problems = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        kind = e["type"]
        if kind == "extra_forbidden":
            problems.append(f"{key}: unknown key (check its spelling; see the commented config.yaml for valid keys)")
        elif kind == "missing":
            problems.append(f"{key}: required key is missing")
        elif kind == "value_error" and e.get("ctx", {}).get("error") is not None:
            # our own validators name the value and what is valid already
            problems.append(_with_origin(key, str(e["ctx"]["error"]), origins))
        else:
            got = e.get("input")
            shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
            problems.append(_with_origin(key, f"{e['msg']} (got {shown})", origins))
    return problems


def load_settings(
    path: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Read, interpolate and validate the configuration once.

    Args:
        path: config file; default $BRANDBOT_CONFIG or ./config.yaml.
        env: environment to read ``${VAR}`` and BRANDBOT_HOST/PORT from (default os.environ).
        overrides: dotted keys set after reading the file (CLI flags), e.g. {"server.port": 9000}.

    Returns:
        The frozen :class:`Settings`.

    Raises:
        ConfigError: naming the file, each bad key path (with the environment variable
            that supplied its value, if one did) and what is valid. Besides types and
            ranges, the semantic checks of :mod:`bots.settings.checks` run here (time
            zones, languages with training data, URLs, paths that must exist).
    """
    env = dict(os.environ if env is None else env)
    file = resolve_config_path(path)
    if not file.is_file():
        raise ConfigError([f"config file not found: {file} (pass --config FILE or set BRANDBOT_CONFIG)"], str(file))
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError([f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"], str(file)) from exc
    if not isinstance(raw, dict):
        raise ConfigError(["the top level must be a mapping of sections (brand:, server:, ...)"], str(file))

    missing: list[tuple[str, str]] = []
    origins: dict[str, str] = {}
    data = _interpolate(raw, env, "", missing, origins)
    for var, dotted in ENV_OVERRIDES.items():
        if env.get(var):
            section, leaf = dotted.split(".")
            data.setdefault(section, {})[leaf] = env[var]
            origins[dotted] = f"${var}"
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        node = data
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
        origins[dotted] = "the command line"

    problems = [
        f"{key}: environment variable {var} is not set (export it; secrets never go in the file)"
        for key, var in missing
        if _secret_needed(data, key)
    ]
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems + _format_pydantic(exc, origins), str(file)) from exc
    settings._source = str(file)
    settings._base_dir = file.parent
    problems += [_with_origin(key, problem, origins) for key, problem in semantic_problems(settings)]
    if problems:
        raise ConfigError(problems, str(file))
    return settings
