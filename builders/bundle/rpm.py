"""The .rpm's spec file: metadata from the manifest, files laid out like the .deb.

`render(info, folder, epoch)` writes `rpm/<name>.spec` into the `package` input
folder; toolchains/recipes/rpm runs rpmbuild on it with the reproducibility
macros (build time = SOURCE_DATE_EPOCH, mtimes clamped, fixed build host).
"""
from __future__ import annotations

import time
from pathlib import Path

from .deb import bundled_licenses
from .desktop import PackageInfo


def rpm_version(version: str) -> str:
    # rpm forbids '-' in Version; '~' sorts a pre-release before the release, like dpkg.
    return version.replace("-", "~")


def license_tag(info: PackageInfo) -> str:
    """The app's licence AND what the bundle carries (one static binary holds them all)."""
    own = f"({info.license})" if " " in info.license else info.license
    return " AND ".join([own] + [lic for lic in bundled_licenses(info.binaries) if lic != own])


def literal(text: str) -> str:
    """Manifest text as rpm sees it: every % doubled, or `%(cmd)` in a description would run cmd
    when rpmbuild reads the spec, and `%files` on a line of its own would start a section."""
    return text.replace("%", "%%")


def spec(info: PackageInfo, epoch: int) -> str:
    icon = (f"/usr/share/icons/hicolor/{info.icon_size}/apps/{info.name}.png\n" if info.icon_size else "")
    date = time.strftime("%a %b %d %Y", time.gmtime(epoch))
    return f"""\
# Made by the APAF build farm from {info.manifest.name}; the payload is one static binary.
Name:           {info.name}
Version:        {rpm_version(info.version)}
Release:        1
Summary:        {literal(info.summary)}
License:        {license_tag(info)}
Group:          Applications/Internet
Packager:       {literal(info.maintainer)}
BuildArch:      x86_64
AutoReqProv:    no
Source0:        {info.name}

# staticx appends its archive to the ELF: stripping or build-id links would break it.
%global debug_package %{{nil}}
%global __os_install_post %{{nil}}
%global _build_id_links none

%description
{literal(info.description)}

%prep

%build

%install
install -D -m 0755 %{{SOURCE0}} %{{buildroot}}/opt/{info.name}/{info.name}
install -d -m 0755 %{{buildroot}}%{{_bindir}}
ln -s ../../opt/{info.name}/{info.name} %{{buildroot}}%{{_bindir}}/{info.name}
install -D -m 0644 %{{_sourcedir}}/{info.name}.desktop %{{buildroot}}%{{_datadir}}/applications/{info.name}.desktop
{f"install -D -m 0644 %{{_sourcedir}}/icon.png %{{buildroot}}{icon}" if icon else ""}

%files
%dir /opt/{info.name}
/opt/{info.name}/{info.name}
%{{_bindir}}/{info.name}
%{{_datadir}}/applications/{info.name}.desktop
{icon}
%changelog
* {date} {literal(info.maintainer)} - {rpm_version(info.version)}-1
- {literal(info.title)} {info.version}, bundled by the APAF build farm.
"""


def render(info: PackageInfo, folder: Path, epoch: int) -> None:
    d = folder / "rpm"
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{info.name}.spec").write_text(spec(info, epoch))
