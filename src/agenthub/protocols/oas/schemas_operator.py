"""Request bodies of the operator routes the original frontend calls (names and limits as the original's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Ids = list[int]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CredentialsIn(_Body):
    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=6, max_length=128)


class CodeIn(_Body):
    code: str = Field(min_length=6, max_length=64)


class AliasIn(_Body):
    alias: str = Field(default="", max_length=64)


class RenewalKeyCreateIn(_Body):
    duration_days: int = Field(ge=1, le=3650)
    manager_type: Literal["daily", "duiyi", "shuaka", "all"] = "all"
    valid_days: int | None = Field(default=None, ge=1, le=3650)  # ours: how long it can be redeemed
    count: int = Field(default=1, ge=1, le=100)


class ActivationCodeCreateIn(_Body):
    duration_days: int = Field(ge=1, le=3650)
    user_type: Literal["daily", "duiyi", "shuaka"] = "daily"
    valid_days: int | None = Field(default=None, ge=1, le=3650)
    count: int = Field(default=1, ge=1, le=100)


class CodeStatusIn(_Body):
    status: Literal["revoked"]


class KeyIdsIn(_Body):
    key_ids: Ids = Field(min_length=1, max_length=500)


class IdsIn(_Body):
    ids: Ids = Field(min_length=1, max_length=500)


class CodeIdsIn(_Body):
    code_ids: Ids = Field(min_length=1, max_length=500)


class BootstrapIn(CredentialsIn):
    pass


class BatchUserLifecycleIn(_Body):
    user_ids: Ids = Field(min_length=1, max_length=500)
    expires_at: datetime | None = None
    extend_days: int | None = Field(default=None, ge=1, le=3650)
    status: Literal["active", "expired", "disabled"] | None = None


class BatchUserAssetsIn(_Body):
    user_ids: Ids = Field(min_length=1, max_length=500)
    assets: dict[str, Any]


class UserIdsIn(_Body):
    user_ids: Ids = Field(min_length=1, max_length=500)


class AssetsIn(_Body):
    assets: dict[str, Any]


class BatchManagerLifecycleIn(_Body):
    manager_ids: Ids = Field(min_length=1, max_length=200)
    expires_at: datetime | None = None
    extend_days: int | None = Field(default=None, ge=1, le=3650)
