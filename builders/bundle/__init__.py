"""Bundles: from an app directory to what an end user downloads (static binary, .deb, .rpm).

`app_build.build_app(app_dir, target)` runs the target's `[bundle]` steps
(wheels, freeze, static, deb, rpm: toolchains/recipes/) through the step cache
and copies the results to dist/; `lock` pins Python requirements with hashes;
`deb`, `rpm` and `desktop` render each format's metadata from apaf.toml;
`release` signs SHA256SUMS and writes the report.
"""
