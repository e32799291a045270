"""What a release carries besides the bundles, and how anyone checks it.

    sbom.py         a CycloneDX 1.6 SBOM per artifact (cyclonedx-python-lib, schema-validated)
    environment.py  what a builder's steps could see: its Debian packages, the tools' versions
    packages.py     the program inside a .deb or .rpm (so their SBOMs name the same binary)
    provenance.py   the in-toto Statement with the SLSA v1 provenance predicate
    compare.py      builders' outputs side by side; diffoscope where they differ
    verify.py       `invoke verify`: signatures, hashes, SBOMs and provenance against the files
    rebuild.py      `invoke rebuild`: the provenance's commit and inputs, built again, compared

The release itself (building on each builder, signing) is builders/bundle/release.py.
"""
