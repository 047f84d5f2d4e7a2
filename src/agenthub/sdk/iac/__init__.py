"""Agent-side SDK for the IaC platform (seed 004): a C&C agent that runs real Terraform."""

from agenthub.sdk.iac.agent import AgentConfig, IacAgent
from agenthub.sdk.iac.client import ApiError, IacClient
from agenthub.sdk.iac.logs import LogUploader
from agenthub.sdk.iac.terraform import (
    TerraformMissing,
    TerraformVersions,
    bundled_terraform,
    default_terraforms,
)

__all__ = [
    "AgentConfig",
    "ApiError",
    "IacAgent",
    "IacClient",
    "LogUploader",
    "TerraformMissing",
    "TerraformVersions",
    "bundled_terraform",
    "default_terraforms",
]
