"""The upstream mirror: a plain HTTPS download with short timeouts.

Upstream is always tried first (users elsewhere have the internet); when it
cannot be reached the fetch falls through to the next mirror within seconds.
"""
from __future__ import annotations

from pathlib import Path

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 60


def download(url: str, dest: Path, *, want_signature: bool, log=print) -> list[Path]:
    """Download url (and url + '.asc' when wanted) into dest; [] when unreachable."""
    import requests   # ~0.1 s: only a download pays for it, not every farm command
    got = []
    targets = [url] + ([url + ".asc"] if want_signature else [])
    for u in targets:
        path = dest / u.rsplit("/", 1)[-1]
        log(f"+ GET {u}")
        try:
            with requests.get(u, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)) as r:
                r.raise_for_status()
                with open(path, "wb") as f:
                    for chunk in r.iter_content(1 << 20):
                        f.write(chunk)
        except (requests.RequestException, OSError) as exc:
            log(f"  unreachable: {type(exc).__name__}: {str(exc)[:160]}")
            path.unlink(missing_ok=True)
            if u == url:
                return []
            continue
        got.append(path)
    return got
