"""Captioning: vector -> sequence. A CNN encodes the image; an RNN decoder writes the caption."""
