"""Fleet analysis: thousands of images, local or remote, into tables, on one machine or a
Dask cluster.

>>> from portablekit.fleet import scan                                  # doctest: +SKIP
>>> fleet = scan(["/srv/images", "https://images.example/portable/"],  # doctest: +SKIP
...              systemd=(252, 257, 262), profiles=("default", "strict"))
>>> fleet.verdicts.groupby(["systemd", "cause"], observed=True).size()  # doctest: +SKIP
>>> fleet.export("fleet/", "parquet")                                  # doctest: +SKIP

:func:`scan` finds the images of its sources (:mod:`.sources`: directories walked with
portabled's naming rules, explicit paths, URLs through fsspec), judges every image under every
systemd version on a fresh host as ``portablectl attach`` would (:mod:`.analyze`, on the host
of :mod:`.placed`; remote raw images are read in place, :mod:`.remote`), and returns a
:class:`Fleet` of pandas DataFrames (:mod:`.frames` documents every column): ``images``,
``verdicts``, ``units``, ``findings``, ``scores`` and ``upgrades``. :func:`generate_fleet`
(:mod:`.synthetic`) lays out a deterministic synthetic fleet for tests, benchmarks and the
notebook. ``Fleet.host(image)`` gives the host an image was judged on, for a drill-down
(:class:`~portablekit.widgets.ImageExplorer` takes it).

**Where it runs.** By default on every core of this machine (a process pool; ``workers=0``
runs in this process). With ``client=`` a ``dask.distributed.Client``, each chunk of images is
one Dask task and the tables come back as dask DataFrames (``compute=True``: pandas). The same
code runs on a real cluster: start one with dask-jobqueue (``SLURMCluster(cores=..,
memory=..)``, PBS, SGE, LSF, HTCondor) or dask-kubernetes (``KubeCluster``), ``cluster.scale(N)``,
and pass ``Client(cluster)``. The workers need portablekit with the ``fleet`` extra and must
reach the sources: a shared file system for directories, or URLs (HTTP, S3 with credentials in
the workers' environment or ``storage_options``).

This package uses pandas (it sits beside :mod:`portablekit.tables`); ``import portablekit``
and the command line load it only when a scan runs.
"""

from __future__ import annotations

from .analyze import COLUMNS, ScanConfig
from .frames import FORMATS, SCHEMAS, TABLES, Fleet
from .placed import ImageTimeout, PlacedHost
from .remote import RangeNotSupported
from .scan import scan
from .sources import ImageRef, discover
from .synthetic import FleetSpec, generate_fleet

__all__ = [
    "COLUMNS",
    "FORMATS",
    "SCHEMAS",
    "TABLES",
    "Fleet",
    "FleetSpec",
    "ImageRef",
    "ImageTimeout",
    "PlacedHost",
    "RangeNotSupported",
    "ScanConfig",
    "discover",
    "generate_fleet",
    "scan",
]
