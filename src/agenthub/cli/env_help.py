"""The environment variables a command reads, with their defaults, listed from the settings classes
themselves (server, storage, auth, engine, and each registered protocol's), so `--help` never drifts from
the code."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import AliasChoices, BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

from agenthub.protocols.registry import available
from agenthub.server.settings import AuthSettings, EngineSettings, ServerSettings, StorageSettings

SERVER_CLASSES: tuple[type[BaseSettings], ...] = (
    ServerSettings,
    StorageSettings,
    AuthSettings,
    EngineSettings,
)
# What the code uses when a variable is unset, where the settings class only says None.
WHEN_UNSET = {
    "AGENTHUB_JWT_SECRET": "(secret) generated in development",
    "AGENTHUB_COMFYUI_SIGNING_KEYS": "(secret) generated in development",
    "AGENTHUB_COMFYUI_ADMIN_KEY": "(secret) generated in development",
    "AGENTHUB_SUPER_USERNAME": "admin",
    "AGENTHUB_SUPER_PASSWORD": "(secret) generated at first start (printed once)",
    "AGENTHUB_COMFYUI_PROTOCOL_DOC": "docs/comfyui.md",
}


def variables(cls: type[BaseSettings]) -> list[tuple[str, str]]:
    """(name, default) of each variable the class reads; nested settings (e.g. `scan`) are expanded."""
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    return list(_fields(cls, prefix))


def _fields(cls: type[BaseModel], prefix: str) -> Iterable[tuple[str, str]]:
    for name, info in cls.model_fields.items():
        names = _env_names(info, prefix + name.upper())
        nested = info.annotation if isinstance(info.annotation, type) else None
        if nested is not None and issubclass(nested, BaseSettings):
            nested_prefix = str(nested.model_config.get("env_prefix", "")).upper() or names[0] + "_"
            yield from _fields(nested, nested_prefix)
            continue
        yield " or ".join(names), _default(info, names[0])


def _env_names(info: FieldInfo, default: str) -> list[str]:
    alias = info.validation_alias
    if isinstance(alias, str):
        return [alias]
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [default]


def _default(info: FieldInfo, name: str) -> str:
    secret = _is_secret(info.annotation)
    if name in WHEN_UNSET:
        return WHEN_UNSET[name]
    if info.default is PydanticUndefined and info.default_factory is None:
        return "(required)"
    value: Any = info.get_default(call_default_factory=True)
    if secret:
        return "(secret) unset" if value is None else "(secret)"
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if isinstance(value, dict | list | tuple):
        return json.dumps(list(value) if isinstance(value, tuple) else value)  # as the variable takes it
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return SecretStr in getattr(annotation, "__args__", ())


def epilog(classes: Iterable[type[BaseSettings]], *, title: str = "environment variables") -> str:
    rows = [row for cls in classes for row in variables(cls)]
    width = min(max((len(name) for name, _ in rows), default=0), 48)
    lines = [f"{title} (default after the name):"]
    for name, default in rows:
        lines.append(f"  {name.ljust(width)}  {default}")
    return "\n".join(lines)


def all_settings_classes() -> list[type[BaseSettings]]:
    """The server's classes, then each registered protocol's, in registry order."""
    return [*SERVER_CLASSES, *(spec.settings for spec in available().values())]
