"""Image policies: the ``RootImagePolicy=``/``ExtensionImagePolicy=`` strings systemd 262 pins.

portabled 262 derives a policy from what it found when dissecting a raw image and writes it into
the drop-in, so that the unit later uses exactly that layout: every designator that was found
gets flags, everything else must be ``absent``. What the flags are was pinned by recording the
real portabled (``tests/golden-extra/raw-dissect``):

* a plain file system (no partition table): only its type, ``root=squashfs:=absent``;
* a partition: ``read-only-on``/``read-only-off`` (GPT flag 60; always *on* for squashfs,
  erofs and verity-protected partitions), ``growfs-on``/``growfs-off`` (GPT flag 59), the file
  system type when it is a policy flag, ``verity``/``signed`` for a data partition that has a
  verity (signature) partition; MBR partitions are ``read-only-off+growfs-off``;
* several extensions share one policy, their union: per designator the types add up, and an
  aspect one of them leaves open stays open (``root=squashfs`` with
  ``root=read-only-off+growfs-off+ext4`` gives ``root=ext4+squashfs``); a designator only one
  extension has keeps that extension's flags.

The string follows ``image_policy_to_string(simplify=true)``: designators in systemd's order,
flags in bit order, then the default ``=absent``.

>>> str(ImagePolicy({Designator.ROOT: PartitionPolicy.of(fstype="squashfs")}))
'root=squashfs:=absent'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .dps import Designator

__all__ = ["FSTYPE_FLAGS", "PROTECTION_FLAGS", "ImagePolicy", "PartitionPolicy"]

#: file system types that are policy flags, in systemd's bit order
FSTYPE_FLAGS = ("btrfs", "erofs", "ext4", "f2fs", "squashfs", "vfat", "xfs")
#: protection flags, in systemd's bit order
PROTECTION_FLAGS = ("verity", "signed", "encrypted", "unprotected", "unused", "absent")
_BOOLS = frozenset((True, False))


def _open_union(
    a: frozenset[object], b: frozenset[object], everything: frozenset[object]
) -> frozenset[object]:
    # an empty set means "unspecified", which systemd extends to every value before OR-ing and
    # drops again when every value is allowed
    if not a or not b:
        return frozenset()
    u = a | b
    return frozenset() if u >= everything else u


@dataclass(frozen=True, slots=True)
class PartitionPolicy:
    """The flags pinned for one designator; an empty set leaves that aspect unspecified.

    ``protection`` holds words of :data:`PROTECTION_FLAGS`; ``read_only`` and ``growfs`` hold
    ``True``/``False`` (both, like none, mean "don't care"); ``fstypes`` words of
    :data:`FSTYPE_FLAGS`.
    """

    protection: frozenset[str] = frozenset()
    read_only: frozenset[bool] = frozenset()
    growfs: frozenset[bool] = frozenset()
    fstypes: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        *,
        protection: str | None = None,
        read_only: bool | None = None,
        growfs: bool | None = None,
        fstype: str | None = None,
    ) -> PartitionPolicy:
        """One value per aspect; a file system type that is not a policy flag is left out."""
        return cls(
            protection=frozenset([protection]) if protection else frozenset(),
            read_only=frozenset([read_only]) if read_only is not None else frozenset(),
            growfs=frozenset([growfs]) if growfs is not None else frozenset(),
            fstypes=frozenset([fstype]) if fstype in FSTYPE_FLAGS else frozenset(),
        )

    def union(self, other: PartitionPolicy) -> PartitionPolicy:
        """What either policy allows."""
        return PartitionPolicy(
            protection=frozenset(
                str(x)
                for x in _open_union(
                    frozenset(self.protection),
                    frozenset(other.protection),
                    frozenset(PROTECTION_FLAGS),
                )
            ),
            read_only=frozenset(
                bool(x)
                for x in _open_union(frozenset(self.read_only), frozenset(other.read_only), _BOOLS)
            ),
            growfs=frozenset(
                bool(x)
                for x in _open_union(frozenset(self.growfs), frozenset(other.growfs), _BOOLS)
            ),
            fstypes=self.fstypes | other.fstypes,
        )

    def __str__(self) -> str:
        if self.protection == frozenset(PROTECTION_FLAGS):
            words = ["open"]
        elif self.protection == frozenset({"unused", "absent"}):
            words = ["ignore"]
        else:
            words = [w for w in PROTECTION_FLAGS if w in self.protection]
        if len(self.read_only) == 1:  # both (or neither) means "don't care": left out
            words.append("read-only-on" if True in self.read_only else "read-only-off")
        if len(self.growfs) == 1:
            words.append("growfs-off" if False in self.growfs else "growfs-on")
        words += [t for t in FSTYPE_FLAGS if t in self.fstypes]
        return "+".join(words) or "-"


@dataclass(frozen=True, slots=True)
class ImagePolicy:
    """A whole image policy: flags per designator, everything else ``absent``."""

    partitions: Mapping[Designator, PartitionPolicy] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ordered = {d: self.partitions[d] for d in Designator if d in self.partitions}
        object.__setattr__(self, "partitions", MappingProxyType(ordered))

    def union(self, *others: ImagePolicy) -> ImagePolicy:
        """One policy allowing what any of the policies allows (``ExtensionImagePolicy=``)."""
        merged: dict[Designator, PartitionPolicy] = dict(self.partitions)
        for other in others:
            for d, p in other.partitions.items():
                merged[d] = merged[d].union(p) if d in merged else p
        return ImagePolicy(merged)

    def __str__(self) -> str:
        return ":".join([*(f"{d}={p}" for d, p in self.partitions.items()), "=absent"])
