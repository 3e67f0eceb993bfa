"""A local fake of Discord's REST API and gateway (aiohttp), so the unmodified discord.py bot
can be run end to end offline. Adapted from /work/shared/reference/discord/fake_discord.py.

Point discord.py at it with two class attributes (see tests/test_discord_bot.py):
`discord.http.Route.BASE = fake.api_base` and
`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)`.

It records every REST call as (METHOD, path, json body), keeps the messages it has seen per
channel (so history and fetch_message work), echoes the bot's own messages back as
MESSAGE_CREATE like Discord does, announces threads with THREAD_CREATE, answers heartbeats
and lets a test inject any gateway event (MESSAGE_CREATE, INTERACTION_CREATE, ...).
Pitfalls it handles: Content-Type exactly application/json, 17-19 digit snowflakes derived
from the clock, plain-text gateway frames.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from typing import Any

from aiohttp import WSMsgType, web

DISCORD_EPOCH_MS = 1420070400000
MESSAGE_CONTENT_INTENT = 1 << 15
TOKEN = "fake-discord-token.abc.XYZ"
_counter = itertools.count(1)


def snowflake() -> str:
    """A realistic, unique, time-ordered id (discord.py derives created_at from it)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | (next(_counter) % (1 << 22)))


def timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


BOT = {"id": "100000000000000001", "username": "accessbot", "discriminator": "0",
       "global_name": None, "avatar": None, "bot": True}
ALICE = {"id": "200000000000000002", "username": "alice", "discriminator": "0",
         "global_name": "Alice", "avatar": None}
OTHER_BOT = {"id": "200000000000000099", "username": "otherbot", "discriminator": "0",
             "global_name": None, "avatar": None, "bot": True}
GUILD_ID, CHANNEL_ID, DM_CHANNEL_ID = "300000000000000003", "400000000000000004", "400000000000000777"
OTHER_CHANNEL_ID = "400000000000000005"
ROLE_ID = "600000000000000006"


def user(n: int) -> dict[str, Any]:
    """The n-th distinct human user."""
    return {"id": str(210000000000000000 + n), "username": f"user{n}", "discriminator": "0",
            "global_name": f"User {n}", "avatar": None}


def member(u: dict[str, Any]) -> dict[str, Any]:
    return {"user": u, "roles": [], "joined_at": "2024-01-01T00:00:00+00:00", "deaf": False,
            "mute": False, "flags": 0, "permissions": "1071698660929"}


def _text_channel(cid: str, name: str) -> dict[str, Any]:
    return {"id": cid, "type": 0, "name": name, "position": 0, "permission_overwrites": []}


GUILD = {"id": GUILD_ID, "name": "safety-researchers", "owner_id": ALICE["id"], "features": [],
         "emojis": [], "stickers": [],
         "roles": [{"id": GUILD_ID, "name": "@everyone", "permissions": "1071698660929",
                    "position": 0, "color": 0, "hoist": False, "managed": False,
                    "mentionable": False, "flags": 0},
                   {"id": ROLE_ID, "name": "researchers", "permissions": "0", "position": 1,
                    "color": 0, "hoist": False, "managed": False, "mentionable": True, "flags": 0}],
         "channels": [_text_channel(CHANNEL_ID, "ask-accessbot"),
                      _text_channel(OTHER_CHANNEL_ID, "off-topic")],
         "threads": [], "members": [member(ALICE), member(BOT)], "member_count": 2,
         "large": False, "voice_states": [], "presences": [], "unavailable": False}


def message(content: str, author: dict[str, Any] = ALICE, channel_id: str = CHANNEL_ID,
            mid: str | None = None, mentions: tuple[dict, ...] = (), guild: bool = True,
            **extra: Any) -> dict[str, Any]:
    """A MESSAGE_CREATE payload as Discord sends it (guild=False: a DM)."""
    data = {"id": mid or snowflake(), "channel_id": channel_id, "author": author,
            "content": content, "timestamp": timestamp(), "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": list(mentions), "mention_roles": [],
            "attachments": [], "embeds": [], "pinned": False, "type": 0, "flags": 0,
            "components": []}
    if guild:
        data.update(guild_id=GUILD_ID, member=member(author))
    data.update(extra)
    return data


def mention(text: str, **kw: Any) -> dict[str, Any]:
    """A channel message that @mentions the bot."""
    return message(f"<@{BOT['id']}> {text}", mentions=(BOT,), **kw)


def _interaction(kind: int, data: dict[str, Any], author: dict[str, Any], channel_id: str,
                 guild: bool, **extra: Any) -> dict[str, Any]:
    payload = {"id": snowflake(), "application_id": BOT["id"], "type": kind,
               "token": f"itoken-{snowflake()}", "version": 1, "data": data,
               "channel_id": channel_id, "channel": {"id": channel_id, "type": 0 if guild else 1},
               "attachment_size_limit": 8388608, "locale": "en-US", "app_permissions": "0",
               "entitlements": [], "authorizing_integration_owners": {}, "context": 0 if guild else 1}
    if guild:
        payload.update(guild_id=GUILD_ID, guild_locale="en-US", member=member(author),
                       channel={**_text_channel(channel_id, "ask-accessbot"), "guild_id": GUILD_ID})
    else:
        payload["user"] = author
    payload.update(extra)
    return payload


def slash_ask(question: str, private: bool | None = None, author: dict[str, Any] = ALICE,
              channel_id: str = CHANNEL_ID, guild: bool = True) -> dict[str, Any]:
    """INTERACTION_CREATE for `/ask question:<question> [private:<private>]`."""
    options = [{"name": "question", "type": 3, "value": question}]
    if private is not None:
        options.append({"name": "private", "type": 5, "value": private})
    data = {"id": "700000000000000007", "name": "ask", "type": 1, "options": options}
    return _interaction(2, data, author, channel_id, guild)


def slash_reingest(author: dict[str, Any] = ALICE, channel_id: str = CHANNEL_ID) -> dict[str, Any]:
    """INTERACTION_CREATE for `/reingest` (no options)."""
    data = {"id": "700000000000000008", "name": "reingest", "type": 1}
    return _interaction(2, data, author, channel_id, True)


def button_click(custom_id: str, on_message: dict[str, Any],
                 author: dict[str, Any] = ALICE) -> dict[str, Any]:
    """INTERACTION_CREATE for a click on a button of a message the bot sent."""
    data = {"custom_id": custom_id, "component_type": 2}
    return _interaction(3, data, author, on_message["channel_id"], "guild_id" in on_message
                        or on_message["channel_id"] != DM_CHANNEL_ID, message=on_message)


LIMITS = {"content": 2000, "title": 256, "description": 4096, "field_name": 256,
          "field_value": 1024, "fields": 25, "footer": 2048, "embed_total": 6000, "embeds": 10}


def limit_problem(body: Any) -> str:
    """What Discord would reject in a message body (content, embeds), '' if nothing."""
    if not isinstance(body, dict):
        return ""
    problems = []
    if len(body.get("content") or "") > LIMITS["content"]:
        problems.append("content over 2000")
    embeds = body.get("embeds") or []
    if len(embeds) > LIMITS["embeds"]:
        problems.append("more than 10 embeds")
    total = 0
    for e in embeds:
        fields = e.get("fields") or []
        sizes = {"title": len(e.get("title") or ""), "description": len(e.get("description") or ""),
                 "footer": len((e.get("footer") or {}).get("text") or "")}
        problems += [f"{k} over {LIMITS[k]}" for k, n in sizes.items() if n > LIMITS[k]]
        if len(fields) > LIMITS["fields"]:
            problems.append("more than 25 fields")
        for f in fields:
            if len(f["name"]) > LIMITS["field_name"] or len(f["value"]) > LIMITS["field_value"]:
                problems.append("field over its limit")
            total += len(f["name"]) + len(f["value"])
        total += sum(sizes.values()) + len((e.get("author") or {}).get("name") or "")
    if total > LIMITS["embed_total"]:
        problems.append(f"embeds total {total} over 6000")
    return "; ".join(problems)


def jresp(data: Any, status: int = 200) -> web.Response:
    # discord.py only JSON-decodes when Content-Type is exactly 'application/json'
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})


class FakeDiscord:
    """Discord's REST API and gateway on 127.0.0.1, recording what the bot sends."""

    def __init__(self, *, heartbeat_ms: int = 45000, reject_token: bool = False,
                 grant_message_content: bool = True) -> None:
        self.heartbeat_ms = heartbeat_ms
        self.reject_token = reject_token
        self.grant_message_content = grant_message_content
        self.calls: list[tuple[str, str, Any]] = []   # (METHOD, path, json body)
        self.rejected: list[tuple[str, str, str]] = []  # calls answered 400: over a limit
        self.gateway_in: list[dict[str, Any]] = []    # what the bot sent on the gateway
        self.heartbeats: list[float] = []             # monotonic times heartbeats arrived
        self.acks: list[float] = []                   # monotonic times we answered them
        self.identified: list[dict[str, Any]] = []    # IDENTIFY payloads
        self.messages: dict[str, dict[str, Any]] = {}   # id -> message, everything seen
        self.channels: dict[str, list[str]] = defaultdict(list)  # channel -> message ids
        self.commands: dict[str, list[dict[str, Any]]] = {}      # "global" / guild id -> commands
        self.originals: dict[str, dict[str, Any]] = {}           # interaction token -> message
        self.threads: list[dict[str, Any]] = []                  # active threads, sent on connect
        self.connected = asyncio.Event()
        self._ws: web.WebSocketResponse | None = None
        self._seq = itertools.count(1)

    # ---------------- lifecycle ----------------
    async def start(self) -> "FakeDiscord":
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.api_base = f"http://127.0.0.1:{port}/api/v10"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"
        return self

    async def stop(self) -> None:
        await self._runner.cleanup()

    # ---------------- what a test reads ----------------
    def sent(self) -> list[tuple[str, str, Any]]:
        """Every REST call whose body can carry text a user reads (content or embeds)."""
        return [c for c in self.calls if isinstance(c[2], dict)
                and ({"content", "embeds"} & set(c[2]) or {"content", "embeds"} & set(c[2].get("data") or {}))]

    def posts_to(self, channel_id: str) -> list[dict[str, Any]]:
        return [c[2] for c in self.calls if c[0] == "POST" and c[1] == f"/channels/{channel_id}/messages"]

    async def wait_for_call(self, method: str, suffix: str, n: int = 1,
                            timeout: float = 15) -> list[tuple[str, str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [c for c in self.calls if c[0] == method and c[1].endswith(suffix)]
            if len(got) >= n:
                return got
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {n}x {method} *{suffix}; calls: {[c[:2] for c in self.calls]}")

    async def wait_for_embed_posts(self, channel_id: str, n: int = 1, timeout: float = 15) -> list[dict]:
        """The bot's posts to a channel that carry embeds (its answers), at least n of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [p for p in self.posts_to(channel_id) if p.get("embeds")]
            if len(got) >= n:
                return got
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {n} embed posts to {channel_id}; calls: {[c[:2] for c in self.calls]}")

    # ---------------- REST ----------------
    async def _rest(self, req: web.Request) -> web.Response:
        path = "/" + req.match_info["tail"]
        body = await self._body(req)
        self.calls.append((req.method, path, body))
        problem = limit_problem(body.get("data") if isinstance(body, dict) and "type" in body
                                else body)
        if problem:   # Discord rejects the whole message, as here
            self.rejected.append((req.method, path, problem))
            return jresp({"message": "Invalid Form Body", "code": 50035,
                          "errors": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                                                  "message": problem}]}}, status=400)
        parts = path.strip("/").split("/")
        handler = self._route(req.method, parts)
        if handler is None:
            return jresp({"message": f"fake: unhandled {req.method} {path}", "code": 0}, status=404)
        return await handler(req, parts, body)

    @staticmethod
    async def _body(req: web.Request) -> Any:
        if not req.can_read_body:
            return None
        if req.content_type == "application/json":
            return await req.json()
        if req.content_type.startswith("multipart/"):
            form = await req.post()
            return json.loads(form["payload_json"]) if "payload_json" in form else None
        return None

    def _route(self, method: str, parts: list[str]):
        if parts[:2] == ["users", "@me"] and len(parts) == 2:
            return self._me
        if parts[:2] == ["oauth2", "applications"]:
            return self._application
        if parts[0] == "applications" and parts[-1] == "commands":
            return self._commands
        if parts[0] == "interactions" and parts[-1] == "callback":
            return self._interaction_callback
        if parts[0] == "webhooks":
            return self._webhook
        if parts[0] != "channels":
            return None
        if parts[-1] in ("typing", "@me") and method in ("POST", "PUT"):   # typing, reactions
            return self._no_content
        return {("POST", 3): self._post_message, ("GET", 3): self._history,
                ("GET", 4): self._get_message, ("PATCH", 4): self._edit_message,
                ("POST", 5): self._start_thread,
                }.get((method, len(parts)))

    async def _me(self, req, parts, body) -> web.Response:
        if self.reject_token:
            return jresp({"message": "401: Unauthorized", "code": 0}, status=401)
        return jresp(BOT)

    async def _application(self, req, parts, body) -> web.Response:
        return jresp({"id": BOT["id"], "name": "AccessBot", "description": "", "icon": None,
                      "bot_public": True, "bot_require_code_grant": False, "owner": ALICE,
                      "verify_key": "0" * 64, "flags": 0})

    async def _no_content(self, req, parts, body) -> web.Response:
        return web.Response(status=204)

    async def _post_message(self, req, parts, body) -> web.Response:
        data = self._store(self._bot_message(parts[1], body or {}))
        await self.dispatch("MESSAGE_CREATE", data)   # Discord echoes the bot's own messages
        return jresp(data)

    def _bot_message(self, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        guild = channel_id != DM_CHANNEL_ID
        extra = {"message_reference": body["message_reference"]} if body.get("message_reference") else {}
        return message(body.get("content") or "", author=BOT, channel_id=channel_id, guild=guild,
                       embeds=body.get("embeds") or [], components=body.get("components") or [],
                       **extra)

    def _store(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["id"] not in self.messages:
            self.channels[data["channel_id"]].append(data["id"])
        self.messages[data["id"]] = data
        return data

    def remember(self, data: dict[str, Any]) -> dict[str, Any]:
        """Keep a message the test injected, as Discord would (for history and fetch)."""
        return self._store(data)

    async def _history(self, req, parts, body) -> web.Response:
        ids = self.channels.get(parts[1], [])
        before = req.query.get("before")
        if before:
            ids = [i for i in ids if int(i) < int(before)]
        limit = int(req.query.get("limit", 50))
        return jresp([self.messages[i] for i in reversed(ids)][:limit])

    async def _get_message(self, req, parts, body) -> web.Response:
        found = self.messages.get(parts[3])
        if found is None or found["channel_id"] != parts[1]:
            return jresp({"message": "Unknown Message", "code": 10008}, status=404)
        return jresp(found)

    async def _edit_message(self, req, parts, body) -> web.Response:
        found = self.messages.get(parts[3])
        if found is None or found["channel_id"] != parts[1]:
            return jresp({"message": "Unknown Message", "code": 10008}, status=404)
        for key in ("content", "embeds", "components"):
            if key in (body or {}):
                found[key] = body[key] if body[key] is not None else ("" if key == "content" else [])
        found["edited_timestamp"] = timestamp()
        return jresp(found)

    def edits_of(self, message_id: str) -> list[dict[str, Any]]:
        """The bodies of every edit the bot made to one of its channel messages."""
        return [c[2] for c in self.calls if c[0] == "PATCH" and c[1].startswith("/channels/")
                and c[1].endswith(f"/messages/{message_id}")]

    async def _start_thread(self, req, parts, body) -> web.Response:
        thread = {"id": parts[3], "type": 11, "guild_id": GUILD_ID, "parent_id": parts[1],
                  "name": body["name"], "owner_id": BOT["id"], "message_count": 0,
                  "member_count": 1, "rate_limit_per_user": 0, "flags": 0,
                  "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                      "archive_timestamp": timestamp(), "locked": False}}
        self.threads.append(thread)
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return jresp(thread)

    async def _commands(self, req, parts, body) -> web.Response:
        scope = parts[3] if parts[2] == "guilds" else "global"
        if req.method == "PUT":
            self.commands[scope] = [{**c, "id": snowflake(), "application_id": BOT["id"],
                                     "version": snowflake(), "default_member_permissions": None,
                                     **({"guild_id": scope} if scope != "global" else {})}
                                    for c in body]
        return jresp(self.commands.get(scope, []))

    async def _interaction_callback(self, req, parts, body) -> web.Response:
        kind, data = body["type"], body.get("data") or {}
        ephemeral = bool(data.get("flags", 0) & 64)
        result: dict[str, Any] = {"interaction": {
            "id": parts[1], "type": 2, "response_message_loading": kind == 5,
            "response_message_ephemeral": ephemeral}}
        if kind in (4, 5):
            original = message(data.get("content") or "", author=BOT, channel_id=CHANNEL_ID,
                               embeds=data.get("embeds") or [], components=data.get("components") or [],
                               flags=data.get("flags", 0))
            self.originals[parts[2]] = original
            result["interaction"]["response_message_id"] = original["id"]
            result["resource"] = {"type": kind, "message": original}
        return jresp(result)

    async def _webhook(self, req, parts, body) -> web.Response:
        token = parts[2]
        if req.method == "PATCH" and parts[-1] == "@original":
            original = self.originals.setdefault(token, message("", author=BOT))
            original.update(content=body.get("content", original["content"]),
                            embeds=body.get("embeds", original["embeds"]),
                            components=body.get("components", original["components"]))
            return jresp(self._store(original))
        if req.method == "POST" and len(parts) == 3:   # follow-up message
            return jresp(self._store(message(body.get("content") or "", author=BOT,
                                             embeds=body.get("embeds") or [],
                                             components=body.get("components") or [],
                                             flags=body.get("flags", 0))))
        return jresp({"message": "fake: unhandled webhook call", "code": 0}, status=404)

    # ---------------- gateway ----------------
    async def _gateway(self, req: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(req)
        self._ws = ws
        await self._send(ws, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_ms}})  # HELLO
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            payload = json.loads(msg.data)
            self.gateway_in.append(payload)
            if payload["op"] == 2:
                await self._identify(ws, payload["d"])
            elif payload["op"] == 1:
                self.heartbeats.append(time.monotonic())
                await self._send(ws, {"op": 11})
                self.acks.append(time.monotonic())
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identified.append(data)
        if data["token"] != TOKEN:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        if data["intents"] & MESSAGE_CONTENT_INTENT and not self.grant_message_content:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        await self.dispatch("READY", {"v": 10, "user": BOT, "session_id": "sess", "guilds":
                                      [{"id": GUILD_ID, "unavailable": True}],
                                      "resume_gateway_url": self.gateway_url,
                                      "application": {"id": BOT["id"], "flags": 0}})
        await self.dispatch("GUILD_CREATE", {**GUILD, "threads": self.threads})
        self.connected.set()

    @staticmethod
    async def _send(ws: web.WebSocketResponse, payload: dict[str, Any]) -> None:
        await ws.send_str(json.dumps(payload))   # plain-text frames: discord.py reads them as-is

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event (op 0) to the connected bot."""
        if self._ws is None or self._ws.closed:
            return
        await self._send(self._ws, {"op": 0, "s": next(self._seq), "t": event, "d": data})

    async def inject(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Dispatch an event the test builds; messages are kept for history like Discord does."""
        if event == "MESSAGE_CREATE":
            self.remember(data)
        await self.dispatch(event, data)
        return data
