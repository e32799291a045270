"""Chat rooms: who is in which room, bounded history, and broadcasting to members.

Pure state, no web code: `Hub.join(room, name, send)` registers a member (`send` is an
async callable taking a dict) and returns the `Member`; `Hub.say(member, text)` stores
and broadcasts a message; `Hub.leave(member)`.  Everything is bounded: message length,
message rate per member, history per room, rooms, members per room.  Names and texts are kept verbatim; the page
shows them with textContent, so no HTML can ever be injected.
"""
from __future__ import annotations

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
    history: deque
    members: list = field(default_factory=list)


class Hub:
    def __init__(self, history: int = 100, max_message: int = 500):
        self.history_len = history
        self.max_message = max_message
        self.rooms: dict[str, Room] = {}

    def rooms_summary(self) -> list[dict]:
        return [{"room": name, "users": len(r.members)} for name, r in sorted(self.rooms.items())]

    async def join(self, room: str, name: str, send) -> Member:
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
        r.members.append(member)
        try:
            await send({"type": "history", "room": room, "messages": list(r.history)})
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
        r.history.append(msg)
        await self._broadcast(r, msg)

    async def leave(self, member: Member) -> None:
        r = self.rooms.get(member.room)
        if r is None or member not in r.members:
            return
        r.members.remove(member)
        await self._broadcast(r, {"type": "leave", "name": member.name, "users": self._names(r)})

    @staticmethod
    def _names(r: Room) -> list[str]:
        return [m.name for m in r.members]

    async def _broadcast(self, r: Room, msg: dict) -> None:
        for m in list(r.members):
            try:
                await m.send(msg)
            except Exception:  # a dead socket must not stop the others; its handler cleans up
                pass

    def _forget_empty_rooms(self) -> None:
        for name in [n for n, r in self.rooms.items() if not r.members]:
            del self.rooms[name]
