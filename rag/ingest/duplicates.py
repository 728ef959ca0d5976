"""Near-duplicate articles: the same wire story syndicated by several outlets, under different headlines.

Each article gets a MinHash signature (datasketch) of its word 3-shingles, cut into bands for
locality-sensitive hashing: two articles sharing a band are candidates, and are duplicates when
their signatures agree on at least ``SIMILARITY`` of their values (the estimated Jaccard similarity
of their shingles). Band keys live in the chunk store beside the articles, so finding an article's
copies is an indexed lookup at any archive size and an update needs nothing loaded.

Within a group the earliest-dated article (then the smallest doc id) is the canonical one; the others
are listed as "also in" and never fill a second place in the top-k or a second matching event.
"""

from __future__ import annotations

import hashlib

import numpy as np

from rag.text import WORD

PERMUTATIONS = 100
# 25 bands of 4 values: an article pair with similarity 0.6 shares a band with probability 0.97, one
# with similarity 0.5 with 0.8, one with 0.2 with 0.04, so few candidates need checking.
BANDS, ROWS = 25, 4
# Syndicated copies differ by a headline, a byline and a closing line (two copies of a 150-word story
# measure 0.74); separate reports of the same event share almost no 3-shingles (0.0 to 0.07 here).
SIMILARITY = 0.5
SHINGLE_WORDS = 3


def signature(text: str) -> np.ndarray:
    """The MinHash signature (uint32 values) of the text's lower-cased word 3-shingles."""
    from datasketch import MinHash

    words = [word.lower() for word in WORD.findall(text)]
    shingles = {" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(max(len(words) - SHINGLE_WORDS + 1, 1))}
    minhash = MinHash(num_perm=PERMUTATIONS, seed=1)  # a fixed seed: signatures stored by one run compare with the next
    minhash.update_batch(list(shingles))
    return minhash.hashvalues.astype(np.uint32)


def band_keys(values: np.ndarray) -> list[int]:
    """One stable 63-bit key per band; articles sharing any key are candidate duplicates."""
    return [
        int.from_bytes(hashlib.blake2b(bytes([band]) + values[band * ROWS : (band + 1) * ROWS].tobytes(),
                                       digest_size=8).digest(), "little") >> 1
        for band in range(BANDS)
    ]


def similarity(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The estimated Jaccard similarity of articles' shingles: the share of equal signature values,
    row by row for two stacks of signatures (one value for two single signatures)."""
    return np.mean(first == second, axis=-1)
