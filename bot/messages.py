"""Every sentence AccessBot says to a user or an operator, in one place."""
from __future__ import annotations

CAN_HELP_WITH = (
    "I can help with: which access route or program fits your situation (cyber "
    "verification programs, researcher credit programs, evaluator access under the EU GPAI "
    "Code of Practice, open-weight internals through NDIF, and more), and which bottleneck "
    "of the model access gap you are hitting (non-release, deployment lag, safeguards, "
    "costs and rate limits, elicitation)."
)
DECLINE = "I don't know that: my knowledge base doesn't cover it. " + CAN_HELP_WITH
DECLINE_EXAMPLE = (
    "Try something like: \"Our cyber evals keep getting refused by the safeguards, is "
    "there a program for that?\""
)
CLARIFY = (
    "Happy to help. To pick the right route I need to know a bit more: what kind of "
    "organisation are you (university, independent researcher, nonprofit or evaluation "
    "org, company, government), and what do you need the access for (e.g. cyber or bio "
    "work, interpretability, fine-tuning, higher limits or credits, fewer refusals)?"
)
EMPTY_QUESTION = "Please ask a question: the message was empty."
TOO_LONG = (
    "That message is {length:,} characters; I read at most {limit:,}. Please shorten it "
    "to the question and the context that matters."
)
APOLOGY = "Sorry, something went wrong on my side while answering. The maintainers have the details in the log."
RATE_LIMITED = "You're asking faster than I can keep up. Please wait {seconds} s and ask again."
NOT_ALLOWED_HERE = "I'm not enabled in this channel."
NO_INDEX = "No knowledge index found: run `accessbot ingest` first."
STALE_NOTE = "last verified {date}, check the source"
ROUTES_HEADING = "Routes that fit your situation:"
DEPENDS_HEADING = "Which route fits depends on your situation:"
NO_ROUTE = "No specific access program fits what you described; here is what the sources say."
RULED_OUT_HEADING = "Considered but ruled out:"
BOTTLENECK_HEADING = "The bottleneck you are hitting:"
EVIDENCE_HEADING = "What the sources say:"
SOURCES_HEADING = "Sources:"
HOW_TO_APPLY = "How to apply:"
WHY = "Why:"
TRIMMED = "(trimmed)"
FEEDBACK_THANKS = "Thanks for the feedback."
MISSING_ENV = "{name} is not set: {hint}"

# Discord
DISCORD_TOKEN_HINT = (
    "create an application at https://discord.com/developers/applications, copy the token "
    "from its Bot page and export DISCORD_TOKEN=... (see README, Discord)"
)
DISCORD_TOKEN_REJECTED = (
    "Discord did not accept DISCORD_TOKEN: reset the token on the application's Bot page "
    "and set DISCORD_TOKEN to the new one"
)
DISCORD_BAD_SYNC_SCOPE = "--sync-commands takes 'global' or a server (guild) id, got {scope!r}"
DISCORD_SYNCED_GLOBAL = ("Registered {names} for every server (new global commands can take a "
                         "few minutes to show up).")
DISCORD_SYNCED_GUILD = "Registered {names} in server {guild}."
DISCORD_NO_MESSAGE_CONTENT = (
    "The Message Content intent is not enabled for this bot, so follow-ups in threads "
    "without a new mention go unanswered (/ask, mentions and DMs still work). Enable it "
    "under Bot > Privileged Gateway Intents in the developer portal."
)
DISCORD_CONNECTED = "AccessBot is on Discord as {user} in {guilds} server(s)"
DISCORD_NO_THREAD = "cannot open a thread in channel {channel} (HTTP {status}); replying instead"
DISCORD_ADVISOR_FAILED = "the advisor failed on a Discord question"
DISCORD_FEEDBACK_FAILED = "storing a Discord feedback click failed"
DISCORD_COMMAND_FAILED = "a Discord application command failed"
DISCORD_ASK_DESCRIPTION = "Ask which model-access route, program or bottleneck applies to you"
DISCORD_ASK_QUESTION = "Your question, with your situation (who you are, what access you need)"
DISCORD_ASK_PRIVATE = "Only you see the answer (default: everyone in the channel)"
DISCORD_HELPFUL = "Helpful"
DISCORD_NOT_HELPFUL = "Not helpful"
DISCORD_SOURCES = "Sources"
DISCORD_SOURCE_LINE = "[{n}] {title} · {verified}"
DISCORD_VERIFIED = "last verified {date}"
DISCORD_MORE_SOURCES = "… and {count} more sources (trimmed)"
DISCORD_CONTINUED = "(continued)"
DISCORD_FOOTER = "Cards: {cards}"
DISCORD_ANSWER_REF = "answer {id}"
DISCORD_THREAD_NAME = "AccessBot answer"

# Slack
SLACK_WORKING = ":hourglass_flowing_sand: Looking that up…"
SLACK_HELP = (
    "I'm AccessBot. " + CAN_HELP_WITH + "\n\n"
    "Ask me by mentioning me in a channel (I answer in a thread, and you can keep asking "
    "there without mentioning me again), in a direct message, or with "
    "`/accessbot your question` (only you see the answer until you share it). Every answer "
    "cites its sources with the date each was last checked; the Helpful / Not helpful "
    "buttons tell the maintainers what to improve."
)
SLACK_ASKED = "Asked:"
LAST_VERIFIED = "last verified {date}"
HELPFUL_BUTTON = ":thumbsup: Helpful"
NOT_HELPFUL_BUTTON = ":thumbsdown: Not helpful"
SHARE_BUTTON = "Share in channel"
SHARE_EXPIRED = "That answer is no longer available to share (I was restarted). Please ask again."
SHARE_FAILED = "I can't post in this conversation. Invite me to the channel, then share again."
SLACK_TOKEN_HINTS = {
    "SLACK_BOT_TOKEN": "set it to the app's Bot User OAuth Token (xoxb-...) from "
                       "OAuth & Permissions",
    "SLACK_APP_TOKEN": "set it to an app-level token (xapp-...) with connections:write "
                       "from Basic Information, or unset it to run in HTTP mode",
    "SLACK_SIGNING_SECRET": "set it to the Signing Secret from Basic Information "
                            "(needed in HTTP mode; or set SLACK_APP_TOKEN for Socket Mode)",
    "SLACK_API_URL": "set it to an http(s) base URL such as https://slack.com/api/, or unset it",
}
MALFORMED_ENV = "{name} is malformed: {hint}"
SLACK_TOKEN_REJECTED = "Slack did not accept SLACK_BOT_TOKEN ({error}): {hint}"
SLACK_UNREACHABLE = ("cannot reach Slack's Web API at {url} ({error}): check the network, "
                     "or SLACK_API_URL if you set it")
SLACK_LISTENING = "AccessBot Slack app listening on http://{host}:{port}/slack/events"
SLACK_SOCKET_MODE = "AccessBot Slack app connecting in Socket Mode"

# Streaming: shown under an answer while the LLM is still writing it
STREAMING = "Still writing…"

# Maintainers: re-ingest from chat, and the "what changed" notice
REINGEST_NOT_ADMIN = ("Sorry, only AccessBot's maintainers can re-ingest the knowledge base "
                      "(they are listed in the admin_user_ids setting).")
REINGEST_STARTED = "Re-ingesting the knowledge base… I'll reply here with what changed."
REINGEST_BUSY = "Another ingest is running on this index; try again when it finishes."
REINGEST_DONE = ("Re-ingest finished: {added} added, {updated} updated, {removed} removed, "
                 "{unchanged} unchanged.")
REINGEST_LIVE = "Index version {version} is live; running bots switch to it within seconds."
REINGEST_NOTHING = "No new version was published; version {version} keeps serving."
REINGEST_ERRORS = "Documents that could not be read (their earlier version is kept):"
REINGEST_REFUSED = ("The eval gate refused to publish the new version, so the previous one "
                    "keeps serving. Fix the cards, or publish anyway with "
                    "`accessbot ingest --force`:")
REINGEST_LINE = "• {text}"
REINGEST_DISCORD_DESCRIPTION = "Maintainers: re-ingest the knowledge base and report what changed"
REINGEST_FAILED_LOG = "a re-ingest started from chat failed"
CHANGES_HEADING = "What changed in AccessBot's knowledge base:"
CHANGE_ADDED = "• New: {title} ({id})"
CHANGE_REMOVED = "• Removed: {title} ({id})"
CHANGE_UPDATED = "• {title} ({id}): {fields}"
CHANGE_VALUE = "{label} {before} → {after}"
CHANGE_TEXT = "{label} now: {after}"
CHANGE_NONE = "(none)"
CHANGES_MORE = "• … and {count} more"
CHANGE_LABELS = {"status": "status", "status_note": "status note", "eligibility": "eligibility",
                 "access": "access", "apply": "how to apply", "last_verified": "last verified"}
NOTIFY_FAILED = "could not post the change notice to {platform} channel {channel}"
NOTIFY_BAD_CHANNEL = "notify_discord_channel must be a channel id (digits), got {channel!r}"
