"""What systemd-portabled does, as data: nothing in this folder writes a file.

A portable image is found (:mod:`.image`: the search path, ``.v/`` directories, raw files),
dissected (:mod:`.dissect`: os-release, the unit files whose names match the prefixes;
:mod:`.extrelease`: extensions' release files), and attached or detached as a *plan*:
:mod:`.plan` holds the values (frozen operations and the change lines portablectl prints),
:mod:`.attach` the planners, including what ``--enable`` and ``--now`` ask of the simulated
service manager; :mod:`.manage` plans ``read-only`` and ``remove``. The drop-in text and its
marker are :mod:`.dropin`, profiles :mod:`.profiles`, what a host already has :mod:`.host`
(and :meth:`.Host.overlay`, the host as pending operations leave it), what systemd's install
logic says of its unit files :mod:`.install`, what is attached :mod:`.state`, and which layer
of an extension stack a file comes from :mod:`.layers`.
:class:`portablekit.sandbox.SandboxRoot` is the one place a plan is carried out.

>>> from portablekit.portabled import Host, dissect, plan_attach   # doctest: +SKIP
"""

from __future__ import annotations

from .attach import plan_attach, plan_detach, plan_reattach
from .dissect import Dissection, ImageUnit, Layer, SkipReason, dissect
from .host import Host
from .image import Image, ImageKind, discover_images, lookup_image
from .plan import Change, CopyMode, Op, OpKind, Plan
from .profiles import BUILTIN_PROFILES, Profile, find_profile, list_profiles
from .state import ImageState, UnitState, image_state, unit_states

__all__ = [
    "BUILTIN_PROFILES",
    "Change",
    "CopyMode",
    "Dissection",
    "Host",
    "Image",
    "ImageKind",
    "ImageState",
    "ImageUnit",
    "Layer",
    "Op",
    "OpKind",
    "Plan",
    "Profile",
    "SkipReason",
    "UnitState",
    "discover_images",
    "dissect",
    "find_profile",
    "image_state",
    "list_profiles",
    "lookup_image",
    "plan_attach",
    "plan_detach",
    "plan_reattach",
    "unit_states",
]
