"""portablekit: systemd Portable Services, modelled faithfully and made visible.

The names most sessions need are here, loaded on first use (PEP 562), so ``import portablekit``
stays light (no pandas, no ipywidgets) and the command line starts fast::

    from portablekit import SandboxRoot, Systemd, dissect, plan_attach, sample_sandbox

    root = sample_sandbox(systemd=Systemd(257)).root
    plan = plan_attach(root.host, "minimal")     # the prefix derived as portablectl does
    root.apply(plan)

The tables and widgets are subpackages: ``from portablekit import tables, widgets``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .check import Finding, check_host_image, check_image
    from .errors import PortabledError, PortableKitError, SandboxError, UsageError
    from .portabled.attach import (
        plan_attach,
        plan_detach,
        plan_disable,
        plan_enable,
        plan_reattach,
        plan_start,
        plan_stop,
    )
    from .portabled.dissect import Dissection, dissect
    from .portabled.host import Host
    from .portabled.plan import Plan
    from .samples import sample_sandbox
    from .sandbox import SandboxRoot
    from .versions import Systemd

#: name -> the module (relative to this package) it comes from
_LAZY = {
    "Dissection": ".portabled.dissect",
    "Finding": ".check",
    "Host": ".portabled.host",
    "Plan": ".portabled.plan",
    "PortableKitError": ".errors",
    "PortabledError": ".errors",
    "SandboxError": ".errors",
    "SandboxRoot": ".sandbox",
    "Systemd": ".versions",
    "UsageError": ".errors",
    "check_host_image": ".check",
    "check_image": ".check",
    "dissect": ".portabled.dissect",
    "plan_attach": ".portabled.attach",
    "plan_detach": ".portabled.attach",
    "plan_disable": ".portabled.attach",
    "plan_enable": ".portabled.attach",
    "plan_reattach": ".portabled.attach",
    "plan_start": ".portabled.attach",
    "plan_stop": ".portabled.attach",
    "sample_sandbox": ".samples",
}

__all__ = [
    "Dissection",
    "Finding",
    "Host",
    "Plan",
    "PortableKitError",
    "PortabledError",
    "SandboxError",
    "SandboxRoot",
    "Systemd",
    "UsageError",
    "check_host_image",
    "check_image",
    "dissect",
    "plan_attach",
    "plan_detach",
    "plan_disable",
    "plan_enable",
    "plan_reattach",
    "plan_start",
    "plan_stop",
    "sample_sandbox",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # the next lookup is a plain attribute
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
