"""The Slack transport: a slack-bolt app that turns Slack events into Questions, asks the
advisor, and posts the Answer as Block Kit (rendering lives in slack_render).

Every Slack request is acknowledged at once: events by bolt itself, commands and clicks
first thing in their listener. The slow part (the advisor) runs in our own thread pool,
so a burst of questions can never hold up the 3-second acknowledgement of the next one.
"""
from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import messages, operations
from bot.advisor import Advisor, Answer, Question, QuestionError, Turn
from bot.feedback import FeedbackStore
from bot.ratelimit import RateLimiter
from bot.settings import Settings, id_set
from bot.transports import slack_admin
from bot.transports import slack_render as render
from bot.transports.slack_credentials import CredentialError, credentials, verify_token
from bot.transports.slack_state import ShareBox, ThreadMemory
from bot.transports.streaming import Throttle

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
DM_CONTEXT_SECONDS = 30 * 60  # a DM question after a long pause starts a new conversation
ANSWER_WORKERS = 4
_ANSWERED_SUBTYPES = {None, "file_share", "thread_broadcast"}
REINGEST_WORDS = {"reingest", "re-ingest"}
Reply = tuple[str, list[dict[str, Any]], Answer | None]


class SlackAnswerer:
    """The listeners' shared logic: access checks, placeholder, advisor, final message."""

    def __init__(self, advisor: Advisor, settings: Settings, feedback: FeedbackStore,
                 limiter: RateLimiter, executor: Executor) -> None:
        self.advisor = advisor
        self.settings = settings
        self.allowed_channels = id_set(settings.slack_channels)
        self.feedback = feedback
        self.limiter = limiter
        self.executor = executor
        self.threads = ThreadMemory()
        self.shares = ShareBox()

    def allowed(self, channel: str) -> bool:
        """Direct messages always; channels when the allowlist is empty or names them."""
        return not self.allowed_channels or channel in self.allowed_channels or channel.startswith("D")

    def compose(self, question: Question, on_delta: Callable[[str], None] | None = None) -> Reply:
        """(text, blocks, answer) for the reply; a failure becomes a short apology."""
        try:
            answer = self.advisor.answer(question, on_delta=on_delta)
        except QuestionError as exc:
            return render.escape(str(exc)), render.plain_blocks(str(exc)), None
        except Exception:
            log.exception("the advisor failed on a Slack question (user %s)", question.user_id)
            return render.escape(messages.APOLOGY), render.plain_blocks(messages.APOLOGY), None
        return render.answer_text(answer), render.answer_blocks(answer), answer

    def over_limit(self, client: WebClient, channel: str, user: str, thread_ts: str | None) -> bool:
        """True (after telling the user, privately) when they ask too fast."""
        wait = self.limiter.check(user)
        if wait:
            client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts,
                                      text=render.escape(messages.RATE_LIMITED.format(seconds=wait)))
        return bool(wait)

    def reply(self, client: WebClient, channel: str, user: str, text: str,
              thread_ts: str | None, key: tuple[str, str], history: tuple[Turn, ...]) -> None:
        """Post the placeholder now; the answer replaces it when the advisor is done."""
        if self.over_limit(client, channel, user, thread_ts):
            return
        self.threads.start(key, history)
        placeholder = client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                              text=messages.SLACK_WORKING)
        question = Question(text=text, history=history, platform=PLATFORM, user_id=user)
        self.executor.submit(self._finish, client, channel, placeholder["ts"], question, key)

    def _finish(self, client: WebClient, channel: str, ts: str, question: Question,
                key: tuple[str, str]) -> None:
        stream = Throttle(lambda so_far: client.chat_update(
            channel=channel, ts=ts, text=render.partial_text(so_far),
            blocks=render.partial_blocks(so_far)))
        text, blocks, answer = self.compose(question, on_delta=stream)
        stream.close()  # the final answer (perhaps the extractive fallback) is shown last
        try:
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except Exception:
            log.exception("could not post the answer to Slack channel %s", channel)
            return
        if answer is not None:
            self.threads.add(key, Turn(question.text, answer.text))

    def thread_history(self, client: WebClient, channel: str, thread_ts: str, current_ts: str,
                       bot_user_id: str) -> tuple[Turn, ...] | None:
        """Earlier turns of a thread the bot answered, or None when it did not answer there."""
        key = (channel, thread_ts)
        known = self.threads.turns(key)
        if known is not None:
            return known
        try:
            replies = client.conversations_replies(channel=channel, ts=thread_ts, limit=100)
        except SlackApiError as exc:
            log.warning("cannot read Slack thread %s in %s: %s", thread_ts, channel,
                        exc.response.get("error"))
            return None
        turns = turns_from_replies(replies.get("messages", []), bot_user_id, current_ts)
        if turns is not None:
            self.threads.start(key, turns)
        return turns


def turns_from_replies(thread: list[dict[str, Any]], bot_user_id: str,
                       current_ts: str) -> tuple[Turn, ...] | None:
    """Question/answer pairs from a thread's messages; None if the bot never answered."""
    turns: list[Turn] = []
    pending: str | None = None
    answered = False
    for message in thread:
        if message.get("ts") == current_ts:
            continue
        if message.get("user") == bot_user_id or message.get("bot_id"):
            answered = answered or message.get("user") == bot_user_id
            if pending and message.get("text") != messages.SLACK_WORKING:
                turns.append(Turn(pending, render.question_text(message.get("text", ""))))
                pending = None
        else:
            pending = render.question_text(message.get("text", ""), bot_user_id)
    return tuple(turns) if answered else None


def _is_from_a_person(event: dict[str, Any], bot_user_id: str) -> bool:
    return (event.get("subtype") in _ANSWERED_SUBTYPES and not event.get("bot_id")
            and bool(event.get("user")) and event.get("user") != bot_user_id)


def register_events(app: App, bot: SlackAnswerer) -> None:
    """Mentions in channels, direct messages, and follow-ups in threads the bot answered."""

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], context: Any, client: WebClient) -> None:
        bot_user_id = context.bot_user_id or ""
        if not _is_from_a_person(event, bot_user_id):
            return
        channel, user, parent = event["channel"], event["user"], event.get("thread_ts")
        if not bot.allowed(channel):
            client.chat_postEphemeral(channel=channel, user=user, thread_ts=parent,
                                      text=render.escape(messages.NOT_ALLOWED_HERE))
            return
        history: tuple[Turn, ...] = ()
        if parent:
            history = bot.thread_history(client, channel, parent, event["ts"], bot_user_id) or ()
        thread = parent or event["ts"]
        bot.reply(client, channel, user, render.question_text(event.get("text", ""), bot_user_id),
                  thread, (channel, thread), history)

    @app.event("message")
    def on_message(event: dict[str, Any], context: Any, client: WebClient) -> None:
        bot_user_id = context.bot_user_id or ""
        if not _is_from_a_person(event, bot_user_id):
            return
        if event.get("channel_type") == "im":
            _on_direct_message(bot, event, client, bot_user_id)
        elif event.get("thread_ts") and f"<@{bot_user_id}" not in event.get("text", ""):
            _on_thread_message(bot, event, client, bot_user_id)


def _on_direct_message(bot: SlackAnswerer, event: dict[str, Any], client: WebClient,
                       bot_user_id: str) -> None:
    channel, parent = event["channel"], event.get("thread_ts")
    key = (channel, parent or "")
    history = bot.threads.turns(key, max_age=None if parent else DM_CONTEXT_SECONDS) or ()
    bot.reply(client, channel, event["user"], render.question_text(event.get("text", ""), bot_user_id),
              parent, key, history)


def _on_thread_message(bot: SlackAnswerer, event: dict[str, Any], client: WebClient,
                       bot_user_id: str) -> None:
    """A reply in a channel thread: answered only where the bot answered before."""
    channel, parent = event["channel"], event["thread_ts"]
    if not bot.allowed(channel):
        return
    history = bot.thread_history(client, channel, parent, event["ts"], bot_user_id)
    if history is None:
        return
    bot.reply(client, channel, event["user"], render.question_text(event.get("text", ""), bot_user_id),
              parent, (channel, parent), history)


def register_command(app: App, bot: SlackAnswerer) -> None:
    """`/accessbot QUESTION` (private answer with a share button), `/accessbot help`, and
    `/accessbot reingest` for maintainers."""

    @app.command("/accessbot")
    def on_command(ack: Any, command: dict[str, Any], respond: Any, client: WebClient) -> None:
        text = render.question_text(command.get("text", ""))
        if text.lower() in {"", "help", "?"}:
            ack(text=render.escape(messages.SLACK_HELP),
                blocks=render.plain_blocks(messages.SLACK_HELP), response_type="ephemeral")
            return
        if text.lower() in REINGEST_WORDS:
            _on_reingest(bot, ack, command["user_id"], respond, client)
            return
        if not bot.allowed(command.get("channel_id", "")):
            ack(text=render.escape(messages.NOT_ALLOWED_HERE), response_type="ephemeral")
            return
        wait = bot.limiter.check(command["user_id"])
        if wait:
            ack(text=render.escape(messages.RATE_LIMITED.format(seconds=wait)),
                response_type="ephemeral")
            return
        ack(text=messages.SLACK_WORKING, response_type="ephemeral")
        question = Question(text=text, platform=PLATFORM, user_id=command["user_id"])
        bot.executor.submit(_answer_command, bot, question, respond)


def _on_reingest(bot: SlackAnswerer, ack: Any, user: str, respond: Any, client: WebClient) -> None:
    """`/accessbot reingest`: maintainers only; acknowledged now, the ingest runs in the pool."""
    if not operations.is_admin(bot.settings, PLATFORM, user):
        ack(text=render.escape(messages.REINGEST_NOT_ADMIN), response_type="ephemeral")
        return
    ack(text=render.escape(messages.REINGEST_STARTED), response_type="ephemeral")
    bot.executor.submit(slack_admin.run_reingest, bot.settings, bot.advisor.embeddings,
                        respond, client)


def _answer_command(bot: SlackAnswerer, question: Question, respond: Any) -> None:
    # No streaming here: a command's response_url takes only five messages.
    text, blocks, answer = bot.compose(question)
    if answer is not None:
        blocks = render.answer_blocks(answer, share_key=bot.shares.put(question.text, answer))
    try:
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)
    except Exception:
        log.exception("could not deliver a /accessbot answer")


def register_actions(app: App, bot: SlackAnswerer) -> None:
    """Helpful / Not helpful clicks, and sharing a private answer in the channel."""

    @app.action(re.compile(f"^({render.HELPFUL}|{render.NOT_HELPFUL})$"))
    def on_feedback(ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                    respond: Any) -> None:
        ack()
        container = body.get("container", {})
        channel = container.get("channel_id") or body.get("channel", {}).get("id", "")
        ts = container.get("message_ts", "")
        answer_id, cards = render.read_feedback_value(action.get("value", ""))
        bot.feedback.record(PLATFORM, answer_id or f"{channel}:{ts}", body["user"]["id"],
                            action["action_id"] == render.HELPFUL, cards, answer_id=answer_id)
        _acknowledge_feedback(body, client, respond, channel, ts)

    @app.action(render.SHARE)
    def on_share(ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                 respond: Any) -> None:
        ack()
        shared = bot.shares.take(action.get("value", ""))
        if shared is None:
            respond(text=render.escape(messages.SHARE_EXPIRED), response_type="ephemeral",
                    replace_original=False)
            return
        question, answer = shared
        channel = body.get("channel", {}).get("id") or body["container"]["channel_id"]
        try:
            client.chat_postMessage(channel=channel, text=render.answer_text(answer),
                                    blocks=render.answer_blocks(answer, heading=render.shared_heading(question)))
        except SlackApiError:
            respond(text=render.escape(messages.SHARE_FAILED), response_type="ephemeral",
                    replace_original=False)
            return
        respond(delete_original=True)


def _acknowledge_feedback(body: dict[str, Any], client: WebClient, respond: Any,
                          channel: str, ts: str) -> None:
    """Thank the user in the message itself, or privately when we cannot edit it."""
    message = body.get("message") or {}
    if not message.get("blocks"):
        respond(text=render.escape(messages.FEEDBACK_THANKS), response_type="ephemeral",
                replace_original=False)
        return
    blocks = render.with_feedback_ack(message["blocks"])
    if body.get("container", {}).get("is_ephemeral"):
        respond(text=message.get("text", ""), blocks=blocks, replace_original=True)
    else:
        client.chat_update(channel=channel, ts=ts, text=message.get("text", ""), blocks=blocks)


def build_app(advisor: Advisor, settings: Settings, client: WebClient,
              signing_secret: str = "", *, feedback: FeedbackStore | None = None,
              limiter: RateLimiter | None = None, executor: Executor | None = None,
              socket_mode: bool = False) -> App:
    """The bolt app with every listener registered; dependencies come in, nothing global."""
    app = App(client=client, signing_secret=signing_secret,
              request_verification_enabled=not socket_mode)
    bot = SlackAnswerer(
        advisor, settings,
        feedback=feedback or FeedbackStore(settings.feedback_db),
        limiter=limiter or RateLimiter(settings.rate_limit_per_minute),
        executor=executor or ThreadPoolExecutor(ANSWER_WORKERS, thread_name_prefix="accessbot-answer"),
    )
    register_events(app, bot)
    register_command(app, bot)
    register_actions(app, bot)
    return app


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # socketserver's default backlog of 5 resets connections when Slack delivers a burst
    # of events at once; the OS caps this at net.core.somaxconn anyway.
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


def make_http_server(app: App, host: str, port: int) -> WSGIServer:
    """The Events API endpoint at /slack/events; bolt checks every request's signature."""
    return make_server(host, port, SlackRequestHandler(app, path=EVENTS_PATH),
                       server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """`accessbot slack`: Socket Mode with SLACK_APP_TOKEN, else HTTP on --port."""
    try:
        creds = credentials()
        verify_token(creds.bot_token, creds.api_url)
    except CredentialError as exc:
        print(f"accessbot: {exc}", file=sys.stderr)
        return 2
    advisor = Advisor.from_settings(settings)
    advisor.snapshot  # a missing index fails here, with its own one-line message
    client = WebClient(token=creds.bot_token, base_url=creds.api_url, timeout=10)
    app = build_app(advisor, settings, client, creds.signing_secret,
                    socket_mode=bool(creds.app_token))
    if creds.app_token:
        return _run_socket_mode(app, creds.app_token)
    return _run_http(app, args.host, args.port)


def _run_socket_mode(app: App, app_token: str) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    print(messages.SLACK_SOCKET_MODE, file=sys.stderr, flush=True)
    SocketModeHandler(app, app_token=app_token).start()
    return 0


def _run_http(app: App, host: str, port: int) -> int:
    server = make_http_server(app, host, port)
    print(messages.SLACK_LISTENING.format(host=host, port=server.server_port),
          file=sys.stderr, flush=True)
    try:
        server.serve_forever(0.5)
    finally:
        server.server_close()
    return 0
