"""One in-toto Statement (v1) per release with an SLSA v1 provenance predicate.

Written as JSON by hand, following https://in-toto.io/Statement/v1 and
https://slsa.dev/provenance/v1: the statement is four fields and the predicate a
fixed shape, while the `in-toto-attestation` package brings protobuf and generated
bindings and the `in-toto` package targets its own link/layout format. verify.py
checks the same shape when it reads one back.

Subjects: every artifact and every SBOM (name + sha256). The predicate names the git
commit (and whether the checkout had uncommitted changes), the input folders' hashes,
the source tarballs and lock files, every step key of every builder, the builders with
their identities, and start/end times.
"""
from __future__ import annotations

from datetime import datetime, timezone

FILE = "provenance.intoto.json"
STATEMENT = "https://in-toto.io/Statement/v1"
PREDICATE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "urn:apaf:release:v1"


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def statement(*, subjects: dict[str, str], commit: str, dirty: list[str], apps: list[str], targets: list[str],
              builders: dict[str, dict], builds: list[dict], sources: dict[str, dict], locks: dict[str, str],
              agreed: dict[str, list[str]], source_date_epoch: int, started: float, finished: float) -> dict:
    # No host name: a release is published, and the machine's name can identify an anonymous developer.
    deps = [{"uri": f"git+commit:{commit}", "digest": {"gitCommit": commit},
             "annotations": {"uncommitted": dirty}}]
    deps += [{"name": f"source:{n}", "uri": s["url"], "digest": {"sha256": s["sha256"]}}
             for n, s in sorted(sources.items())]
    deps += [{"name": f"lock:{path}", "digest": {"sha256": digest}} for path, digest in sorted(locks.items())]
    seen = set()
    for b in builds:
        for folder, digest in sorted(b["inputs"].items()):
            name = f"input:{b['app']}/{folder}"
            if name not in seen:
                seen.add(name)
                deps.append({"name": name, "digest": {"sha256": digest}})
    byproducts = [{"name": f"step:{b['builder']}/{b['app']}/{b['target']}/{s['id']}",
                   "digest": {"sha256": s["key"]}, "annotations": {"status": s["status"]}}
                  for b in builds for s in b["steps"]]
    return {
        "_type": STATEMENT,
        "subject": [{"name": n, "digest": {"sha256": d}} for n, d in sorted(subjects.items())],
        "predicateType": PREDICATE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {"apps": apps, "targets": targets, "builders": list(builders)},
                "internalParameters": {"source_date_epoch": source_date_epoch},
                "resolvedDependencies": deps,
            },
            "runDetails": {
                "builder": {"id": "urn:apaf:builders:" + "+".join(builders),
                            "builderDependencies": [{"name": f"builder:{n}", "annotations": {"identity": i["identity"]}}
                                                    for n, i in builders.items()]},
                "metadata": {"invocationId": f"{commit[:12]}-{int(started)}", "startedOn": _time(started),
                             "finishedOn": _time(finished)},
                "byproducts": byproducts + [{"name": f"agreed:{a}", "annotations": {"builders": bs}}
                                            for a, bs in sorted(agreed.items())],
            },
        },
    }


def check_shape(doc: dict) -> str | None:
    """None if doc is an in-toto v1 Statement with an SLSA v1 provenance predicate, else what is wrong."""
    if doc.get("_type") != STATEMENT:
        return f"_type is {doc.get('_type')!r}, not {STATEMENT}"
    if doc.get("predicateType") != PREDICATE:
        return f"predicateType is {doc.get('predicateType')!r}, not {PREDICATE}"
    subjects = doc.get("subject")
    if not isinstance(subjects, list) or not subjects or not all(
            isinstance(s, dict) and s.get("name") and len(s.get("digest", {}).get("sha256", "")) == 64
            for s in subjects):
        return "subject must list every file with a sha256 digest"
    pred = doc.get("predicate", {})
    if not pred.get("buildDefinition", {}).get("buildType") or not pred.get("runDetails", {}).get("builder", {}).get("id"):
        return "predicate lacks buildDefinition.buildType or runDetails.builder.id"
    return None


def commit_of(doc: dict) -> str:
    for dep in doc["predicate"]["buildDefinition"]["resolvedDependencies"]:
        if "gitCommit" in dep.get("digest", {}):
            return dep["digest"]["gitCommit"]
    return ""
