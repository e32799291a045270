"""One onion service per app over the control port, with keys persisted so addresses never change.

`OnionServices(tor, keys_dir)` keeps `<keys_dir>/<app>.key` (`ED25519-V3:<base64>`, 0600).
The first `address()` or `publish_all()` of an app asks tor for a NEW key and writes it
atomically before returning, so the address is on disk before any app, status file or user
sees it; later publishes reuse it. An existing key file that is unreadable or malformed is an error, never
silently replaced (that would change the address). Publication is tracked through HS_DESC
UPLOAD/UPLOADED/FAILED events: feed tor's HS_DESC events to `on_hs_desc()`.

Every service is added with `MaxStreams=MAX_STREAMS_PER_CIRCUIT` and
`Flags=MaxStreamsCloseCircuit`: a client that opens more streams than that on one
circuit has the whole circuit closed by tor, and with it every connection it held to the
app (one visitor once opened 1,100 idle streams in 1.4 s and locked everyone out).

`fetch_onion()` is the reachability self-test: GET the .onion through tor's SOCKS port with
remote name resolution, retrying until it answers or the time is up.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import datetime
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from apaf.errors import OnionError
from apaf.fsutil import atomic_write, ensure_private_dir
from apaf.stem_import import import_stem
from apaf.timeline import mark

import_stem()  # before this module's `import stem`: without what it never uses (stem_import.py)
from stem import ControllerError  # noqa: E402

from apaf.tor import Tor  # noqa: E402
from apaf.tor.batch import AddOnion  # noqa: E402

KEY_RE = re.compile(r"^ED25519-V3:([A-Za-z0-9+/]{86}==)$")
# Streams one client circuit may hold open at once.  Tor Browser puts all tabs of one
# onion on one circuit and opens at most 6 HTTP connections per host, plus a websocket
# or two per tab: 32 leaves room for that, and cuts off a flood long before the app's
# 1024 connections are used up.
MAX_STREAMS_PER_CIRCUIT = 32


class UploadRound:
    """Tracks one descriptor upload round from HS_DESC events; `feed()` says when it is done.

    Done = at least one HSDir accepted the descriptor, and every upload of the round has
    answered or ANSWER_GRACE seconds have passed since that first acceptance. Waiting for
    the whole round matters after a restart: HSDirs still holding the previous descriptor
    (dead introduction points) would send clients astray. The bound matters because tor
    reports only HTTP answers: an upload whose circuit or connection fails (an HSDir that
    went down since the consensus, a circuit that timed out on a loaded machine) gets no
    FAILED, and would keep the service "unpublished" for good. The owner of the round
    checks `done()` again once `settles_at()` has passed.
    """

    # Answers of one round come within ~1.5 s of each other on the private network (10 s
    # seen at a load average of 75 on 2 cores); past this an upload is taken as lost.
    ANSWER_GRACE = 15.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.pending: Counter = Counter()  # uploads in flight per HSDir (one per time period)
        self.accepted_at: float | None = None
        self.clock = clock

    @property
    def accepted(self) -> bool:
        return self.accepted_at is not None

    def feed(self, action: str, hsdir: str | None) -> bool:
        if action == "UPLOAD":
            self.pending[hsdir] += 1
        elif action in ("UPLOADED", "FAILED"):
            self.pending[hsdir] -= 1
            self.pending += Counter()  # drops entries at zero
            if action == "UPLOADED" and self.accepted_at is None:
                self.accepted_at = self.clock()
        return self.done()

    def settles_at(self) -> float | None:
        """When the round is done even if some upload never answers (None: none accepted yet)."""
        return None if self.accepted_at is None else self.accepted_at + self.ANSWER_GRACE

    def done(self) -> bool:
        return self.accepted and (not self.pending or self.clock() >= self.settles_at())


@dataclass
class Service:
    name: str
    service_id: str | None = None  # the 56 characters before ".onion"
    published: bool = False  # see UploadRound
    active: bool = False  # currently added to tor
    round: "UploadRound" = field(default_factory=lambda: UploadRound())

    @property
    def onion(self) -> str | None:
        return f"{self.service_id}.onion" if self.service_id else None


def read_key(path: Path) -> str | None:
    """The key blob in `path` (None if absent); raises OnionError if it is damaged."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise OnionError(f"{path}: cannot read the onion key ({err}); fix its permissions") from None
    match = KEY_RE.match(text)
    valid = False
    if match:
        try:
            valid = len(base64.b64decode(match.group(1), validate=True)) == 64
        except binascii.Error:
            pass
    if not valid:
        raise OnionError(f"{path}: not an ED25519-V3 onion key; restore it from a backup "
                         f"(or delete it to get a NEW address for this app)")
    return text


def service_id_of(key: str) -> str:
    """The 56-character service id of an `ED25519-V3:<base64>` key, as tor derives it.

    tor's key blob is the expanded secret key; its first 32 bytes are the clamped scalar,
    so the public key is that scalar times the base point (rend-spec-v3, "Encoding onion
    addresses"). stem's ed25519 is pure Python and slow, but one point takes ~1 ms here.
    """
    import hashlib

    from stem.util import ed25519

    secret = base64.b64decode(key.split(":", 1)[1])
    public = ed25519.encodepoint(ed25519.scalarmult_B(int.from_bytes(secret[:32], "little")))
    version = b"\x03"
    checksum = hashlib.sha3_256(b".onion checksum" + public + version).digest()[:2]
    return base64.b32encode(public + checksum + version).decode().lower()


class OnionServices:
    def __init__(self, tor: Tor, keys_dir: Path, on_change: Callable[[], None] | None = None):
        self.tor = tor
        self.keys_dir = ensure_private_dir(keys_dir)
        self.on_change = on_change or (lambda: None)
        self.services: dict[str, Service] = {}
        self._published: dict[str, asyncio.Event] = {}

    def key_path(self, name: str) -> Path:
        return self.keys_dir / f"{name}.key"

    def get(self, name: str) -> Service:
        return self.services.setdefault(name, Service(name))

    async def publish_all(self, ports_by_app: dict[str, dict[int, str]]) -> None:
        """Add each app's service mapping virtual port -> local "host:port", all in one write
        to tor, so that tor's next onion-service run works on all of them (apaf/tor/batch.py
        says why one at a time costs a second). Every service tor took is active even when it
        refused another (OnionError then)."""
        if not ports_by_app:
            return
        requests = {}
        for name, ports in ports_by_app.items():
            key = read_key(self.key_path(name))
            requests[name] = AddOnion(key or "NEW:ED25519-V3", ports, MAX_STREAMS_PER_CIRCUIT)
        try:
            answers = await self.tor.add_onions(list(requests.values()))
        except ControllerError as err:  # tor went away (a restart re-adds them)
            raise OnionError(f"could not add the onion services of {', '.join(requests)}: {err}") from None
        refused = []
        for (name, request), answer in zip(requests.items(), answers):
            if isinstance(answer, str):
                refused.append(f"{name!r}: {answer}")
                continue
            if request.key.startswith("NEW:"):
                self._save_key(name, answer)
            mark(f"onion-added {name}")
            svc = self.get(name)
            svc.service_id, svc.active = answer.service_id, True
            svc.published, svc.round = False, UploadRound()
            self._published.setdefault(answer.service_id, asyncio.Event()).clear()
        self.on_change()
        if refused:
            raise OnionError(f"tor refused to add the onion service for {'; '.join(refused)}")

    async def _new_key(self, name: str) -> str:
        """tor makes the app's key (added on the discard port, never published); persisted at once."""
        try:
            resp = await self.tor.call(lambda c: c.create_ephemeral_hidden_service(
                {80: "127.0.0.1:9"}, key_type="NEW", key_content="ED25519-V3", await_publication=False))
        except ControllerError as err:
            raise OnionError(f"tor refused to add the onion service for {name!r}: {err}") from None
        self._save_key(name, resp)
        return resp.service_id

    def _save_key(self, name: str, resp) -> None:
        """Persist a key tor made, before anything else can learn (and hand out) its address."""
        atomic_write(self.key_path(name), f"{resp.private_key_type}:{resp.private_key}\n", mode=0o600)

    async def address(self, name: str) -> str:
        """The app's .onion without publishing it: from its key file, or (first run) tor makes
        the key, which is persisted, and forgets the service again at once."""
        svc = self.get(name)
        if svc.service_id is None:
            key = read_key(self.key_path(name))
            if key is not None:
                svc.service_id = service_id_of(key)
            else:
                service_id = await self._new_key(name)
                try:
                    await self.tor.call(lambda c: c.remove_ephemeral_hidden_service(service_id))
                except ControllerError as err:
                    raise OnionError(f"tor refused to remove the onion service for {name!r}: {err}") from None
                svc.service_id = service_id
            self.on_change()
        return svc.onion

    async def unpublish(self, name: str) -> None:
        svc = self.get(name)
        if svc.active and svc.service_id:
            try:
                await self.tor.call(lambda c: c.remove_ephemeral_hidden_service(svc.service_id))
            except ControllerError as err:
                raise OnionError(f"tor refused to remove the onion service for {name!r}: {err}") from None
        svc.active = svc.published = False
        self.on_change()

    def forget_active(self) -> None:
        """tor died: its ephemeral services died with it (wait_published waits for the next round)."""
        for svc in self.services.values():
            svc.active = svc.published = False
            if svc.service_id in self._published:
                self._published[svc.service_id].clear()

    def on_hs_desc(self, event) -> None:
        """Mark a service published once its first upload round is done (UploadRound)."""
        svc = next((s for s in self.services.values()
                    if s.active and s.service_id == event.address), None)
        if svc is None or svc.published:
            return
        hsdir = getattr(event, "directory_fingerprint", None) or getattr(event, "directory", None)
        upload_round = svc.round
        first = not upload_round.accepted
        done = upload_round.feed(event.action, hsdir)
        if first and upload_round.accepted:
            mark(f"first-uploaded {svc.name}")
            if not done:  # an upload tor never answers must not hold the service back
                delay = upload_round.settles_at() - upload_round.clock()
                asyncio.get_running_loop().call_later(delay, self._settle, svc, upload_round)
        if done:
            self._settle(svc, upload_round)

    def _settle(self, svc: Service, upload_round: UploadRound) -> None:
        """Mark `svc` published if `upload_round` is still its round and is done."""
        if svc.published or not svc.active or svc.round is not upload_round or not upload_round.done():
            return
        svc.published = True
        mark(f"uploaded {svc.name}")
        self._published.setdefault(svc.service_id, asyncio.Event()).set()
        self.on_change()

    async def wait_published(self, name: str, timeout: float | None = None) -> None:
        svc = self.get(name)
        if svc.published:
            return
        await asyncio.wait_for(self._published.setdefault(svc.service_id, asyncio.Event()).wait(), timeout)


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


async def fetch_onion(socks: str, onion: str, port: int = 80, path: str = "/",
                      timeout: float = 90.0, attempt_timeout: float = 30.0) -> dict:
    """GET http://onion:port/path through tor until any HTTP answer: {"ok","seconds","error","at"}.

    Any HTTP status counts as reachable (the service answered); only connection failures
    are retried, twice a second, until `timeout` seconds have passed.
    """
    # Imported here, not at the top: `apaf run` starts tor sooner without aiohttp's ~0.3 s import.
    import aiohttp
    from aiohttp_socks import ProxyConnectionError, ProxyConnector, ProxyError, ProxyTimeoutError

    started = time.monotonic()
    url = f"http://{onion}{'' if port == 80 else f':{port}'}{path}"
    error = None
    while True:
        connector = ProxyConnector.from_url(f"socks5://{socks}", rdns=True)
        try:
            async with aiohttp.ClientSession(connector=connector) as session:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=attempt_timeout)) as resp:
                    await resp.read()
                    return {"ok": True, "seconds": round(time.monotonic() - started, 3),
                            "error": None, "at": now_iso(), "status": resp.status}
        except (aiohttp.ClientError, ProxyError, ProxyConnectionError, ProxyTimeoutError,
                asyncio.TimeoutError, OSError) as err:
            error = f"{type(err).__name__}: {err}".rstrip(": ")
        if time.monotonic() - started + 1 > timeout:
            return {"ok": False, "seconds": round(time.monotonic() - started, 3),
                    "error": error, "at": now_iso()}
        await asyncio.sleep(0.5)
