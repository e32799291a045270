"""A CycloneDX 1.6 JSON SBOM per release artifact, made with cyclonedx-python-lib and checked
against the CycloneDX JSON schema by its strict validator before it is written.

What is in it (`bom(...)`):
- metadata.component: the artifact (name, version, sha256); for a .deb/.rpm a nested
  component, the program it installs (`opt/<app>/<app>`), whose sha256 is the static
  bundle's: verify reads it back out of the package and compares;
- every source tarball of the steps that made the artifact: version, sha256, upstream
  download URL, licence, and as properties its OpenPGP status (signer fingerprint, or the
  manifest's `unverified:` reason) and Debian's copy;
- every Python package of the locks the wheels step installed (tools, runtime, app):
  version, sha256, licence where the wheel's metadata gives one;
- the build tools (compiler, packagers, PyInstaller, staticx) with versions;
- per builder: a `platform` component (its identity) holding its Debian packages, scope
  `excluded` (they built the artifact but are not shipped in it).
"""
from __future__ import annotations

import functools
import json
import re
import uuid
import zipfile
from datetime import datetime, timezone
from email.parser import Parser
from pathlib import Path

from ..errors import ConfigError

SUFFIX = ".cdx.json"
NAMESPACE = uuid.UUID("6f0a4f7e-6b1a-4c55-9c2e-0a8f2b7f1c11")   # serial numbers from the artifact's hash


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_packages(lock: Path) -> list[tuple[str, str, list[str]]]:
    """[(name, version, [sha256...])] of a hash-pinned lock (builders/bundle/lock.py's format)."""
    out, current = [], None
    for line in lock.read_text().splitlines():
        text = line.strip().rstrip("\\").strip()
        if not text or text.startswith("#"):
            continue
        if "==" in text and not text.startswith("--"):
            name, rest = text.split("==", 1)
            current = (name.strip(), rest.split()[0], [])
            out.append(current)
        for word in text.split():
            if word.startswith("--hash=sha256:") and current:
                current[2].append(word.split(":", 1)[1])
    return out


def wheel_licences(wheelhouse: Path | None) -> dict[str, tuple[str, str]]:
    """{normalised name: ("expression", SPDX) or ("name", classifier)} from the kept wheels' METADATA."""
    found: dict[str, tuple[str, str]] = {}
    if not wheelhouse or not wheelhouse.is_dir():
        return found
    for whl in sorted(wheelhouse.rglob("*.whl")):
        try:
            with zipfile.ZipFile(whl) as z:
                meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
                msg = Parser().parsestr(z.read(meta).decode("utf-8", "replace"), headersonly=True)
        except (zipfile.BadZipFile, StopIteration, OSError):
            continue
        expression = (msg.get("License-Expression") or "").strip()
        classifiers = [c.split("::")[-1].strip() for c in msg.get_all("Classifier") or []
                       if c.startswith("License ::")]
        if expression or classifiers:
            found[_norm(msg.get("Name", ""))] = ("expression", expression) if expression else ("name", classifiers[0])
    return found


def bom(*, artifact: Path, sha256: str, app: str, version: str, target: str, kind: str,
        sources: list, locks: dict[str, Path], licences: dict[str, tuple[str, str]], tools: dict[str, str],
        builders: dict[str, dict], inside_sha256: str | None, timestamp: float):
    """The Bom object for one artifact (see the module docstring for what goes in)."""
    from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component as C, ComponentScope as S, ComponentType as T
    from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
    from packageurl import PackageURL

    def H(digest):
        return HashType(alg=HashAlgorithm.SHA_256, content=digest)

    def P(name, value):
        return Property(name=name, value=value)

    nested = []
    if inside_sha256:
        nested.append(C(name=f"opt/{app}/{app}", version=version, type=T.FILE, bom_ref=f"file:{app}-program",
                        hashes=[H(inside_sha256)],
                        description="the program this package installs: the same bytes as the static bundle"))
    main = C(name=artifact.name, version=version, type=T.APPLICATION, bom_ref=f"artifact:{artifact.name}",
             hashes=[H(sha256)], components=nested,
             properties=[P("apaf:app", app), P("apaf:target", target), P("apaf:kind", kind)])
    components = []
    for src in sources:
        refs = [ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(src.upstream))] \
            if src.upstream else []
        props = [P("apaf:source", src.name)]
        if src.signature.required:
            props += [P("apaf:signature", "verified"), P("apaf:signer-fingerprint", src.signature.fingerprint)]
        else:
            props.append(P("apaf:signature", f"unverified: {src.signature.reason}"))
        if src.debian:
            props.append(P("apaf:debian-source", f"{src.debian.package} {src.debian.file} sha256:{src.debian.sha256}"))
            if src.debian.differs:
                props.append(P("apaf:debian-differs", src.debian.differs))
        components.append(C(name=src.name, version=src.version, type=T.LIBRARY, bom_ref=f"source:{src.name}",
                            hashes=[H(src.sha256)], external_references=refs, properties=props,
                            licenses=[LicenseExpression(src.licence)] if src.licence else [],
                            description="source tarball, compiled into the artifact"))
    seen = set()
    for role, lock in locks.items():
        for name, ver, hashes in lock_packages(lock):
            ref = f"pypi:{_norm(name)}@{ver}"
            if ref in seen:
                continue
            seen.add(ref)
            found = licences.get(_norm(name))
            licence = [] if not found else [LicenseExpression(found[1]) if found[0] == "expression"
                                             else DisjunctiveLicense(name=found[1])]
            components.append(C(
                name=name, version=ver, type=T.LIBRARY, bom_ref=ref, hashes=[H(h) for h in hashes],
                purl=PackageURL(type="pypi", name=_norm(name), version=ver), licenses=licence,
                scope=S.EXCLUDED if role == "tools" else S.REQUIRED, properties=[P("apaf:lock", role)]))
    for tool, ver in tools.items():
        components.append(C(name=tool, version=ver, type=T.APPLICATION, bom_ref=f"tool:{tool}", scope=S.EXCLUDED,
                            properties=[P("apaf:role", "build tool")]))
    for name, info in builders.items():
        pkgs = [C(name=p, version=v, type=T.LIBRARY, bom_ref=f"deb:{name}:{p}", scope=S.EXCLUDED,
                  purl=PackageURL(type="deb", namespace="debian", name=p, version=v))
                for p, v in info.get("packages", {}).items()]
        components.append(C(name=f"builder {name}", type=T.PLATFORM, bom_ref=f"builder:{name}",
                            scope=S.EXCLUDED, components=pkgs,
                            properties=[P("apaf:builder-identity", info.get("identity", ""))]))
    serial = uuid.uuid5(NAMESPACE, f"{artifact.name}:{sha256}")
    meta = BomMetaData(component=main, timestamp=datetime.fromtimestamp(timestamp, timezone.utc))
    b = Bom(components=components, metadata=meta, serial_number=serial)
    b.register_dependency(main, [c for c in components if c.type != T.PLATFORM])
    return b


def to_json(b) -> str:
    """The SBOM as CycloneDX 1.6 JSON, or ConfigError with the schema validator's complaint."""
    from cyclonedx.output.json import JsonV1Dot6
    text = JsonV1Dot6(b).output_as_string(indent=1)
    problem = validate(text)
    if problem:
        raise ConfigError(f"the SBOM made for {b.metadata.component.name} is not valid CycloneDX 1.6: {problem}")
    return text


@functools.cache
def _validator():
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    return JsonStrictValidator(SchemaVersion.V1_6)


def validate(text: str) -> str | None:
    """None when text is valid CycloneDX 1.6 JSON, else the validator's complaint."""
    error = _validator().validate_str(text)
    return None if error is None else str(error)[:500]


def artifact_digests(doc: dict) -> tuple[str, str, str | None]:
    """(artifact name, its sha256, the packaged program's sha256 or None) from an SBOM's JSON."""
    comp = doc["metadata"]["component"]
    own = next(h["content"] for h in comp["hashes"] if h["alg"] == "SHA-256")
    inner = next((h["content"] for c in comp.get("components", []) for h in c.get("hashes", [])
                  if h["alg"] == "SHA-256"), None)
    return comp["name"], own, inner


def read(path: Path) -> dict:
    return json.loads(path.read_text())
