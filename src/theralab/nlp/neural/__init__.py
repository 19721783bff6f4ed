"""nlp.neural."""
