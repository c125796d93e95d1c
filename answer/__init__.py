"""From a question to a cited reply: reading the question, understood search, sentences,
not found, precedent lists, citation, export, the optional language model."""
