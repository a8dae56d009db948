"""The vectorized letter bound only skips words difflib would reject anyway."""

from __future__ import annotations

import difflib
import random

import numpy as np

from trialscout.search.suggest import _WORD, MIN_LENGTH, MIN_RATIO, _mapped_candidates
from trialscout.search.vocab import MappedVocab


def _vocab(words: list[str]) -> MappedVocab:
    return MappedVocab(*MappedVocab.arrays(words))


def _plain(words: list[str], word: str) -> list[str]:
    """The candidates before the bound: same initial, length within two, a-z only."""
    return sorted(w for w in words if w[:1] == word[:1] and abs(len(w) - len(word)) <= 2
                  and len(w) >= MIN_LENGTH and _WORD.fullmatch(w))


def test_the_bound_keeps_every_word_difflib_would_accept() -> None:
    rng = random.Random(11)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = sorted({"".join(rng.choice(letters[:8]) for _ in range(rng.randint(2, 10)))
                    for _ in range(4000)} | {"cancer", "canker", "cancers", "cañcer",
                                             "canc3r", "Cancer", "osteoporosis",
                                             "osteopenia", "ostéoporose"})
    vocab = _vocab(words)
    typos = ["cancr", "cacner", "osteoporsis", "abcdeab", "hhgfed", "abab", "cafebabe"]
    typos += ["".join(rng.choice(letters[:8]) for _ in range(rng.randint(4, 9)))
              for _ in range(60)]
    for typo in typos:
        kept = _mapped_candidates(vocab, typo)
        plain = _plain(words, typo)
        assert set(kept) <= set(plain)
        expected = difflib.get_close_matches(typo, plain, n=3, cutoff=MIN_RATIO)
        assert difflib.get_close_matches(typo, sorted(kept), n=3, cutoff=MIN_RATIO) == \
            expected, typo
        dropped = set(plain) - set(kept)
        assert all(difflib.SequenceMatcher(None, typo, w).quick_ratio() < MIN_RATIO
                   for w in dropped), typo
    assert "cancer" in _mapped_candidates(vocab, "cancr")
    assert not {"cañcer", "canc3r"} & set(_mapped_candidates(vocab, "cancr"))


def test_a_vocabulary_without_candidates_gives_none() -> None:
    vocab = _vocab(["zebra", "zebras"])
    assert _mapped_candidates(vocab, "cancr") == []
    assert isinstance(vocab.order, np.ndarray)
