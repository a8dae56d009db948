"""Shared medical vocabulary: canonical concepts, synonyms and class membership.

See :mod:`trialscout.vocabulary.synonyms` for the API.
"""

from trialscout.vocabulary.synonyms import (
    Concept,
    Vocabulary,
    load_vocabulary,
    normalize_term,
    slug,
    vocabulary,
)

__all__ = ["Concept", "Vocabulary", "load_vocabulary", "normalize_term", "slug", "vocabulary"]
