"""Translation: encoder -> decoder (N-to-M) on English -> Spanish Bible verses, with attention and beam search."""
