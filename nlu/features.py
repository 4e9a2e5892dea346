"""Text features shared by the intent and sentiment models: fast, pure Python, deterministic.

One analyzer turns a text into word uni/bigrams and character n-grams (inside word
boundaries); :class:`Vectorizer` turns those into sublinear TF-IDF, each block
L2-normalised. Training and inference go through the same :meth:`Vectorizer.one`
so the two can never disagree.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from scipy import sparse

__all__ = ["normalize", "Vectorizer"]

_WORD = re.compile(r"[^\W_]+|[^\w\s]", re.UNICODE)
_DIGIT = re.compile(r"\d")
_ACCENTS: dict[str, str] = {}


def _strip_accents_char(ch: str) -> str:
    base = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in base if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Lower-case, strip accents, digits to 0: 'Réservé 14C' -> 'reserve 00c'."""
    text = text.lower()
    if not text.isascii():
        out = []
        for ch in text:
            if ch.isascii():
                out.append(ch)
                continue
            rep = _ACCENTS.get(ch)
            if rep is None:
                rep = _ACCENTS[ch] = _strip_accents_char(ch)
            out.append(rep)
        text = "".join(out)
    return _DIGIT.sub("0", text)


class Vectorizer:
    """Sublinear TF-IDF over word n-grams and char_wb n-grams, blocks L2-normalised.

    Args:
        word_ngrams: largest word n-gram (1 or 2).
        char_ngrams: (min, max) character n-gram sizes inside word boundaries, or None.
        min_df: keep features seen in at least this many training texts.
        char_weight: weight of the char block relative to the word block.
        token_hook: optional function mapping the word list (e.g. negation marking).
    """

    def __init__(
        self,
        word_ngrams: int = 2,
        char_ngrams: tuple[int, int] | None = (2, 5),
        min_df: int = 1,
        char_weight: float = 1.0,
        token_hook: Callable[[list[str]], list[str]] | None = None,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams: tuple[int, int] | None = None
        if char_ngrams:  # a [min, max] list read back from a saved config is accepted too
            lo, hi = char_ngrams
            self.char_ngrams = (lo, hi)
        self.min_df = min_df
        self.char_weight = char_weight
        self.token_hook = token_hook
        self.vocab: dict[str, int] = {}
        self._vw: dict[str, int] = {}
        self._vc: dict[str, int] = {}
        self._char_cache: dict[str, list[int]] = {}
        self.idf = np.zeros(0, dtype=np.float32)

    # -- analysis -----------------------------------------------------------------------
    def words(self, text: str) -> list[str]:
        """Normalised words (after the token hook) of ``text``."""
        words = _WORD.findall(normalize(text))
        if self.token_hook is not None:
            words = self.token_hook(words)
        return words

    def _word_ngrams(self, words: list[str]) -> list[str]:
        feats = list(words)
        if self.word_ngrams >= 2 and len(words) > 1:
            feats += [a + " " + b for a, b in pairwise(words)]
        return feats

    @staticmethod
    def _char_ngrams_of(w: str, sizes: tuple[int, int]) -> list[str]:
        if w.startswith("NEG_"):
            w = w[4:]
        w = w[:12]
        lo, hi = sizes
        p = " " + w + " "
        n_p = len(p)
        return [p[i : i + n] for n in range(lo, min(hi, n_p) + 1) for i in range(n_p - n + 1)]

    def analyze(self, text: str) -> tuple[list[str], list[str]]:
        """Word features and char features of one text (strings, with repeats)."""
        words = self.words(text)
        chars: list[str] = []
        sizes = self.char_ngrams
        if sizes:
            for w in words:
                chars += self._char_ngrams_of(w, sizes)
        return self._word_ngrams(words), chars

    # -- fitting ------------------------------------------------------------------------
    def fit(self, texts: Sequence[str]) -> Vectorizer:
        df_w: Counter[str] = Counter()
        df_c: Counter[str] = Counter()
        for t in texts:
            w, c = self.analyze(t)
            df_w.update(set(w))
            df_c.update(set(c))
        n = len(texts)
        keys_w = sorted(k for k, v in df_w.items() if v >= self.min_df)
        keys_c = sorted(k for k, v in df_c.items() if v >= self.min_df)
        vocab: dict[str, int] = {}
        idf = []
        for k in keys_w:
            vocab["w|" + k] = len(vocab)
            idf.append(math.log((1 + n) / (1 + df_w[k])) + 1.0)
        for k in keys_c:
            vocab["c|" + k] = len(vocab)
            idf.append(math.log((1 + n) / (1 + df_c[k])) + 1.0)
        self.load_state(list(vocab), np.asarray(idf, dtype=np.float32))
        return self

    # -- transforming -------------------------------------------------------------------
    def one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Feature indices and TF-IDF values of one text (same values as :meth:`analyze` + vocab)."""
        words = self.words(text)
        idf = self.idf
        get = self._vw.get
        w_idx = [i for i in map(get, self._word_ngrams(words)) if i is not None]
        idx_w, val_w = self._block(w_idx, idf)
        sizes = self.char_ngrams
        if not sizes:
            return idx_w, val_w
        cache = self._char_cache
        c_idx: list[int] = []
        for w in words:
            ids = cache.get(w)
            if ids is None:
                vget = self._vc.get
                ids = [i for i in map(vget, self._char_ngrams_of(w, sizes)) if i is not None]
                if len(cache) > 200_000:
                    cache.clear()
                cache[w] = ids
            c_idx += ids
        idx_c, val_c = self._block(c_idx, idf)
        if self.char_weight != 1.0 and len(val_c):
            val_c *= self.char_weight
        return np.concatenate((idx_w, idx_c)), np.concatenate((val_w, val_c))

    @staticmethod
    def _block(ids: list[int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sorted unique ids (a fixed summation order) and their L2-normalised sublinear TF-IDF."""
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ia, tf = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
        va = (np.log(tf.astype(np.float32)) + 1.0) * idf[ia]
        va /= np.sqrt(np.dot(va, va))
        return ia, va

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        indptr = [0]
        all_idx = []
        all_val = []
        for t in texts:
            i, v = self.one(t)
            all_idx.append(i)
            all_val.append(v)
            indptr.append(indptr[-1] + len(i))
        n_rows = len(indptr) - 1
        idx = np.concatenate(all_idx) if all_idx else np.zeros(0, dtype=np.int64)
        val = np.concatenate(all_val) if all_val else np.zeros(0, dtype=np.float32)
        return sparse.csr_matrix((val, idx, np.asarray(indptr)), shape=(n_rows, len(self.vocab)))

    # -- serialisation ------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return {
            "word_ngrams": self.word_ngrams,
            "char_ngrams": list(self.char_ngrams) if self.char_ngrams else None,
            "min_df": self.min_df,
            "char_weight": self.char_weight,
        }

    def state(self) -> dict[str, Any]:
        keys = [""] * len(self.vocab)
        for k, i in self.vocab.items():
            keys[i] = k
        return {"keys": keys, "idf": self.idf}

    def load_state(self, keys: Sequence[str], idf: np.ndarray) -> None:
        self.vocab = {k: i for i, k in enumerate(keys)}
        self._vw = {k[2:]: i for k, i in self.vocab.items() if k.startswith("w|")}
        self._vc = {k[2:]: i for k, i in self.vocab.items() if k.startswith("c|")}
        self._char_cache = {}
        self.idf = np.asarray(idf, dtype=np.float32)
