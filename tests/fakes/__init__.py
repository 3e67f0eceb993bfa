"""Local stand-ins for the platforms' servers (Discord, Slack), used by the transport tests."""
