"""macOS bundles made on Linux: the signed .app (app, plist, icns, codesign,
signature, verify) and the .dmg
(dmg_layout, finder, volume, udif, dmg). See toolchains/recipes/macapp and dmg."""
