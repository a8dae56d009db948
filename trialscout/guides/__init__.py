"""Condition and drug guides, the trials they list, and visitor questions.

Guides are Markdown files in ``content/`` with YAML front matter, checked against
``rules/sections.yaml`` by ``content``; ``links`` finds each guide's trials through the
synonym vocabulary; ``questions`` stores "Send us a question" submissions for an admin;
``service.GuideService`` is what the app exposes.
"""
