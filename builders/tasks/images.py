"""`invoke images.*`: the docker builder's toolchain images, made from Debian by the farm."""
from __future__ import annotations

from invoke import Collection, task

from .common import farm_errors, print_json, split_list


@task(help={"name": "image definition(s) to build, comma-separated (toolchains/images/*.toml; default: all)",
            "debian_mirror": "Debian archive URL (default: from this machine's apt sources)",
            "security_mirror": "Debian security archive URL (default: from this machine's apt sources)",
            "force": "rebuild even when the tag already exists"})
@farm_errors
def build(c, name="", debian_mirror="", security_mirror="", force=False):
    """Debootstrap, install the targets' packages and `docker import` each image (skipped when tagged)."""
    from ..images import build_image, list_images
    for n in split_list(name) or list_images():
        tag, image, built = build_image(n, mirror=debian_mirror or None, security_mirror=security_mirror or None,
                                          force=force)
        print(f"{'built' if built else 'present'}  {tag}  {image}")


@task(name="list", help={"json": "print as JSON"})
@farm_errors
def list_(c, json=False):
    """Show each image definition, its tag, and whether the Docker engine has it."""
    from ..images import image_status
    rows = image_status()
    if json:
        print_json(rows)
        return
    for r in rows:
        state = f"{r['id'][:19]}  {r['bytes'] / 2**20:.0f} MiB" if r["id"] else "not built: run `ci/farm images.build`"
        print(f"{r['name']:<16} {r['tag']:<40} {r['packages']:>3} packages  {state}")


ns = Collection("images", build, list_)
