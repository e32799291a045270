"""APAF build farm command line: `ci/farm --list` (or `invoke --list`) shows every task.

Thin by design: each namespace lives in builders/tasks/ and calls the library.
"""
from invoke import Collection

from builders.tasks import cache, deps, sources, testing, testnet, toolchain
from builders.tasks import images
from builders.tasks import binaries, bundle, release
from builders.tasks import macos

ns = Collection()
ns.add_task(toolchain.toolchain)
ns.add_task(testing.test)
ns.add_task(testing.bench)
ns.add_task(bundle.build)
ns.add_task(bundle.lock)
ns.add_task(binaries.binaries)
ns.add_task(release.release)
ns.add_task(release.verify)
ns.add_task(release.rebuild)
ns.add_collection(sources.ns)
ns.add_collection(cache.ns)
ns.add_collection(deps.ns)
ns.add_collection(testnet.ns)
ns.add_collection(images.ns)
ns.add_collection(macos.ns)
