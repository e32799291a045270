"""The default static-site app: serves a directory exactly like a stock Apache 2.4 would.

Entry point `apaf.staticsite:main` (manifest: `entry = "apaf.staticsite:main"`).  It
serves `[settings].root` (relative to the app dir, default `public`) on
APAF_BIND_HOST:APAF_PORT, answering like Debian's Apache with `ServerTokens Prod`,
`ServerSignature Off` and `Options -Indexes`: same headers in the same order, same
error pages, redirects, ranges, conditional requests and gzip, so an onion service
made with APAF does not stand out.  Requests from tor2web gateways get a 403 unless
APAF_ALLOW_TOR2WEB=1.  Module map: request (parsing), paths (URL → file), files
(validators, gzip), ranges (Range and If-*), site (the answer), server (connections).
"""
from apaf.staticsite.app import main

__all__ = ["main"]
