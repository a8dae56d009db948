"""Plain-language trial summaries, built offline from the record and checked fact by fact.

``offline.summarize(trial, parsed_criteria)`` writes short sentences by topic (what is
studied, who can join, what happens, where, whether it is open), each naming the record
fields it restates; ``grounding`` is the fact check every sentence must pass; ``llm`` can
rewrite the result through an OpenAI-compatible API and falls back to the offline text
whenever the rewrite fails the same check; ``service.SummaryService`` is what the app uses.
"""
