"""The systemd versions portablekit reproduces, and what differs between them.

Each behaviour that changed between systemd 252 (Debian 12), 257 (Debian 13) and 262 (Debian
forky) is a property of :class:`Systemd`, so the rest of the code asks a question ("does this
version strip the version from extension-release names?") instead of comparing numbers.

Known upstream bugs are reproduced by default, because that is what real hosts do. Where one is
plainly a bug, ``Systemd(v, fixed=True)`` turns the fix on; the property says which.

This is the one module that compares version numbers. Declarative tables keyed by the version a
setting or value appeared in (the directive table's ``since=``, the system call groups) ask
:meth:`Systemd.reaches` and :meth:`Systemd.up_to`; a per-version data directory or dictionary
is looked up by :attr:`Systemd.version`.

>>> Systemd(257).bare_name_matches_everything, Systemd(257, fixed=True).bare_name_matches_everything
(True, False)
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

__all__ = ["DEFAULT_VERSION", "SUPPORTED_VERSIONS", "Systemd"]

#: The systemd major versions whose behaviour is recorded and reproduced.
SUPPORTED_VERSIONS = (252, 257, 262)
#: The version used when none is given (Debian 13).
DEFAULT_VERSION = 257

#: Debian package version strings of the recordings (``portablectl --version``).
PACKAGE_VERSIONS = {252: "252.39-1~deb12u2", 257: "257.13-1~deb13u1", 262: "262-1"}


@dataclass(frozen=True, slots=True)
class Systemd:
    """One systemd version's portable-services behaviour.

    ``fixed`` replaces the behaviours documented as upstream bugs by what was evidently
    intended (off by default: the goldens record the bugs).
    """

    version: int = DEFAULT_VERSION
    fixed: bool = False

    def __post_init__(self) -> None:
        if self.version not in SUPPORTED_VERSIONS:
            supported = ", ".join(map(str, SUPPORTED_VERSIONS))
            raise ValueError(f"unsupported systemd version {self.version} (supported: {supported})")

    def __str__(self) -> str:
        return f"systemd {self.version}" + (" (fixed)" if self.fixed else "")

    @classmethod
    def supported(cls, *, fixed: bool = False) -> tuple[Systemd, ...]:
        """Every reproduced version, oldest first.

        >>> [s.version for s in Systemd.supported()]
        [252, 257, 262]
        """
        return tuple(cls(v, fixed) for v in SUPPORTED_VERSIONS)

    # -- tables keyed by version ---------------------------------------------------------------

    def reaches(self, since: int) -> bool:
        """Whether this version has what systemd ``since`` introduced (a table row's
        ``since=``).

        >>> Systemd(257).reaches(254), Systemd(252).reaches(254)
        (True, False)
        """
        return self.version >= since

    def up_to(self, last: int) -> bool:
        """Whether this version is ``last`` or older (a table row that held up to ``last``).

        >>> Systemd(257).up_to(257), Systemd(262).up_to(257)
        (True, False)
        """
        return self.version <= last

    # -- drop-in text ------------------------------------------------------------------------

    @property
    def binds_host_os_release(self) -> bool:
        """252: ``BindReadOnlyPaths=<host os-release>:/run/host/os-release`` in the drop-in."""
        return self.version < 254

    @property
    def logs_name_and_version(self) -> bool:
        """254+: ``LogExtraFields=PORTABLE_NAME_AND_VERSION=`` and the ``PORTABLE_ROOT*`` lines."""
        return self.version >= 254

    @property
    def extension_blocks_for_all_units(self) -> bool:
        """262: units from the base image get the extension lines too (before: only units
        that came from an extension)."""
        return self.version >= 260

    @property
    def pins_image_policy(self) -> bool:
        """262: ``RootImagePolicy=`` / ``ExtensionImagePolicy=`` for raw images."""
        return self.version >= 260

    @property
    def relax_decided_per_extension(self) -> bool:
        """257+ (recorded): ``:x-systemd.relax-extension-release-check`` depends on each
        extension's type and is never added to ``ExtensionDirectories=``; 252 decides by the
        base image's type (a bug)."""
        return self.version >= 257 or self.fixed

    @property
    def name_and_version_drops_control(self) -> bool:
        """262: ``*_NAME_AND_VERSION`` values with control characters are dropped."""
        return self.version >= 260

    # -- images --------------------------------------------------------------------------------

    @property
    def vpick(self) -> bool:
        """256+: ``NAME.v/`` directories and symlink-resolved image paths."""
        return self.version >= 256

    @property
    def vpick_skips_wrong_types(self) -> bool:
        """262: ``.v`` picking skips entries of the wrong kind; 257 picks the newest entry
        first and then fails on its kind ("Wrong medium type")."""
        return self.version >= 260

    @property
    def resolves_image_symlinks(self) -> bool:
        """262: images found through a symlink are recorded under their real path."""
        return self.version >= 260

    @property
    def trailing_slash_prefix(self) -> bool:
        """253+: a trailing slash of the image argument is ignored when deriving the prefix."""
        return self.version >= 253

    @property
    def mounts_usr_only_images(self) -> bool:
        """257+: a raw image with a ``/usr`` partition and no root partition is mounted (252
        finds the ``/usr`` partition but mounts nothing)."""
        return self.version >= 257

    @property
    def uses_verity(self) -> bool:
        """262: verity settings are loaded, so verity and verity signature partitions of a raw
        image count (252/257 ignore them)."""
        return self.version >= 260

    @property
    def usr_arch_mismatch_errno(self) -> int | None:
        """The errno of a raw image whose root and ``/usr`` partitions have different
        architectures: 252 ignores the ``/usr`` (``None``), 257 refuses with ``EADDRNOTAVAIL``,
        262 with ``EREMOTE``."""
        if self.version >= 260:
            return errno.EREMOTE
        return errno.EADDRNOTAVAIL if self.version >= 257 else None

    @property
    def reports_raw_mount_errno(self) -> bool:
        """262: a raw image partition that fails to mount is reported with its errno; before,
        the unmounted tree just "lacks os-release data"."""
        return self.version >= 260

    @property
    def hidden_images_read_only(self) -> bool:
        """259+: images whose name starts with a dot are listed read-only."""
        return self.version >= 259

    @property
    def units_resolve_in_image(self) -> bool:
        """262: a unit file that is a symlink is resolved inside the image; before, portabled
        opened it through the host's root (an absolute link pointed at the host)."""
        return self.version >= 260

    @property
    def skips_unit_links_to_directories(self) -> bool:
        """262: a unit-named symbolic link to a directory inside an image is skipped; 252/257
        take it like a unit file and fail reading it (``Is a directory``)."""
        return self.version >= 260

    @property
    def state_counts_dropin_dirs(self) -> bool:
        """262: ``is-attached``/``list`` also count a unit whose drop-in directory is left but
        whose unit file is gone (before, only detach did)."""
        return self.version >= 260

    @property
    def raw_names_are_files(self) -> bool:
        """256+: a name ending in ``.raw`` is only looked up as a raw image file."""
        return self.version >= 256

    @property
    def portable_scope(self) -> bool:
        """262: ``PORTABLE_SCOPE=`` in os-release is checked."""
        return self.version >= 260

    @property
    def copy_modes(self) -> tuple[str, ...]:
        """Accepted ``--copy=`` values."""
        return (
            ("auto", "copy", "symlink", "mixed")
            if self.version >= 256
            else ("auto", "copy", "symlink")
        )

    @property
    def has_clean(self) -> bool:
        """256+: ``detach --clean``."""
        return self.version >= 256

    # -- extensions ----------------------------------------------------------------------------

    @property
    def strips_sysext_suffixes(self) -> bool:
        """256+: a raw extension's name also loses ``.zst``, ``.sysext.raw`` and
        ``.confext.raw`` (besides ``.raw``, ``.xz``, ...) before ``extension-release.NAME``."""
        return self.version >= 256

    @property
    def confext(self) -> bool:
        """255+: extensions with ``/etc/extension-release.d/`` (configuration extensions)."""
        return self.version >= 255

    @property
    def extension_name_strips_version(self) -> bool:
        """256+: ``extension-release.NAME`` may omit the ``_VERSION`` of the image name."""
        return self.version >= 256

    @property
    def extension_id_like(self) -> bool:
        """257+ (recorded; the sources date it to 258): an extension's ``ID`` may match a word
        of the base's ``ID_LIKE``."""
        return self.version >= 257

    @property
    def missing_extension_release_is_enoent(self) -> bool:
        """255+: a directory extension without release file fails with ``ENOENT`` instead of
        "lacks extension-release data"."""
        return self.version >= 255

    @property
    def raw_extension_refuses_os_release(self) -> bool:
        """257+ (recorded; the sources date it to 254): a raw extension that has
        ``/usr/lib/os-release`` is not an extension; 252 accepts it when its
        extension-release is there."""
        return self.version >= 254

    @property
    def raw_missing_metadata_is_enomedium(self) -> bool:
        """262: a raw image without the release file a call needs (and a raw extension with
        ``/usr/lib/os-release``) fails with the dissection child's ``ENOMEDIUM`` ("No medium
        found"); before, portabled said the image "lacks os-release/extension-release data"."""
        return self.version >= 260

    @property
    def force_accepts_any_extension_name(self) -> bool:
        """262: ``--force`` accepts a directory extension's release file of another name."""
        return self.version >= 260

    @property
    def inspect_shows_extension_compatibility(self) -> bool:
        """254+: ``Extension Scope:``, ``Extension Compatibility Level:``, ``Extension
        Compatibility OS:`` and ``Extension Image:`` in ``inspect``."""
        return self.version >= 254

    # -- detach / state ----------------------------------------------------------------------

    @property
    def marker_matches_base_names(self) -> bool:
        """256+: ``is-attached``, ``list`` and ``detach`` compare ``image_base_name()`` of each
        marker token with that of the image asked about, so ``list`` shows an extension as
        attached and (without :attr:`bare_name_matches_everything`) ``detach BASE`` finds
        nothing attached with extensions; 252 compares prefixes position by position."""
        return self.version >= 256

    @property
    def bare_name_matches_everything(self) -> bool:
        """257: a bare image name (or a missing path) matches every attached image (a bug,
        systemd#39058, fixed in 262)."""
        return 256 <= self.version < 260 and not self.fixed

    @property
    def detach_removes_whatever_link(self) -> bool:
        """256+: detach removes ``/etc/portables/NAME`` whatever it is (recursively), and
        records the removal even when nothing was there; where ``/etc/portables`` is not a
        directory the failure is remembered and fails the detach after everything else is
        removed (252 only removes a link that is there)."""
        return self.version >= 256

    @property
    def detach_removes_admin_links(self) -> bool:
        """Detach removes ``/etc/portables/NAME`` also when an admin put it there, not attach
        (all versions: the recordings show it); ``--fixed`` removes only what attach made."""
        return not self.fixed

    @property
    def reattach_by_name_works(self) -> bool:
        """262: ``reattach NAME`` works; 252/257 remove the image link and then fail."""
        return self.version >= 260 or self.fixed

    @property
    def instance_falls_back_to_template(self) -> bool:
        """Up to 259: an instance that is not on the host is looked up by its template, so a
        template file or mask counts as the instance existing (and a linked template fails the
        check with ``ELOOP`` as any link in the configuration directories does)."""
        return self.version < 260

    @property
    def install_link_directories(self) -> tuple[str, ...]:
        """The subdirectories whose links make a unit enabled (``find_symlinks()``): 252 looks
        into ``.wants`` and ``.requires`` only, 257+ also into ``.upholds``."""
        return (
            (".wants", ".requires", ".upholds") if self.version >= 253 else (".wants", ".requires")
        )

    @property
    def vendor_units_in_lib(self) -> bool:
        """252 (Debian's split-usr build): the vendor unit directory is ``/lib/systemd/system``,
        searched before ``/usr/lib/systemd/system`` on the host and inside images; 257+ search
        ``/usr/lib`` first (and ``/lib`` only inside images)."""
        return self.version < 255

    # -- portablectl's command line -------------------------------------------------------

    @property
    def option_errors_name_the_option(self) -> bool:
        """262: systemd's own option parser words errors ``unrecognized option '-z'`` (a long
        option without its ``=value``) and ``option '-H' requires an argument``; 252/257 use
        glibc's ``getopt_long()`` (``invalid option -- 'z'``, the whole argument)."""
        return self.version >= 258

    @property
    def has_scope_options(self) -> bool:
        """262: ``--user`` and ``--system`` (portabled's user scope)."""
        return self.version >= 259

    @property
    def quotes_unknown_verb(self) -> bool:
        """257+: ``Unknown command verb 'X'.``; 252: ``Unknown command verb X.``."""
        return self.version >= 254

    @property
    def copy_help_ends_with_blank_line(self) -> bool:
        """257+: ``--copy=help`` prints an empty line after the modes."""
        return self.version >= 256

    @property
    def set_limit_sets_pool_limit(self) -> bool:
        """262: ``set-limit SIZE`` (one argument) sets the pool's limit; 252/257 want two."""
        return self.version >= 258

    @property
    def removed_image_auxiliaries(self) -> tuple[str, ...]:
        """The files next to an image that ``remove`` deletes with it (``NAME<suffix>``, besides
        ``NAME.nspawn``): 252/257 the ``.roothash``, 262 all verity files."""
        if self.version >= 258:
            return (".roothash", ".usrhash", ".verity", ".roothash.p7s", ".usrhash.p7s")
        return (".roothash",)

    @property
    def image_verbs_normalize_paths(self) -> bool:
        """262: ``read-only``, ``remove`` and ``set-limit`` normalize an image argument that is
        not a name like the other verbs (``Cannot normalize specified image path``); 252/257
        send it to portabled as it is."""
        return self.version >= 258

    @property
    def long_image_name_errno(self) -> int:
        """The errno of a too long image argument: 252 ``EINVAL``, 257+ ``ECHRNG``."""
        return errno.ECHRNG if self.version >= 254 else errno.EINVAL

    # -- output --------------------------------------------------------------------------------

    @property
    def bytes_below_point(self) -> bool:
        """252 prints sizes as ``4.0K``; later versions drop a ``.0`` (``4K``, but ``6.5M``)."""
        return self.version < 256

    @property
    def singular_prefix_wording(self) -> bool:
        """262: ``(Matching unit files with prefix 'a'.)`` for one explicit prefix."""
        return self.version >= 260

    @property
    def inspect_retries_portable_prefixes(self) -> bool:
        """262: when the prefix derived from the image name matches nothing, ``inspect`` asks
        for the image's os-release (taking the image lock, whose directories stay) and tries
        again with its ``PORTABLE_PREFIXES=``."""
        return self.version >= 260

    @property
    def force_inspect_lists_units(self) -> bool:
        """262: ``inspect --force`` without ``--extension`` lists the unit files; 252/257 ask
        the WithExtensions call, whose answer portablectl prints without them."""
        return self.version >= 260

    # -- os-release ----------------------------------------------------------------------------

    @property
    def comment_swallows_next_line(self) -> bool:
        """Up to 253: a comment line of an env file (os-release, extension-release) ending in a
        backslash swallows the next line."""
        return self.version < 254

    # -- unit files and systemd-analyze security -----------------------------------------------

    @property
    def invalid_value_warning_names_setting(self) -> bool:
        """257+: an invalid value is reported as ``Failed to parse NAME=VALUE, ignoring: Invalid
        argument`` (a fatal one: ``Failed to parse NAME=VALUE: Invalid argument``); 252 words it
        per setting (``Failed to parse protect system value, ignoring: VALUE``)."""
        return self.version >= 257

    @property
    def protect_hostname_warning_lacks_errno(self) -> bool:
        """262 (258+): an invalid ``ProtectHostname=`` warns ``Failed to parse
        ProtectHostname=VALUE, ignoring.``, without the errno."""
        return self.version >= 258

    @property
    def address_family_warning_shows_assignment(self) -> bool:
        """262: an unknown address family warns with the whole assigned value; before, with the
        unknown word."""
        return self.version >= 262

    @property
    def ip_prefix_warning_names_setting(self) -> bool:
        """257+: an invalid ``IPAddressAllow=``/``IPAddressDeny=`` prefix warns ``Invalid address
        prefix is specified in [Service] NAME=, ...``; 252 ``Address prefix is invalid, ...``."""
        return self.version >= 257

    @property
    def template_test_instance(self) -> bool:
        """257+: ``systemd-analyze security`` loads a template as ``NAME@test_instance`` (252:
        ``NAME@i``)."""
        return self.version >= 257

    @property
    def private_mounts_unset_counts_as_set(self) -> bool:
        """257+: the offline security score counts ``PrivateMounts=`` as set unless it is
        explicitly ``no``."""
        return self.version >= 257

    @property
    def security_sorts_empty_description_first(self) -> bool:
        """262 (258+): a security row without a description sorts first; up to 257 it is
        compared by position (not transitively, so glibc's merge sort decides)."""
        return self.version >= 258

    @property
    def package_version(self) -> str:
        """The Debian package version of the recordings."""
        return PACKAGE_VERSIONS[self.version]
