"""Chat rooms: who is in which room, bounded history, and broadcasting to members.

Pure state, no web code: `Hub.join(room, name, send, drain)` registers a member (`send` is
an async callable taking a dict, `drain` one that returns once what was sent has mostly
gone out) and returns the `Member`; `Hub.say(member, text)` stores and broadcasts a
message; `Hub.leave(member)`.  Everything is bounded: message length, message rate per
member, history per room, rooms, members per room.  Names and texts are kept verbatim; the
page shows them with textContent, so no HTML can ever be injected.

A joiner gets the history in parts, {"type": "history", "part": 0, 1, ..., "more": true
until the last}, each of at most HISTORY_PART bytes of JSON (or one message, whatever its
size) and each sent once the one before has drained: the whole of it in one frame is up to
120 MB (10,000 messages of 2000 characters, 6 bytes each as a JSON escape), far over the
1 MiB a websocket may hold unsent.  Until the last part the joiner is no member to
broadcasts: what is said meanwhile comes in later parts, so nothing arrives out of order.
"""
from __future__ import annotations

import json
import re
import time
from collections import deque
from dataclasses import dataclass, field

ROOM_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
MAX_NAME = 32
MAX_ROOMS = 100
MAX_MEMBERS = 200
RATE = 2.0    # messages per second a member may keep up...
BURST = 10    # ...after a burst of this many
# With the websocket's drain mark (16 KiB) a joiner holds ~32 KiB unsent (40 KiB when one
# message of 2000 astral characters is a part), so 512 joining at once need ~16-20 MiB: about
# the process's budget (apaf.staticsite.backlog), which sheds the slowest, not all.
HISTORY_PART = 16 << 10


class ChatError(ValueError):
    """A request the chat refuses; the message is shown to the user as is."""


def check_room(room: str) -> str:
    if not ROOM_RE.match(room or ""):
        raise ChatError("room names are 1-32 characters: lower-case letters, digits and '-'")
    return room


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise ChatError(f"names are 1-{MAX_NAME} printable characters")
    return name


@dataclass(eq=False)
class Member:
    room: str
    name: str
    send: object  # async callable(dict)
    tokens: float = BURST
    last: float = field(default_factory=time.monotonic)
    joined: bool = False  # its whole history sent: broadcasts reach it from now on

    def may_speak(self) -> bool:
        """Token bucket: one flooding member cannot drown a room."""
        now = time.monotonic()
        self.tokens = min(BURST, self.tokens + (now - self.last) * RATE)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class Room:
    history: deque        # (size of its JSON, message) of the last messages
    members: list = field(default_factory=list)
    said: int = 0         # messages ever said here: the history's last is number said - 1


class Hub:
    def __init__(self, history: int = 100, max_message: int = 500):
        self.history_len = history
        self.max_message = max_message
        self.rooms: dict[str, Room] = {}

    def rooms_summary(self) -> list[dict]:
        return [{"room": name, "users": len(r.members)} for name, r in sorted(self.rooms.items())]

    async def join(self, room: str, name: str, send, drain=None) -> Member:
        room, name = check_room(room), check_name(name)
        r = self.rooms.get(room)
        if r is None:
            if len(self.rooms) >= MAX_ROOMS:
                self._forget_empty_rooms()
            if len(self.rooms) >= MAX_ROOMS:
                raise ChatError("too many rooms; join an existing one")
            r = self.rooms[room] = Room(deque(maxlen=self.history_len))
        if len(r.members) >= MAX_MEMBERS:
            raise ChatError("this room is full")
        if any(m.name == name for m in r.members):
            raise ChatError(f"someone called {name!r} is already in {room!r}; pick another name")
        member = Member(room, name, send)
        r.members.append(member)  # its name is taken and its place counted from now
        try:
            await self._send_history(r, member, drain)
        except BaseException:
            # Gone before its history went out (a close frame sent with the handshake does
            # it): kept, it would hold a place in the room and its name for good.
            r.members.remove(member)
            raise
        await self._broadcast(r, {"type": "join", "name": name, "users": self._names(r)})
        return member

    async def say(self, member: Member, text: str) -> None:
        if not isinstance(text, str) or not text.strip():
            raise ChatError("empty message")
        if len(text) > self.max_message:
            raise ChatError(f"messages are at most {self.max_message} characters")
        if not member.may_speak():
            raise ChatError("slow down: too many messages")
        r = self.rooms[member.room]
        msg = {"type": "message", "name": member.name, "text": text, "time": int(time.time())}
        r.history.append((len(json.dumps(msg)), msg))
        r.said += 1
        await self._broadcast(r, msg)

    async def leave(self, member: Member) -> None:
        r = self.rooms.get(member.room)
        if r is None or member not in r.members:
            return
        r.members.remove(member)
        await self._broadcast(r, {"type": "leave", "name": member.name, "users": self._names(r)})

    async def _send_history(self, r: Room, member: Member, drain) -> None:
        """Send r's history to member in parts, then make it a member to broadcasts.  A
        round sends what the room kept when it began (what falls out of the deque meanwhile
        still goes); what was said during a round is the next one.  A joiner that reads
        slower than its room talks gets round after round, where as a member it would be
        dropped once 1 MiB waited for it."""
        first, part = r.said - len(r.history), 0  # number of the oldest message to send
        while True:
            kept = list(r.history)
            parts = split(kept[max(0, first - (r.said - len(kept))):])
            first = r.said
            for i, messages in enumerate(parts):
                last = i == len(parts) - 1 and r.said == first  # no await since the check
                if last:
                    # Joined before this part is sent: send_json writes at once, so a
                    # broadcast that comes while it drains follows the history.
                    member.joined = True
                await member.send({"type": "history", "room": member.room, "part": part,
                                   "messages": messages, "more": not last})
                part += 1
                if last:
                    return
                if drain is not None:
                    await drain()

    @staticmethod
    def _names(r: Room) -> list[str]:
        return [m.name for m in r.members if m.joined]

    async def _broadcast(self, r: Room, msg: dict) -> None:
        for m in [m for m in r.members if m.joined]:
            try:
                await m.send(msg)
            except Exception:  # a dead socket must not stop the others; its handler cleans up
                pass

    def _forget_empty_rooms(self) -> None:
        for name in [n for n, r in self.rooms.items() if not r.members]:
            del self.rooms[name]


def split(kept: list) -> list[list[dict]]:
    """(size, message) pairs as lists of messages of at most HISTORY_PART bytes of JSON
    each (a message bigger alone), and at least one list, maybe empty."""
    parts, current, size = [], [], 0
    for n, msg in kept:
        if current and size + n > HISTORY_PART:
            parts.append(current)
            current, size = [], 0
        current.append(msg)
        size += n + 1
    parts.append(current)
    return parts
