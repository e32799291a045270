"""SBOMs from the real source manifest and locks validate as CycloneDX 1.6; broken ones do not.

The provenance statement has the in-toto v1 / SLSA v1 shape verify expects, and verify's
shape check names what is wrong with a statement that lacks it.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from builders import paths
from builders.release import provenance, sbom
from builders.sources.manifest import load_manifest

LOCKS = {"tools": paths.RECIPES / "wheels" / "tools.lock", "runtime": paths.REPO / "runtime" / "requirements.lock"}


def _doc(**over) -> dict:
    args = dict(artifact=Path("chat_1.0.0_amd64.deb"), sha256="a" * 64, app="chat", version="1.0.0",
                target="linux-x86_64", kind="deb", sources=list(load_manifest().values()), locks=LOCKS,
                licences={"aiohttp": ("expression", "Apache-2.0 AND MIT"), "stem": ("name", "GNU LGPLv3")},
                tools={"gcc-12": "12.2.0-14", "pyinstaller": "6.0"},
                builders={"docker": {"identity": "docker:sha256:1", "packages": {"gcc-12": "12.2.0-14"}}},
                inside_sha256="b" * 64, timestamp=time.time())
    args.update(over)
    return json.loads(sbom.to_json(sbom.bom(**args)))


def test_sbom_lists_sources_packages_tools_and_builder_and_validates():
    doc = _doc()
    assert doc["specVersion"] == "1.6"
    by_ref = {c["bom-ref"]: c for c in doc["components"]}
    cpython = by_ref["source:cpython"]
    props = {p["name"]: p["value"] for p in cpython["properties"]}
    assert props["apaf:signature"] == "verified" and len(props["apaf:signer-fingerprint"]) == 40
    assert cpython["licenses"] == [{"expression": "PSF-2.0"}]
    tor_props = {p["name"]: p["value"] for p in by_ref["source:tor"]["properties"]}
    assert tor_props["apaf:signature"].startswith("unverified: ")
    runtime_pins = [line.split("==")[0] for line in LOCKS["runtime"].read_text().splitlines() if "==" in line]
    assert all(any(r.startswith("pypi:") and c["name"] == name for r, c in by_ref.items()) for name in runtime_pins)
    assert by_ref["tool:pyinstaller"]["version"] == "6.0"
    builder = by_ref["builder:docker"]
    assert builder["type"] == "platform" and builder["components"][0]["purl"] == "pkg:deb/debian/gcc-12@12.2.0-14"
    assert sbom.artifact_digests(doc) == ("chat_1.0.0_amd64.deb", "a" * 64, "b" * 64)


def test_schema_validator_refuses_a_broken_sbom():
    doc = _doc()
    assert sbom.validate(json.dumps(doc)) is None
    doc["metadata"]["component"]["hashes"][0]["content"] = "not a sha256"
    assert sbom.validate(json.dumps(doc))
    del doc["metadata"]["component"]["hashes"]
    doc["components"][0]["type"] = "no-such-type"
    assert "no-such-type" in sbom.validate(json.dumps(doc))


def _statement() -> dict:
    return provenance.statement(
        subjects={"chat-1.0.0-linux-x86_64": "c" * 64}, commit="d" * 40, dirty=[], apps=["examples/chat"],
        targets=["linux-x86_64"], builders={"local": {"identity": "local:x"}, "docker": {"identity": "docker:y"}},
        builds=[{"builder": "local", "app": "chat", "target": "linux-x86_64", "inputs": {"app": "e" * 64},
                 "steps": [{"id": "freeze@gnu", "key": "f" * 64, "status": "cached"}]}],
        sources={"tor": {"url": "https://example.org/tor.tar.gz", "sha256": "1" * 64}},
        locks={"runtime/requirements.lock": "2" * 64}, agreed={"chat-1.0.0-linux-x86_64": ["docker", "local"]},
        source_date_epoch=1735689600, started=1.0, finished=2.0)


def test_provenance_has_the_in_toto_slsa_shape_and_names_commit_steps_builders():
    doc = _statement()
    assert provenance.check_shape(doc) is None
    assert provenance.commit_of(doc) == "d" * 40
    run = doc["predicate"]["runDetails"]
    assert run["builder"]["id"] == "urn:apaf:builders:local+docker"
    assert {"name": "step:local/chat/linux-x86_64/freeze@gnu", "digest": {"sha256": "f" * 64},
            "annotations": {"status": "cached"}} in run["byproducts"]
    assert run["metadata"]["startedOn"] == "1970-01-01T00:00:01Z"


def test_shape_check_names_the_problem():
    doc = _statement()
    doc["predicateType"] = "https://slsa.dev/provenance/v0.2"
    assert "predicateType" in provenance.check_shape(doc)
    doc = _statement()
    doc["subject"][0]["digest"] = {"sha1": "0" * 40}
    assert "sha256" in provenance.check_shape(doc)
