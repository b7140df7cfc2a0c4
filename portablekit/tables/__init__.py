"""The core as pandas DataFrames: one ``*_frame`` function per concept.

Every frame has a fixed column order, sorted rows and explicit dtypes: categoricals for closed
vocabularies (image kinds, states, unit types, skip reasons, operations), ``boolean`` for
flags, ``Int64`` for counts and layer numbers, ``string`` for text. Paths are paths *inside*
the image or the sandbox root (``/var/lib/portables/minimal``), never where the sandbox lives
on this machine, so a stored notebook output is the same everywhere.

The frames live in one module per concept: :mod:`~portablekit.tables.images` (images, release
files, layers, check findings), :mod:`~portablekit.tables.units` (unit files and drop-ins),
:mod:`~portablekit.tables.profiles` (profiles and security scores),
:mod:`~portablekit.tables.plans` (attach plans, the sandbox root and its before/after diff); the
dtypes and the row builder they share are in ``_common``. Everything is importable from
``portablekit.tables``. Styled views and pictures of the frames are in
:mod:`~portablekit.tables.render` (``show``, the heat map, the layer stack) and
:mod:`~portablekit.tables.pictures` (the attach lifecycle, the host diff, exposure bars, plots).

This package imports pandas; ``import portablekit`` never loads it.

>>> from portablekit.tables import profile_matrix_frame
>>> from portablekit.versions import Systemd
>>> m = profile_matrix_frame(["default", "strict"], Systemd(257))
>>> list(m.columns), m.loc[m.directive == "PrivateNetwork", "strict"].item()
(['section', 'directive', 'category', 'default', 'strict'], 'yes')
"""

from __future__ import annotations

# The dtypes, schemas and the row builder are public but not in __all__ (a star import gives the
# frames only); the redundant aliases re-export them.
from ._common import BOOL as BOOL
from ._common import CHANGE_TYPE as CHANGE_TYPE
from ._common import DROPIN_SOURCE as DROPIN_SOURCE
from ._common import FILE_KIND as FILE_KIND
from ._common import IMAGE_KIND as IMAGE_KIND
from ._common import IMAGE_STATE as IMAGE_STATE
from ._common import INT as INT
from ._common import OP_KIND as OP_KIND
from ._common import PROFILE as PROFILE
from ._common import RELEASE_CLASS as RELEASE_CLASS
from ._common import SEVERITY as SEVERITY
from ._common import STR as STR
from ._common import UNIT_STATUS as UNIT_STATUS
from ._common import UNIT_TYPE as UNIT_TYPE
from ._common import _cat as _cat
from ._common import _frame as _frame
from ._common import _unit_type as _unit_type
from .images import COMPAT_SCHEMA as COMPAT_SCHEMA
from .images import FINDINGS_SCHEMA as FINDINGS_SCHEMA
from .images import IMAGES_SCHEMA as IMAGES_SCHEMA
from .images import LAYERS_SCHEMA as LAYERS_SCHEMA
from .images import PATHS_SCHEMA as PATHS_SCHEMA
from .images import RELEASE_SCHEMA as RELEASE_SCHEMA
from .images import (
    compat_frame,
    findings_frame,
    images_frame,
    layers_frame,
    paths_frame,
    release_frame,
)
from .plans import ATTACH_TREES as ATTACH_TREES
from .plans import CHANGE as CHANGE
from .plans import CHANGES_SCHEMA as CHANGES_SCHEMA
from .plans import DIFF_SCHEMA as DIFF_SCHEMA
from .plans import PLAN_SCHEMA as PLAN_SCHEMA
from .plans import SANDBOX_SCHEMA as SANDBOX_SCHEMA
from .plans import TREE_SCHEMA as TREE_SCHEMA
from .plans import (
    changes_frame,
    diff_frame,
    plan_diff_frame,
    plan_frame,
    sandbox_frame,
    tree_frame,
)
from .profiles import SCORES_SCHEMA as SCORES_SCHEMA
from .profiles import (
    profile_checks_frame,
    profile_matrix_frame,
    profile_versions_frame,
    scores_frame,
)
from .units import DROPINS_SCHEMA as DROPINS_SCHEMA
from .units import LOCAL_DROPIN_DIRS as LOCAL_DROPIN_DIRS
from .units import UNIT_ORIGINS_SCHEMA as UNIT_ORIGINS_SCHEMA
from .units import UNITS_SCHEMA as UNITS_SCHEMA
from .units import (
    dropins_frame,
    unit_origins_frame,
    units_frame,
)

__all__ = [
    "changes_frame",
    "compat_frame",
    "diff_frame",
    "dropins_frame",
    "findings_frame",
    "images_frame",
    "layers_frame",
    "paths_frame",
    "plan_diff_frame",
    "plan_frame",
    "profile_checks_frame",
    "profile_matrix_frame",
    "profile_versions_frame",
    "release_frame",
    "sandbox_frame",
    "scores_frame",
    "tree_frame",
    "unit_origins_frame",
    "units_frame",
]
