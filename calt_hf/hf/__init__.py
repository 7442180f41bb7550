"""Hugging Face packaging: Parquet shards, the dataset card, ``DatasetDict`` loading and Hub upload."""
