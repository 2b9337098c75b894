"""A tiny multilingual static-embedding sentence-transformers model, made locally for tests.

Its WordPiece vocabulary is trained on the texts given (any script), and its token
vectors are random with a fixed seed, so a text's vector is the mean of its tokens'
vectors: texts sharing words are near each other. No model hub is involved. It is the
model2vec / StaticEmbedding kind: it has no `max_seq_length` (reports infinity).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def make_static_model(folder: Path, texts: Iterable[str], *, dimension: int = 64) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(list(texts), trainers.WordPieceTrainer(vocab_size=2000, special_tokens=["[UNK]", "[PAD]"]))
    generator = torch.Generator().manual_seed(0)
    weights = torch.randn(tokenizer.get_vocab_size(), dimension, generator=generator)
    model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights)], device="cpu")
    model.save(str(folder))
    return folder
