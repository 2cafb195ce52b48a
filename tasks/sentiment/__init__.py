"""Sentiment: sequence -> vector on Rotten Tomatoes snippets."""
