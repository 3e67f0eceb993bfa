"""Thin adapters: platform input -> Question -> Advisor.answer -> platform output."""
